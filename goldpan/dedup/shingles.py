"""Shingles: the set of overlapping n-grams whose overlap MinHash estimates and verification measures.

- Space-separated languages: word n-grams (default 5, FineWeb's setting) over the words of the
  NFKC-normalised, case-folded text, where a word is a maximal run of `\\w` characters. This is
  datatrove's `simplify_text` + word n-grams in spirit (lower case, punctuation removed), and it
  makes a changed quote or dash style cost nothing. Dedup does not call the filters' spaCy
  tokenizer: shingles only need to be consistent with themselves, and a regex is ~50x faster.
- CJK (`is_cjk_lang`): character n-grams (default 5) over the text with whitespace and
  punctuation removed. A "word" there is one character, so 5-character shingles carry about as
  much context as ~2-3 English words.

Why the hashing is vectorised: per-shingle Python work (join + hash of every n-gram) dominated
the old implementation. Here each distinct *word* is hashed once (xxh3_64, cached per call), and
every n-gram hash is a polynomial combination of its word hashes computed with numpy over the
whole document, followed by a 64-bit finaliser (murmur3 fmix64) so MinHash sees well-mixed bits.
For CJK, code points are mixed the same way, so no per-character Python work remains.

Texts shorter than n tokens give one shingle made of all their tokens, so a short document still
gets a signature (and matches only a document with the same short token sequence). A text with no
tokens gives an empty array, and the MinHash layer then refuses to match it with anything.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

from goldpan.text.tokenize import is_cjk_lang

# Fixed seed of the word hash. Changing it changes every signature and band key.
SHINGLE_SEED = 0x601D9A4
# Version of the shingling scheme; part of the index config id, so stored keys never mix schemes.
SHINGLE_VERSION = 2
# Odd multiplier of the polynomial n-gram combination (a 64-bit prime).
_POLY = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)

_WORD = re.compile(r"\w+", re.UNICODE)
_NON_CONTENT = re.compile(r"[\s\W_]+", re.UNICODE)  # whitespace and punctuation (and symbols)
_SURROGATE = re.compile("[\ud800-\udfff]")


def fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, elementwise: full avalanche, bijective, uint64 wrap-around."""
    x = x ^ (x >> _S33)
    x = x * _M1
    x = x ^ (x >> _S33)
    x = x * _M2
    return x ^ (x >> _S33)


def normalize_for_shingles(text: str) -> str:
    """NFKC + casefold, with lone surrogates (lossy upstream decodes) made harmless."""
    return unicodedata.normalize("NFKC", _SURROGATE.sub("\ufffd", text)).casefold()


def has_surrogates(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None  # isascii() is O(1) in CPython


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values: a sort and a neighbour mask (numpy 2's hash-based `np.unique` is
    ~10x slower on uint64 shingle hashes, and shingling is the hot loop of dedup)."""
    if a.size <= 1:
        return a.copy()
    s = np.sort(a)
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def word_tokens(text: str) -> list[str]:
    """The words dedup shingles for space-separated languages (see module docstring)."""
    return _WORD.findall(normalize_for_shingles(text))


class _WordHashCache(dict):
    """word -> xxh3_64, shared across documents: web text is Zipfian, so most words of a new page
    were hashed before and cost one C-level dict lookup. Cleared when it grows past `MAX_WORDS`."""

    MAX_WORDS = 2_000_000

    def __missing__(self, w: str) -> int:
        v = xxhash.xxh3_64_intdigest(w.encode("utf-8", "surrogatepass"), SHINGLE_SEED)
        self[w] = v
        return v


_WORD_CACHE = _WordHashCache()


def _word_hashes(ws: list[str]) -> np.ndarray:
    if len(_WORD_CACHE) > _WordHashCache.MAX_WORDS:
        _WORD_CACHE.clear()
    return np.fromiter(map(_WORD_CACHE.__getitem__, ws), dtype=np.uint64, count=len(ws))


def _char_hashes(s: str) -> np.ndarray:
    cps = np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    return fmix64(cps ^ np.uint64(SHINGLE_SEED))


def _ngram_sequence(tok: np.ndarray, n: int) -> np.ndarray:
    """Hashes of every n-gram of the token-hash sequence `tok` (length >= 1), in text order."""
    m = tok.size
    if m <= n:
        acc = np.uint64(m)
        with np.errstate(over="ignore"):
            for v in tok:
                acc = acc * _POLY + v
        return fmix64(np.array([acc], dtype=np.uint64))
    k = m - n + 1
    with np.errstate(over="ignore"):
        acc = np.full(k, np.uint64(n), dtype=np.uint64)
        for j in range(n):
            acc = acc * _POLY + tok[j : j + k]
    return fmix64(acc)


def _token_hashes(folded: str, lang: str, latin: str) -> tuple[np.ndarray, bool]:
    """(token hashes in text order, True when tokens are characters) of a normalised text."""
    if is_cjk_lang(lang):
        s = _NON_CONTENT.sub("", folded)
        return (_char_hashes(s) if s else np.empty(0, np.uint64)), True
    if latin == "char":
        s = _NON_CONTENT.sub(" ", folded).strip()
        return (_char_hashes(s) if s else np.empty(0, np.uint64)), True
    if latin != "word":
        raise ValueError(f"latin must be 'word' or 'char', got {latin!r}")
    ws = _WORD.findall(folded)
    return (_word_hashes(ws) if ws else np.empty(0, np.uint64)), False


def shingle_sequence(text: str, lang: str, word_ngram: int = 5, char_ngram: int = 5, latin: str = "word") -> np.ndarray:
    """The text's shingle hashes in text order, repeats included (what `shingle_hashes` makes a set
    of); verification uses the order to tell a copy (similar everywhere) from a shared block."""
    if not isinstance(text, str):
        raise TypeError(f"shingle_hashes expects str text, got {type(text).__name__}")
    if word_ngram < 1 or char_ngram < 1:
        raise ValueError("n-gram sizes must be >= 1")
    if not text or text.isspace():
        return np.empty(0, dtype=np.uint64)
    return sequence_of_folded(normalize_for_shingles(text), lang, word_ngram, char_ngram, latin)


def sequence_of_folded(folded: str, lang: str, word_ngram: int, char_ngram: int, latin: str = "word") -> np.ndarray:
    """`shingle_sequence` of a text already passed through `normalize_for_shingles`."""
    tok, chars = _token_hashes(folded, lang, latin)
    if tok.size == 0:
        return tok
    return _ngram_sequence(tok, char_ngram if chars else word_ngram)


def shingle_hashes(text: str, lang: str, word_ngram: int = 5, char_ngram: int = 5, latin: str = "word") -> np.ndarray:
    """Sorted unique uint64 hashes of the text's n-gram shingles.

    CJK: character n-grams (see module docstring). Space-separated languages: word n-grams
    (`latin="word"`) or character `char_ngram`-grams over the normalised text with every run of
    whitespace/punctuation made one space (`latin="char"`; an edited word then breaks only the
    ~n+len(word) character shingles around it instead of n whole word shingles). Returns an empty
    uint64 array for a text without tokens.
    """
    seq = shingle_sequence(text, lang, word_ngram, char_ngram, latin)
    return sorted_unique(seq)


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """|a & b| of two sorted unique arrays: the smaller one binary-searched in the larger,
    O(small x log large) with no concatenation or re-sort."""
    if a.size > b.size:
        a, b = b, a
    if a.size == 0:
        return 0
    pos = np.searchsorted(b, a)
    pos[pos == b.size] = 0
    return int(np.count_nonzero(b[pos] == a))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted unique shingle-hash arrays (0.0 when both are empty)."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = intersection_size(a, b)
    return inter / (a.size + b.size - inter)


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / min(|a|, |b|): how much of the smaller set lies inside the larger (0.0 if one is empty)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    return intersection_size(a, b) / min(a.size, b.size)
