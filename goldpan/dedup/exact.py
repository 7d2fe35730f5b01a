"""Exact-duplicate keys: a normalised text and its SHA-1.

Why normalise before hashing: crawled copies of one page differ in ways a reader never sees
(full-width vs ASCII forms, trailing spaces, a re-wrapped paragraph, "smart" vs straight quotes,
zero-width joiners). A raw-bytes hash would keep every one of them; the near-duplicate stage
would probably catch them later, but at a cost and only probabilistically. Normalising here makes
those copies identical for a hash that costs almost nothing.

Choices (kept deliberately conservative, because an exact-duplicate hit skips all verification):

1. Unicode NFKC: full-width letters, ligatures and compatibility forms become their plain forms.
2. `str.casefold()`: a stronger lower-casing (German ß -> ss, Greek final sigma), case-only
   differences are layout (titles, ALL-CAPS banners), not content.
3. Format characters (Unicode category Cf: zero-width space/joiner, soft hyphen, BOM, bidi
   marks) are deleted: invisible, and they appear or vanish between crawls of one page.
4. Punctuation (Unicode categories P*) becomes a space instead of being deleted, so that
   "3.5" -> "3 5" stays different from "35", and "re-use" -> "re use" differs from "reuse".
   Quote style, dash style, a missing full stop or a different CJK comma therefore do not matter.
   Symbols (S*: currency, maths, emoji) are kept: "$5" and "€5" are different content.
5. Whitespace runs (any Unicode space, including line breaks) collapse to one ASCII space and the
   ends are stripped, so re-wrapping and indentation do not matter. Line structure is therefore
   *not* part of the key: two texts that differ only in where lines break are exact duplicates.

A consequence worth knowing: an empty or punctuation-only text normalises to "" and all such texts
share one hash. Upstream filters should have dropped them; if not, they collapse into one cluster.

The normalisation depends on the Unicode tables of the running Python (`unicodedata`); a Python
upgrade can in principle change the key of texts with newly assigned characters. Stored keys
should therefore be compared only with keys from the same `NORMALIZATION_VERSION`.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata

import numpy as np

# Bump when the rules above change: stored `text_sha1` values are only comparable within a version.
NORMALIZATION_VERSION = 1



def _build_translate_table() -> dict[int, str | None]:
    """Map every punctuation code point to a space and every format character to nothing.

    Built once from `unicodedata` over the whole code space (~0.3 s would be too slow per call;
    once per process it is ~0.1 s), so per-text work is a single `str.translate`.
    """
    table: dict[int, str | None] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat[0] == "P":
            table[cp] = " "
        elif cat == "Cf":
            table[cp] = None
    return table


_TABLE: dict[int, str | None] | None = None


def _table() -> dict[int, str | None]:
    global _TABLE
    if _TABLE is None:
        _TABLE = _build_translate_table()
    return _TABLE


_UTF8_TABLE: bytes | None = None
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _utf8_table() -> bytes:
    """The mapping of the ASCII code points as a bytes.translate table over UTF-8 (a C table lookup
    per byte instead of a dict lookup per character). Bytes >= 0x80 map to themselves: in UTF-8
    they only occur inside multi-byte sequences, which `_NON_ASCII` runs handle at str level."""
    global _UTF8_TABLE
    if _UTF8_TABLE is None:
        t = _table()
        _UTF8_TABLE = bytes((ord(t[c]) if c < 128 and t.get(c) else c) for c in range(256))  # type: ignore[arg-type]
    return _UTF8_TABLE


def normalize_for_hash(text: str) -> str:
    """Normalise `text` so that copies differing only in invisible or layout details are equal.

    See the module docstring for the exact rules and why each one is there.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize_for_hash expects str, got {type(text).__name__}")
    return finish_normalized(unicodedata.normalize("NFKC", text).casefold())


def finish_normalized(folded: str) -> str:
    """The rest of `normalize_for_hash` on an already NFKC-normalised, case-folded text (shingling
    does those two steps too, so a caller computing both does them once)."""
    if folded.isascii():
        t = folded.encode("ascii").translate(_utf8_table()).decode("ascii")
    elif len(folded.encode("utf-8", "surrogatepass")) > 1.5 * len(folded):  # mostly non-ASCII (CJK)
        t = folded.translate(_table())
    else:  # mostly ASCII: only the non-ASCII runs pay for the dict lookups
        table = _table()
        t = _NON_ASCII.sub(lambda m: m.group().translate(table), folded)
        t = t.encode("utf-8", "surrogatepass").translate(_utf8_table()).decode("utf-8", "surrogatepass")
    return " ".join(t.split())  # str.split() splits on exactly the characters re's \s matches


_HASH_MAP: np.ndarray | None = None
_DELETE = np.uint32(0xFFFFFFFF)  # not a code point: marks a format character to delete


def _hash_map() -> np.ndarray:
    """uint32 per code point: the code point itself, a space for punctuation and whitespace, or
    `_DELETE` for a format character (the translate table above, as an array). Built once."""
    global _HASH_MAP
    if _HASH_MAP is None:
        m = np.arange(sys.maxunicode + 1, dtype=np.uint32)
        for cp, v in _table().items():
            m[cp] = _DELETE if v is None else ord(v)
        for cp in _SPACES:
            m[cp] = 0x20
        _HASH_MAP = m
    return _HASH_MAP


# What str.split() splits on (str.isspace); listed so the table needs no scan of the code space.
_SPACES = tuple(c for c in (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                            0x2028, 0x2029, 0x202F, 0x205F, 0x3000) if chr(c).isspace())


def normalized_codepoints(cps: np.ndarray) -> np.ndarray:
    """`finish_normalized` on the code points of an NFKC-normalised, case-folded text: the same
    result as an array, in a few vectorised passes instead of str.translate/split/join (which
    cost as much as all of shingling on long pages)."""
    if cps.size == 0:
        return cps
    m = _hash_map()[cps]
    m = m[m != _DELETE]
    sp = m == 0x20
    keep = ~sp
    keep[1:] |= ~sp[:-1]  # the first space of a run only (none at the start)
    out = m[keep]
    return out[:-1] if out.size and out[-1] == 0x20 else out  # nor at the end


def sha1_of_codepoints(cps: np.ndarray) -> str:
    """`sha1_of_folded` of the text whose code points (NFKC-normalised, case-folded) are `cps`."""
    t = normalized_codepoints(cps).astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")
    return hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest()


def text_sha1(text: str) -> str:
    """Hex SHA-1 of the UTF-8 bytes of `normalize_for_hash(text)`: the exact-duplicate key.

    Lone surrogates (from a lossy upstream decode) are encoded with surrogatepass rather than
    raising, so one malformed page cannot stop a batch.
    """
    return hashlib.sha1(normalize_for_hash(text).encode("utf-8", "surrogatepass")).hexdigest()


def sha1_of_folded(folded: str) -> str:
    """`text_sha1` from the NFKC-normalised, case-folded text."""
    return hashlib.sha1(finish_normalized(folded).encode("utf-8", "surrogatepass")).hexdigest()
