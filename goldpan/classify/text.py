"""Text → one fastText input line.

Why: fastText splits tokens on whitespace only. Without preprocessing "water." and "water" are
different words, newlines end the example, and Chinese (no spaces) would be a single "word" per
sentence. We lower-case, cut the text at `max_chars` (scoring cost is linear in tokens; the head of a
page carries most of its quality signal), pad ASCII punctuation and every CJK character with spaces
(characters as tokens, bigrams through wordNgrams=2), and fold all whitespace into single spaces.
One `re.sub` per rule keeps this in C: it must not dominate the ~20k docs/s scoring budget.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs (+ext A), CJK punctuation, full-width forms, kana: one token per character.
_CJK = re.compile(r"([\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])")
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_SPACE = re.compile(r"\s+")


def fasttext_line(text: str | None, max_chars: int = 10_000) -> str:
    """The fastText tokens of `text` as one line (possibly empty)."""
    if not text:
        return ""
    t = text[:max_chars].lower()
    t = _PUNCT.sub(r" \1 ", t)
    t = _CJK.sub(r" \1 ", t)
    return _SPACE.sub(" ", t).strip()
