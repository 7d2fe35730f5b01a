"""Signals of machine-made pages that the Gopher, C4 and FineWeb statistics do not see, in any language.

Why: the published rules catch repetition (n-gram and line duplicates), missing function words and
list-like layout. Spam generators get past them by never repeating themselves: word salad drawn from a
vocabulary, lorem-ipsum template filler that only sometimes opens with "Lorem ipsum", link-exchange pages
whose lines are anchor text plus a URL, and menus or boilerplate made of short unrelated lines. Each
signal below measures one of these, with a definition that works for space-separated and CJK text:

- `distinct_word_ratio`: mean type/token ratio of the words over consecutive windows of
  `WINDOW_WORDS` words (the mean segmental TTR; lowercased; one window over the whole text when it is
  shorter). Real prose repeats its words (Zipf: function words, the topic's terms), so ~0.45-0.8 of a
  window is distinct; words drawn uniformly from a vocabulary, or random letter strings, are ~0.95-1.
  Windows make it independent of the page length, which raw TTR is not.
- `lorem_word_ratio`: share of words from the lorem-ipsum generators' vocabulary (words of >= 4 letters
  of `spam.LOREM_WORDS`; short ones such as "in", "et", "a" are real words of many languages).
- `url_lines_ratio`: share of non-empty lines that hold a URL (`scheme://` or `www.`): link farms
  and doorway pages are lists of links; documentation cites a URL on a few lines.
- `long_line_char_frac`: share of the text's characters (without whitespace) in lines of at least
  `LONG_LINE_WORDS` words (`LONG_LINE_CHAR_TOKENS` tokens when words are characters, as in Chinese):
  the running sentences a page has. A menu, a breadcrumb trail or a footer is short lines only;
  documentation with tables and headings still has paragraphs.
"""

from __future__ import annotations

import re
from functools import lru_cache

WINDOW_WORDS = 100
LONG_LINE_WORDS = 8
LONG_LINE_CHAR_TOKENS = 16
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|\bwww\.)\S", re.IGNORECASE)

JUNK_SIGNALS: tuple[str, ...] = ("distinct_word_ratio", "lorem_word_ratio", "url_lines_ratio", "long_line_char_frac")


@lru_cache(maxsize=1)
def lorem_markers() -> frozenset[str]:
    from goldpan.filter.spam import LOREM_WORDS

    return frozenset(w for w in LOREM_WORDS if len(w) >= 4)


def distinct_word_ratio(words: list[str], window: int = WINDOW_WORDS) -> float:
    """Mean type/token ratio over consecutive windows of `window` words (a short text: one window).

    The last, partial window is dropped when there is at least one full window, so every ratio
    is over the same number of words.
    """
    if not words:
        return 0.0
    low = [w.lower() for w in words]
    if len(low) < window:
        return len(set(low)) / len(low)
    ratios = [len(set(low[i : i + window])) / window for i in range(0, len(low) - window + 1, window)]
    return sum(ratios) / len(ratios)


def lorem_word_ratio(words: list[str]) -> float:
    if not words:
        return 0.0
    markers = lorem_markers()
    return sum(1 for w in words if w.lower() in markers) / len(words)


def url_lines_ratio(lines: list[str]) -> float:
    non_empty = [ln for ln in lines if ln.strip()]
    if not non_empty:
        return 0.0
    return sum(1 for ln in non_empty if _URL.search(ln)) / len(non_empty)


def long_line_char_frac(lines: list[str], line_words: list[int], char_tokens: bool) -> float:
    """Characters (whitespace left out) in lines of at least LONG_LINE_WORDS words / all characters.

    `line_words[i]` = words (non-punctuation tokens) of `lines[i]`.
    """
    need = LONG_LINE_CHAR_TOKENS if char_tokens else LONG_LINE_WORDS
    total = long = 0
    for line, n in zip(lines, line_words):
        chars = len(line) - sum(1 for c in line if c.isspace())
        total += chars
        if n >= need:
            long += chars
    return long / total if total else 0.0
