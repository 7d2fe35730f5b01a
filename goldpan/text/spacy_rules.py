"""spaCy's tokenizer rules for a language, without building its `Tokenizer` up front.

Why: building `spacy.blank(lang).tokenizer` loads every special case (tokenizer exception) into the
tokenizer's vocabulary and special-case matcher, one `add_special_case` each: Indonesian has 15,963
of them (1.8 s per process), Dutch 4,670 (0.3 s). Every worker process paid that for every language
it met, in parallel on every core, which is a fixed cost per worker that no worker count divides
(bench/ray_engine.py: 6 s of language set-up per worker over 20 languages). Yet the fast path
(goldpan.text.spacy_fast) only reads the compiled affix rules and the exceptions as a dict.

`SpacyRules` holds exactly what `FastChunkTokenizer` reads (the same compiled patterns and the same
exception dict spaCy's default tokenizer factory passes to `Tokenizer`). A chunk the fast path
declines is tokenized by a real spaCy `Tokenizer` with the same affix rules and only the exceptions
whose keys occur in that chunk: spaCy consults an exception only for a substring of the chunk (the
affix loop looks up the remaining string, the special-case matcher matches runs of the chunk's own
tokens), so the tokens are those of the full tokenizer. Languages whose blank pipeline uses another
tokenizer (Chinese, Japanese, Korean, Thai, Vietnamese, ...) are not handled here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

DEFAULT_TOKENIZER = "spacy.Tokenizer.v1"
#: affix patterns this long come from the regex disk cache too: a language's prefix, suffix and infix
#: patterns (2-20k characters each) took 20-50 ms of its ~60 ms set-up, in every worker that met it
AFFIX_PATTERN_MIN_CHARS = 2_000
#: spaCy tokenizers kept per language, one per distinct set of exceptions met in declined chunks
MAX_TOKENIZERS = 256


class SpacyRules:
    """The rules of spaCy's blank `lang` tokenizer; `tokens(chunk)` runs spaCy on one chunk."""

    def __init__(self, lang: str) -> None:
        from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, get_lang_class
        from spacy.vocab import create_vocab

        from goldpan.text.regex_cache import cached_compiles

        # French compiles a 1.45 MB pattern on import; every language compiles its affix patterns below.
        # Nothing raises inside the block, so what the import compiled is recorded for any language.
        with cached_compiles(f"spacy-lang-{lang}", min_chars=AFFIX_PATTERN_MIN_CHARS):
            cls = get_lang_class(lang)
            factory = cls.default_config.get("nlp", {}).get("tokenizer", {}).get("@tokenizers")
            defaults = cls.Defaults
            if factory == DEFAULT_TOKENIZER:
                # As spaCy's default tokenizer factory (spacy.language.create_tokenizer) builds them.
                prefix = compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None
                suffix = compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None
                infix = compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None
        if factory != DEFAULT_TOKENIZER:
            raise NotRuleBased(f"spaCy's {lang!r} pipeline uses the tokenizer {factory!r}")
        self.lang = lang
        self.prefix_search: Callable | None = prefix
        self.suffix_search: Callable | None = suffix
        self.infix_finditer: Callable | None = infix
        self.token_match: Callable | None = defaults.token_match
        self.url_match: Callable | None = defaults.url_match
        self.rules: dict[str, list[dict[Any, str]]] = dict(defaults.tokenizer_exceptions or {})
        self._vocab = create_vocab(lang, defaults)
        self._key_lengths = sorted({len(k) for k in self.rules})
        self._tokenizers: OrderedDict[frozenset[str], Any] = OrderedDict()
        self._lock = threading.Lock()  # a run's steps share one process's languages from several threads

    def tokens(self, chunk: str) -> list[str]:
        """spaCy's tokens of one whitespace-free chunk (the full tokenizer's, see the module docstring)."""
        return [t.text for t in self._tokenizer(self._keys_in(chunk))(chunk)]

    def _keys_in(self, chunk: str) -> frozenset[str]:
        """The exception keys that occur in `chunk` (by key length: a few dict lookups per position,
        not a scan of every key, which is 16k substring tests for Indonesian)."""
        rules, n = self.rules, len(chunk)
        return frozenset(chunk[i:i + k] for k in self._key_lengths if k <= n for i in range(n - k + 1)
                         if chunk[i:i + k] in rules)

    def _tokenizer(self, keys: frozenset[str]):
        """A spaCy Tokenizer with these exceptions only; the few distinct sets are kept (most declined
        chunks hold none, or the same emoticon or abbreviation)."""
        with self._lock:
            tok = self._tokenizers.get(keys)
            if tok is not None:
                self._tokenizers.move_to_end(keys)
                return tok
            from spacy.tokenizer import Tokenizer

            tok = Tokenizer(self._vocab, rules={k: self.rules[k] for k in sorted(keys)},
                            prefix_search=self.prefix_search, suffix_search=self.suffix_search,
                            infix_finditer=self.infix_finditer, token_match=self.token_match,
                            url_match=self.url_match)
            self._tokenizers[keys] = tok
            if len(self._tokenizers) > MAX_TOKENIZERS:
                self._tokenizers.popitem(last=False)
            return tok


class NotRuleBased(ValueError):
    """The language's blank pipeline does not use spaCy's rule-based tokenizer."""
