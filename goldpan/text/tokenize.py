"""Words and sentences, language-aware, computed the same way by every stage.

Why one module: the reference tools re-tokenise in every filter, which dominates their cost and
lets stages disagree on what a "word" is. Here extract stores the counts, filter and dedup call
the same functions, so a word count in `documents` means the same as in `doc_signals`.

- Space-separated languages use spaCy's blank tokenizer (rules only, no model download), with a
  cache of whitespace chunk -> tokens, because spaCy tokenises each chunk independently.
- Chinese (and other scripts written without spaces: Thai, Lao, Khmer, Burmese, Tibetan) use
  characters: every Han or kana character is a token, while runs of Latin letters or digits inside such
  text stay words.
- Japanese is segmented into words by Sudachi (`sudachipy`, split mode A, its dictionary ships in the
  `sudachidict_core` wheel): the unit FineWeb-2's Japanese thresholds were calibrated in (datatrove's
  Japanese word tokenizer is spaCy's, which runs Sudachi), and the unit of its particle stop words
  (の, に, を, は ...). Its tokens still never span whitespace, and n-grams are joined without spaces.
- Korean is written with spaces between eojeol (a word plus its particles): tokens are eojeol split from
  punctuation (spaCy's multi-language rules), and word length is counted in syllables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from goldpan.text.spacy_fast import FastChunkTokenizer

CJK_LANGS = frozenset({"zh", "ja", "ko", "yue", "wuu", "th", "lo", "km", "my", "bo"})

_CJK_CHAR = (
    r"\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
_CJK_TOKEN = re.compile(rf"[{_CJK_CHAR}]|[^\s{_CJK_CHAR}\W]+|[^\s\w]", re.UNICODE)
_CJK_RE = re.compile(rf"[{_CJK_CHAR}]")
# Sentence ends for text written without spaces: CJK full stops plus ASCII ones.
_CJK_SENT_END = re.compile(r"[。！？!?；]+[」』”’)）]*|\.(?=\s|$)")


# Languages whose tokens are joined without spaces (characters, or Sudachi words for Japanese).
# Korean is CJK for dedup shingles (`is_cjk_lang`) but space-separated for words.
CHAR_TOKEN_LANGS = CJK_LANGS - {"ko"}


def _base(lang: str | None) -> str:
    return (lang or "").split("-")[0].split("_")[0].lower()


def is_cjk_lang(lang: str | None) -> bool:
    """True for languages whose text is segmented by characters rather than spaces."""
    return bool(lang) and lang.split("-")[0].split("_")[0].lower() in CJK_LANGS


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK; used when the language is unknown."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK_RE.match(c)) / len(chars)


def is_cjk_char(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


# Languages one process keeps tokenizers (and chunk caches) for. Above the number of languages a
# multilingual crawl sees: an LRU smaller than that (it was 16) evicted tokenizers and rebuilt them,
# caches emptied, as languages alternated (building a language then took up to 2-3 s: French, Indonesian).
MAX_LANGUAGES = 128


def _blank(lang: str):
    """spaCy's blank pipeline for `lang`; its multi-language rules for a code spaCy does not know. The
    language's huge regexes come from the disk cache (goldpan.text.regex_cache)."""
    import spacy  # imported lazily: ~0.7 s, and not every caller needs it

    from goldpan.text.regex_cache import cached_compiles

    try:
        with cached_compiles(f"spacy-lang-{lang}"):
            return spacy.blank(lang)
    except Exception:  # noqa: BLE001 -- spaCy raises several types for an unknown code
        return spacy.blank("xx")


@lru_cache(maxsize=MAX_LANGUAGES)
def _spacy_tokenizer(lang: str):
    return _blank(lang).tokenizer


def _chunk_rules(lang: str) -> tuple[object, str, Callable[[str], list[str]]]:
    """(rules for FastChunkTokenizer, the language they are, spaCy on one declined chunk).

    spaCy's rule-based languages come from their defaults (goldpan.text.spacy_rules: no 2 s build of
    the tokenizer's special cases per process); other languages, and codes spaCy does not know (its
    multi-language rules, as `_blank`), from the built tokenizer."""
    from goldpan.text.spacy_rules import NotRuleBased, SpacyRules

    try:
        rules = SpacyRules(lang)
        return rules, lang, rules.tokens
    except NotRuleBased:
        pass
    except Exception:  # an unknown code (spaCy raises several types): as `_blank`
        if lang != "xx":
            return _chunk_rules("xx")
        raise
    tok = _spacy_tokenizer(lang)
    return tok, tok.vocab.lang, lambda chunk: [t.text for t in tok(chunk)]


@lru_cache(maxsize=MAX_LANGUAGES)
def _chunk_cache(lang: str):
    rules, rules_lang, spacy_tokens = _chunk_rules(lang)
    # Cache misses are most of the cost on real, diverse text: replay spaCy's rules in Python
    # (goldpan.text.spacy_fast, exact or it declines) and call spaCy only for the declined chunks.
    fast = FastChunkTokenizer(rules, english_shortcut=(rules_lang == "en"))

    @lru_cache(maxsize=200_000)
    def split_chunk(chunk: str) -> tuple[str, ...]:
        out = fast(chunk)
        if out is None:
            return tuple(spacy_tokens(chunk))
        return tuple(out)

    return split_chunk


def spacy_chunk_tokens(chunk: str, lang: str) -> list[str]:
    """Plain spaCy tokens of one chunk, no fast path and no cache: the reference for tests/benches."""
    return [t.text for t in _spacy_tokenizer(lang)(chunk)]


def uses_char_tokens(text: str, lang: str | None) -> bool:
    """True when `tokens(text, lang)` writes without spaces (characters, or Sudachi words for Japanese):
    a CJK language other than Korean, or an unknown language whose text is mostly CJK."""
    return _base(lang) in CHAR_TOKEN_LANGS or (lang in (None, "", "unknown") and cjk_ratio(text) > 0.3)


@lru_cache(maxsize=1)
def _sudachi():
    from sudachipy import Dictionary, SplitMode  # imported lazily: only Japanese text needs it

    return Dictionary(dict="core").create(), SplitMode.A


@lru_cache(maxsize=200_000)
def _ja_chunk(chunk: str) -> tuple[str, ...]:
    """Sudachi words of one whitespace-free chunk; runs of Latin letters/digits stay one token."""
    tok, mode = _sudachi()
    out: list[str] = []
    # Sudachi refuses inputs above ~49,149 bytes; chunks that long are not prose anyway.
    for i in range(0, len(chunk), 4096):
        out.extend(m.surface() for m in tok.tokenize(chunk[i : i + 4096], mode))
    return tuple(t for t in out if t and not t.isspace())


def _ja_tokenize(piece: str) -> list[str]:
    return [t for chunk in piece.split() for t in _ja_chunk(chunk)]


def tokenizer_for(text: str, lang: str | None) -> Callable[[str], list[str]]:
    """A function that tokenises any piece of `text` exactly as `tokens(text, lang)` would.

    Why: the filter works line by line (C4 line rules, sentence counts) and also needs the tokens
    of the whole document. Tokens never span whitespace, so the tokens of the lines, concatenated,
    are the tokens of the document: one tokenisation serves both, the per-language decision
    (characters or spaCy) is taken once for the whole document.
    """
    if _base(lang) == "ja":
        return _ja_tokenize
    if uses_char_tokens(text, lang):
        return _CJK_TOKEN.findall
    # Korean: eojeol by the multi-language rules (spaCy's "ko" needs mecab-ko, which is not installed).
    split_chunk = _chunk_cache("xx" if _base(lang) == "ko" else (lang or "xx").split("-")[0].lower())

    def tokenize(piece: str) -> list[str]:
        try:  # one comprehension: called per line, the loop overhead matters on cache hits
            return [t for chunk in piece.split() for t in split_chunk(chunk)]
        except UnicodeEncodeError:
            pass
        out: list[str] = []
        for chunk in piece.split():
            try:
                out.extend(split_chunk(chunk))
            except UnicodeEncodeError:  # a lone surrogate from a lossy decode: tokenise a repaired copy
                out.extend(split_chunk(chunk.encode("utf-8", "replace").decode("utf-8")))
        return out

    return tokenize


def tokens(text: str, lang: str | None) -> list[str]:
    """All tokens of `text` (words and punctuation), never whitespace."""
    return tokenizer_for(text, lang)(text)


@lru_cache(maxsize=1)
def sentence_punct_chars() -> frozenset[str]:
    """spaCy's sentencizer punctuation (`Sentencizer.default_punct_chars`): ends a sentence."""
    from spacy.pipeline.sentencizer import Sentencizer

    return frozenset(Sentencizer.default_punct_chars)


def is_spacy_punct(tok: str) -> bool:
    """spaCy's `Token.is_punct`: every character is Unicode punctuation (category P*)."""
    return all(unicodedata.category(c)[0] == "P" for c in tok)


def count_token_sentences(toks: list[str]) -> int:
    """Sentences in one line's tokens, by spaCy's sentencizer rule, without building a spaCy Doc.

    The sentencizer starts a new sentence at the first token after a sentence-ending character
    (`sentence_punct_chars`) that is neither punctuation nor such a character. Re-implemented over
    the cached tokens because building a Doc per line is what makes datatrove's C4 filter slow;
    the rule applies unchanged to CJK character tokens (。！？ are in spaCy's list).
    """
    if not toks:
        return 0
    ends = sentence_punct_chars()
    if ends.isdisjoint(toks):  # no sentence end: one sentence (the loop below would not count another)
        return 1
    n = 1
    seen_end = False
    for tok in toks:
        if tok in ends:
            seen_end = True
        elif seen_end and not _is_spacy_punct_cached(tok):
            n += 1
            seen_end = False
    return n


@lru_cache(maxsize=65_536)
def _is_spacy_punct_cached(tok: str) -> bool:
    return is_spacy_punct(tok)


def is_punct_token(tok: str) -> bool:
    """A token made only of punctuation or symbols (Unicode categories P* and S*)."""
    return all(unicodedata.category(c)[0] in "PS" for c in tok)


@lru_cache(maxsize=262_144)
def is_word_token(tok: str) -> bool:
    """Not `is_punct_token`: what Gopher calls a word. Cached: tokens repeat heavily across documents."""
    return not is_punct_token(tok)


def words(text: str, lang: str | None) -> list[str]:
    """Tokens that are not pure punctuation or symbols: what Gopher calls words."""
    return [t for t in tokens(text, lang) if not is_punct_token(t)]


def count_sentences(text: str, lang: str | None) -> int:
    """Sentence count: spaCy's rule-based sentencizer for space-separated text, CJK stops otherwise."""
    if not text.strip():
        return 0
    if is_cjk_lang(lang):
        n = 0
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            parts = [p for p in _CJK_SENT_END.split(line) if p.strip()]
            n += max(1, len(parts))
        return n
    nlp = _sentencizer((lang or "xx").split("-")[0].lower())
    n = 0
    # One paragraph at a time keeps spaCy's memory bounded on very long pages, and a line break
    # between paragraphs is always a sentence boundary in extracted text.
    for para in text.split("\n"):
        if para.strip():
            n += sum(1 for _ in nlp(para).sents)
    return n


@lru_cache(maxsize=MAX_LANGUAGES)
def _sentencizer(lang: str):
    nlp = _blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp
