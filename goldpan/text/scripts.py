"""Writing systems of characters: which script a letter belongs to, and what counts as a letter.

Why a module of its own: "contains a letter" (Gopher's alphabetic-word test), the language-ID fallback
for short texts and the mixed-script checks all need the same answer for Cyrillic, Greek, Arabic,
Devanagari, Hangul, kana and Han. `str.isalpha` alone is not it: Devanagari, Bengali or Thai vowel
signs are combining marks (category Mc/Mn), so a Hindi word such as "किताब" is letters *and* marks, and
a token made only of a mark is not a word either. Script ranges follow the Unicode blocks; a
character outside every listed block is reported as "Other" (or "Latin" when it is an ASCII letter).
"""

from __future__ import annotations

import bisect
import unicodedata
from collections import Counter
from functools import lru_cache

# (first code point, last code point, script), sorted by first code point.
_BLOCKS: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"),
    (0x1E00, 0x1EFF, "Latin"), (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"), (0x1C80, 0x1C8F, "Cyrillic"), (0x2DE0, 0x2DFF, "Cyrillic"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"), (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"), (0x0980, 0x09FF, "Bengali"), (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"), (0x0B00, 0x0B7F, "Oriya"), (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"), (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"), (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"), (0x1000, 0x109F, "Myanmar"), (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"), (0xAC00, 0xD7AF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"), (0x1780, 0x17FF, "Khmer"),
    (0x3040, 0x309F, "Hiragana"), (0x30A0, 0x30FF, "Katakana"), (0x31F0, 0x31FF, "Katakana"),
    (0xFF66, 0xFF9F, "Katakana"),
    (0x2E80, 0x2FDF, "Han"), (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"),
    (0x20000, 0x2FA1F, "Han"), (0x3100, 0x312F, "Bopomofo"),
])
_STARTS = [b[0] for b in _BLOCKS]


@lru_cache(maxsize=65_536)
def script_of(ch: str) -> str:
    """The script of one character ("Latin", "Cyrillic", "Han", ...), "Common" for non-letters."""
    if not (ch.isalpha() or unicodedata.category(ch)[0] == "M"):
        return "Common"
    o = ord(ch)
    i = bisect.bisect_right(_STARTS, o) - 1
    if i >= 0 and _BLOCKS[i][0] <= o <= _BLOCKS[i][1]:
        return _BLOCKS[i][2]
    return "Other"


@lru_cache(maxsize=262_144)
def has_letter(token: str) -> bool:
    """True when the token carries a letter of any script (a letter, or a combining mark after one).

    Digits, punctuation, symbols and lone combining marks never count, whatever the language.
    """
    return any(c.isalpha() for c in token)


def script_counts(text: str) -> Counter[str]:
    """Letters per script in `text` (Common characters are not counted)."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            counts[script_of(ch)] += 1
    return counts


# The language a script alone points to, for short texts the language-ID model cannot judge.
# Scripts shared by several languages (Latin, Cyrillic, Arabic, Devanagari...) are not listed:
# for them the model's guess stands.
SCRIPT_LANG: dict[str, str] = {
    "Hangul": "ko", "Hiragana": "ja", "Katakana": "ja", "Greek": "el", "Hebrew": "he", "Armenian": "hy",
    "Georgian": "ka", "Thai": "th", "Lao": "lo", "Khmer": "km", "Bengali": "bn", "Tamil": "ta",
    "Telugu": "te", "Kannada": "kn", "Malayalam": "ml", "Gujarati": "gu", "Gurmukhi": "pa",
    "Sinhala": "si", "Myanmar": "my", "Tibetan": "bo", "Oriya": "or",
}


def script_language(text: str, min_share: float = 0.5) -> str | None:
    """The language implied by the text's dominant script, or None when the script is shared.

    Japanese is recognised by kana together with Han (kana is ~30-60 % of Japanese letters); a text
    with Han letters and no kana at all is Chinese.
    """
    counts = script_counts(text)
    total = sum(counts.values())
    if not total:
        return None
    kana = counts["Hiragana"] + counts["Katakana"]
    if kana / total >= 0.1 and (kana + counts["Han"]) / total >= min_share:
        return "ja"
    script, n = counts.most_common(1)[0]
    if n / total < min_share:
        return None
    if script == "Han":
        return "zh"
    return SCRIPT_LANG.get(script)
