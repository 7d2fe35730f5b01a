"""Units and n-grams for overlap detection, comparable across English and Chinese.

Words are the unit for space-delimited scripts and single characters for CJK (Chinese has no
spaces, and a 13-character overlap is about as specific as 13 English words is for GPT-3's
decontamination). A text is normalised the same way on both sides: case-folded, NFKC (so
full-width digits and letters match), punctuation and whitespace dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator

# CJK unified ideographs (+ extension A, compatibility), hiragana/katakana, hangul syllables.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_UNIT = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)


def units(text: str | None) -> list[str]:
    """Word units for alphabetic text, one unit per CJK character; punctuation is not a unit."""
    if not text:
        return []
    norm = unicodedata.normalize("NFKC", text).casefold()
    return _UNIT.findall(norm)


def ngram_key(gram: tuple[str, ...] | list[str]) -> bytes:
    """A compact key that is stable across processes (8 bytes), for persisting n-gram sets."""
    return hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest()


def ngrams(seq: list[str], n: int) -> Iterator[tuple[int, int]]:
    """(start position, key) of every n-gram of `seq`.

    The key is Python's string hash of the joined n-gram: fast (the scan is the hot loop) and stable
    within one process, which is all an in-memory index built per run needs. Matches are confirmed
    on the units themselves, so a hash collision can never reject a document.
    """
    for i in range(len(seq) - n + 1):
        yield i, hash("\x1f".join(seq[i : i + n]))


def render(seq: list[str], start: int, n: int) -> str:
    """An n-gram as readable text: CJK characters joined without spaces, words with spaces."""
    out = []
    for u in seq[start : start + n]:
        if out and not (len(u) == 1 and re.match(rf"[{_CJK}]", u) and re.match(rf"[{_CJK}]", out[-1][-1])):
            out.append(" ")
        out.append(u)
    return "".join(out)
