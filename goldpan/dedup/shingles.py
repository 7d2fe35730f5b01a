"""Shingles: the set of overlapping n-grams whose overlap MinHash estimates and verification measures.

- Space-separated languages: word n-grams (default 5, FineWeb's setting) over the words of the
  NFKC-normalised, case-folded text, where a word is a maximal run of `\\w` characters. This is
  datatrove's `simplify_text` + word n-grams in spirit (lower case, punctuation removed), and it
  makes a changed quote or dash style cost nothing. Dedup does not call the filters' spaCy
  tokenizer: shingles only need to be consistent with themselves, and a regex is ~50x faster.
- Han / kana / Hangul characters are tokens of their own, wherever they occur and whatever the page's
  language label says: a page is a sequence of tokens, each either a word (a maximal run of `\\w`
  characters outside those scripts) or one such character, and the shingle starting at a token
  spans `word_ngram` tokens when the token is a word and `cjk_ngram` tokens when it is a character
  (`mixed_sequence`). A pure English page gets exactly its word n-grams and a pure Chinese page
  exactly its character n-grams, and a page mixing both gets the same shingles for the same text
  whichever way a language detector labels it. (Before, the page's label chose one scheme for the
  whole page, through a 20 % Han-share rule, so a copy and its original on either side of that line
  shared no shingles at all.)
- Other scripts written without spaces (Thai, Lao, Khmer, Burmese, Tibetan: `is_cjk_lang` labels
  outside the Han family): character n-grams over the text with whitespace and punctuation removed.

Why the hashing is vectorised: per-shingle Python work (join + hash of every n-gram) dominated
the old implementation, and then per-word Python work (regex findall + a hash per word) did. Here
the words are found by a table lookup over the text's code-point array, every word's hash is a
polynomial of its code points computed for all words at once from prefix sums (`_run_hashes`),
and every n-gram hash is a polynomial combination of its word hashes, followed by a 64-bit
finaliser (murmur3 fmix64) so MinHash sees well-mixed bits.
For CJK, code points are mixed the same way, so no per-character Python work remains.

Texts shorter than n tokens give one shingle made of all their tokens, so a short document still
gets a signature (and matches only a document with the same short token sequence). A text with no
tokens gives an empty array, and the MinHash layer then refuses to match it with anything.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from goldpan.text.tokenize import is_cjk_lang

# Fixed seed of the word hash. Changing it changes every signature and band key.
SHINGLE_SEED = 0x601D9A4
# Version of the shingling scheme; part of the index config id, so stored keys never mix schemes.
SHINGLE_VERSION = 5  # 3: word hashes over the code-point array; 4: script_lang; 5: per-token scheme (mixed_sequence)
# Odd multiplier of the polynomial n-gram combination (a 64-bit prime).
_POLY = np.uint64(0x9E3779B97F4A7C15)
_POLY_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))
_GOLDEN = np.uint64(0xC2B2AE3D27D4EB4F)
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
    """Lone surrogates (lossy upstream decodes): a strict UTF-8 encode refuses them, and runs ~6x
    faster than a regex search; isascii() is O(1) in CPython."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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


_WORD_CHARS: np.ndarray | None = None


def _word_chars() -> np.ndarray:
    """bool per code point: what `re`'s `\\w` matches in str patterns (str.isalnum() or "_"). Built
    once per process (~0.3 s), so words are found by a table lookup over the code-point array."""
    global _WORD_CHARS
    if _WORD_CHARS is None:
        t = np.fromiter((chr(c).isalnum() for c in range(0x110000)), dtype=bool, count=0x110000)
        t[ord("_")] = True
        _WORD_CHARS = t
    return _WORD_CHARS


class _Powers:
    """P^j and P^-j mod 2^64 for j = 0..n-1 (P odd, so invertible mod 2^64), grown on demand."""

    def __init__(self) -> None:
        self.fwd = np.ones(1, np.uint64)
        self.inv = np.ones(1, np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if self.fwd.size < n:
            m = max(n, 2 * self.fwd.size)
            with np.errstate(over="ignore"):
                self.fwd = np.cumprod(np.concatenate([[np.uint64(1)], np.full(m - 1, _POLY, np.uint64)]),
                                      dtype=np.uint64)
                self.inv = np.cumprod(np.concatenate([[np.uint64(1)], np.full(m - 1, _POLY_INV, np.uint64)]),
                                      dtype=np.uint64)
        return self.fwd, self.inv


_POWERS = _Powers()


def codepoints(folded: str) -> np.ndarray:
    """The text as a uint32 code-point array (surrogates pass through: lossy upstream decodes)."""
    return np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype="<u4")


_CLASS: np.ndarray | None = None
_WORD_CLASS, _CJK_CLASS = 1, 2


def _char_classes() -> np.ndarray:
    """uint8 per code point: 0 = not `\\w`, 1 = a word character, 2 = a Han / kana / Hangul
    character (`goldpan.text.tokenize._CJK_CHAR`) that `\\w` matches, i.e. a token of its own.
    One table, so a text's characters are classified by one gather. Built once per process."""
    global _CLASS
    if _CLASS is None:
        import codecs

        from goldpan.text.tokenize import _CJK_CHAR

        chars = codecs.decode(_CJK_CHAR, "unicode_escape")
        cjk = np.zeros(0x110000, dtype=bool)
        for i in range(0, len(chars), 3):
            cjk[ord(chars[i]): ord(chars[i + 2]) + 1] = True
        w = _word_chars()
        c = w.astype(np.uint8)
        c[cjk & w] = _CJK_CLASS
        _CLASS = c
    return _CLASS


def _run_hashes(cps: np.ndarray, isw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, start position) of every maximal run of `isw` in `cps`, in order, with no Python work
    per run.

    A run's hash is the polynomial sum(c_j * P^(end-1-j)) of its code points (+1) mod 2^64, mixed
    with its length and the seed by fmix64. All runs at once: with a_j = c_j * P^-j, the sum over
    run [s, e) is P^(e-1) * (A[e] - A[s]) for the prefix sums A of a (uint64 arithmetic wraps
    mod 2^64, where P is invertible)."""
    edge = np.diff(isw.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    if starts.size == 0:
        return np.empty(0, np.uint64), starts
    ends = np.flatnonzero(edge == -1)
    vals = cps[isw].astype(np.uint64) + np.uint64(1)
    lens = ends - starts
    e = np.cumsum(lens)
    s = e - lens
    fwd, inv = _POWERS.upto(vals.size + 1)
    with np.errstate(over="ignore"):
        acc = np.zeros(vals.size + 1, np.uint64)
        np.cumsum(vals * inv[: vals.size], out=acc[1:])
        h = fwd[e - 1] * (acc[e] - acc[s])
        return fmix64(h ^ (lens.astype(np.uint64) * _GOLDEN) ^ np.uint64(SHINGLE_SEED)), starts


def _word_hashes_of(folded: str) -> np.ndarray:
    """Hash of every `\\w+` word of a normalised text, in order (`_run_hashes`)."""
    cps = codepoints(folded)
    if cps.size == 0:
        return np.empty(0, np.uint64)
    return _run_hashes(cps, _word_chars()[cps])[0]


def mixed_tokens(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(token hashes in text order, True per token that is a Han/kana/Hangul character, or None
    when there is none) of a normalised text's code points (module docstring)."""
    if cps.size == 0:
        return np.empty(0, np.uint64), None
    cls = _char_classes()[cps]
    isw = cls == _WORD_CLASS
    cpos = np.flatnonzero(cls == _CJK_CLASS)
    if cpos.size == 0:
        return _run_hashes(cps, isw)[0], None
    wh, wpos = _run_hashes(cps, isw)
    ch = fmix64(cps[cpos].astype(np.uint64) ^ np.uint64(SHINGLE_SEED))
    if wh.size == 0:
        return ch, np.ones(ch.size, dtype=bool)
    order = np.argsort(np.concatenate([wpos, cpos]), kind="stable")
    tok = np.concatenate([wh, ch])[order]
    flag = np.concatenate([np.zeros(wh.size, bool), np.ones(ch.size, bool)])[order]
    return tok, flag


def mixed_ngrams(tok: np.ndarray, is_cjk: np.ndarray | None, word_ngram: int, cjk_ngram: int) -> np.ndarray:
    """Shingle hashes in text order: at each token, the n-gram of `word_ngram` tokens (a word) or
    `cjk_ngram` tokens (a character) starting there, where it fits; a text too short for any
    gets one shingle of all its tokens (as `_ngram_sequence`). With no character tokens this is
    exactly `_ngram_sequence(tok, word_ngram)`, with only character tokens `(tok, cjk_ngram)`."""
    m = tok.size
    if is_cjk is None:
        return _ngram_sequence(tok, word_ngram)
    n_at = np.where(is_cjk, cjk_ngram, word_ngram)
    starts = np.flatnonzero(np.arange(m) + n_at <= m)
    if starts.size == 0:
        return _ngram_sequence(tok, m)
    out = np.empty(starts.size, np.uint64)
    with np.errstate(over="ignore"):
        for n in {word_ngram, cjk_ngram}:
            sel = n_at[starts] == n
            if not sel.any():
                continue
            s = starts[sel]
            acc = np.full(s.size, np.uint64(n), dtype=np.uint64)
            for j in range(n):
                acc = acc * _POLY + tok[s + j]
            out[sel] = fmix64(acc)
    return out


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


_HAN_FAMILY = frozenset({"zh", "ja", "ko", "yue", "wuu"})


def spaceless_script(lang: str) -> bool:
    """A label of a script without spaces outside the Han family (Thai, Lao, Khmer, ...): shingled
    by characters over all its content."""
    return is_cjk_lang(lang) and lang.split("-")[0].split("_")[0].lower() not in _HAN_FAMILY


def shingle_sequence(text: str, lang: str, word_ngram: int = 5, char_ngram: int = 5, latin: str = "word",
                     cjk_ngram: int | None = None) -> np.ndarray:
    """The text's shingle hashes in text order, repeats included (what `shingle_hashes` makes a set
    of); verification uses the order to tell a copy (similar everywhere) from a shared block.
    `cjk_ngram` (default `char_ngram`) is the n of Han/kana/Hangul characters and spaceless scripts."""
    if not isinstance(text, str):
        raise TypeError(f"shingle_hashes expects str text, got {type(text).__name__}")
    if word_ngram < 1 or char_ngram < 1 or (cjk_ngram is not None and cjk_ngram < 1):
        raise ValueError("n-gram sizes must be >= 1")
    if not text or text.isspace():
        return np.empty(0, dtype=np.uint64)
    return sequence_of_folded(normalize_for_shingles(text), lang, word_ngram, char_ngram, latin, cjk_ngram)


def sequence_of_folded(folded: str, lang: str, word_ngram: int, char_ngram: int, latin: str = "word",
                       cjk_ngram: int | None = None, cps: np.ndarray | None = None) -> np.ndarray:
    """`shingle_sequence` of a text already passed through `normalize_for_shingles` (`cps`: its
    code points, when the caller has them already).

    latin="word" (default): the per-token scheme (module docstring), the label only matters for
    spaceless scripts other than Han/kana/Hangul. latin="char": character `char_ngram`-grams over the
    normalised text with every run of whitespace/punctuation made one space, and for a CJK label
    `cjk_ngram`-grams over its characters with whitespace and punctuation removed (an edited word
    then breaks only the ~n+len(word) character shingles around it instead of n whole word shingles)."""
    nc = char_ngram if cjk_ngram is None else cjk_ngram
    if latin not in ("word", "char"):
        raise ValueError(f"latin must be 'word' or 'char', got {latin!r}")
    if spaceless_script(lang) or (latin == "char" and is_cjk_lang(lang)):
        c = _NON_CONTENT.sub("", folded)
        tok = _char_hashes(c) if c else np.empty(0, np.uint64)
        return _ngram_sequence(tok, nc) if tok.size else tok
    if latin == "char":
        c = _NON_CONTENT.sub(" ", folded).strip()
        tok = _char_hashes(c) if c else np.empty(0, np.uint64)
        return _ngram_sequence(tok, char_ngram) if tok.size else tok
    tok, flag = mixed_tokens(codepoints(folded) if cps is None else cps)
    if tok.size == 0:
        return tok
    return mixed_ngrams(tok, flag, word_ngram, nc)


def shingle_hashes(text: str, lang: str, word_ngram: int = 5, char_ngram: int = 5, latin: str = "word") -> np.ndarray:
    """Sorted unique uint64 hashes of the text's n-gram shingles.

    Word n-grams and Han/kana/Hangul character n-grams per token (`latin="word"`), or character
    n-grams (`latin="char"`); see `sequence_of_folded`. Returns an empty uint64 array for a text
    without tokens.
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
