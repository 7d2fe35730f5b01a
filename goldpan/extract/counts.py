"""Token, word and sentence counts of a document, computed once at extract time.

Why here: later stages read `n_words`/`n_sentences`/`n_tokens` from `documents` instead of
re-tokenising. The tokens and the sentence rule are goldpan.text.tokenize's (spaCy's blank
tokenizer rules with a chunk cache, one token per Han character for Chinese; spaCy's
`Sentencizer` rule replayed on those tokens), so the counts mean the same as in the filter stage.
Optional jieba words for Chinese (recipe `extract.zh_segmenter: jieba`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from goldpan.text.tokenize import count_sentences, count_token_sentences, tokenizer_for, uses_char_tokens
from goldpan.text.tokenize import is_punct_token as _is_punct_token


@dataclass(frozen=True)
class TextCounts:
    n_chars: int
    n_tokens: int  # words and punctuation
    n_words: int  # tokens that are not pure punctuation/symbols
    n_sentences: int
    n_lines: int  # lines including blank ones (newlines + 1), as the foundation defined it
    n_paragraphs: int  # blocks separated by blank lines
    segmenter: str  # spacy | chars | jieba


@lru_cache(maxsize=200_000)
def is_punct_token(tok: str) -> bool:
    """goldpan.text.tokenize's word test, memoised: the same tokens recur across a batch."""
    return _is_punct_token(tok)


class _WordFlags(dict):
    """token -> 1 if it counts as a word, else 0; filled on first sight.

    Why a dict subclass: `sum(map(flags.__getitem__, toks))` stays in C for every token already
    seen (nearly all of them in a batch), where a Python-level test per token was a third of the
    extract stage. Bounded so a hostile batch of unique tokens cannot grow it without limit.
    """

    MAX = 500_000

    def __missing__(self, tok: str) -> int:
        flag = 0 if _is_punct_token(tok) else 1
        if len(self) < self.MAX:
            self[tok] = flag
        return flag


_WORD_FLAGS = _WordFlags()


def count_words(toks: list[str]) -> int:
    """Tokens that are not pure punctuation/symbols."""
    return sum(map(_WORD_FLAGS.__getitem__, toks))


def count_text(text: str, lang: str | None, zh_segmenter: str = "chars") -> TextCounts:
    """All counts of `text` in one pass over its lines."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    n_paragraphs = sum(1 for p in text.split("\n\n") if p.strip())
    n_lines = text.count("\n") + 1 if text else 0
    base = (lang or "").split("-")[0].split("_")[0].lower()
    if uses_char_tokens(text, lang):
        if base == "zh" and zh_segmenter == "jieba":
            from goldpan.text.segment_zh import jieba_tokens

            toks = [t for ln in lines for t in jieba_tokens(ln)]
            segmenter = "jieba"
        else:
            toks = tokenizer_for(text, lang)(text)
            segmenter = "chars"
        n_words = count_words(toks)
        return TextCounts(
            len(text), len(toks), n_words, count_sentences(text, lang), n_lines, n_paragraphs, segmenter
        )
    tokenize = tokenizer_for(text, lang)
    n_tok = n_words = n_sent = 0
    for ln in lines:
        toks = tokenize(ln)
        n_tok += len(toks)
        n_words += count_words(toks)
        n_sent += count_token_sentences(toks)
    return TextCounts(len(text), n_tok, n_words, n_sent, n_lines, n_paragraphs, "spacy")
