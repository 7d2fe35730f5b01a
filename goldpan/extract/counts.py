"""Token, word and sentence counts of a document, computed once at extract time.

Why here: later stages read `n_words`/`n_sentences` from `documents` instead of re-tokenising.
The tokens are goldpan.text.tokenize's (spaCy's blank tokenizer rules with a chunk cache, one token
per Han character for Chinese), so the counts mean the same as in the filter stage.

Sentences: for space-separated languages this replays spaCy's rule-based `Sentencizer` on the
cached tokens of each line (a token in the sentencizer's punctuation set ends a sentence once a
non-punctuation token follows). That is the same decision spaCy makes (a unit test compares them
on real text) without running the uncached spaCy pipeline over every line, which would cost more
than the rest of the stage together.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from goldpan.text.tokenize import count_sentences, is_cjk_lang, is_punct_token, tokens


@dataclass(frozen=True)
class TextCounts:
    n_chars: int
    n_tokens: int  # words and punctuation
    n_words: int  # tokens that are not pure punctuation/symbols
    n_sentences: int
    n_lines: int  # lines including blank ones (newlines + 1), as the foundation defined it
    n_paragraphs: int  # blocks separated by blank lines
    segmenter: str  # spacy | chars | jieba


@lru_cache(maxsize=1)
def _punct_chars() -> frozenset[str]:
    from spacy.pipeline.sentencizer import Sentencizer

    return frozenset(Sentencizer.default_punct_chars)


@lru_cache(maxsize=100_000)
def _is_punct(tok: str) -> bool:
    """spaCy's `Token.is_punct`: every character is Unicode punctuation (category P*)."""
    return all(unicodedata.category(c).startswith("P") for c in tok)


def sentences_in_tokens(toks: list[str]) -> int:
    """spaCy Sentencizer's sentence count for one line's tokens."""
    if not toks:
        return 0
    punct = _punct_chars()
    n = 1
    seen_period = False
    for t in toks:
        in_punct = t in punct
        if seen_period and not in_punct and not _is_punct(t):
            n += 1
            seen_period = False
        elif in_punct:
            seen_period = True
    return n


def count_text(text: str, lang: str | None, zh_segmenter: str = "chars") -> TextCounts:
    """All counts of `text` in one pass over its lines."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    n_paragraphs = sum(1 for p in text.split("\n\n") if p.strip())
    base = (lang or "").split("-")[0].split("_")[0].lower()
    if is_cjk_lang(lang):
        if base == "zh" and zh_segmenter == "jieba":
            from goldpan.text.segment_zh import jieba_tokens

            toks = [t for ln in lines for t in jieba_tokens(ln)]
            segmenter = "jieba"
        else:
            toks = tokens(text, lang)
            segmenter = "chars"
        n_words = sum(1 for t in toks if not is_punct_token(t))
        return TextCounts(
            len(text), len(toks), n_words, count_sentences(text, lang), _n_lines(text), n_paragraphs, segmenter
        )
    n_tok = n_words = n_sent = 0
    for ln in lines:
        toks = tokens(ln, lang)
        n_tok += len(toks)
        n_words += sum(1 for t in toks if not is_punct_token(t))
        n_sent += sentences_in_tokens(toks)
    return TextCounts(len(text), n_tok, n_words, n_sent, _n_lines(text), n_paragraphs, "spacy")


def _n_lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0
