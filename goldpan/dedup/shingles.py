"""Shingles: the set of overlapping n-grams whose overlap MinHash estimates.

- Space-separated languages: word n-grams (default 5, FineWeb's setting) over the lower-cased
  words of `goldpan.text.tokenize.words`, so dedup sees the same words as the filters, and
  punctuation-only tokens do not create shingles (quote or dash style cannot break a match).
- CJK (`is_cjk_lang`): character n-grams (default 5) over the text with whitespace and
  punctuation removed. A "word" there is one character, so 5-character shingles carry about as
  much context as ~2-3 English words; removing punctuation makes a changed comma or a re-wrapped
  line cost nothing.

Each n-gram is hashed with xxh3_64 under a fixed seed to a uint64: fast, stable across
processes and platforms (unlike Python's salted `hash()`), and 64 bits keep accidental collisions
negligible at web scale.

Texts shorter than n tokens give one shingle made of all their tokens, so a short document still
gets a signature (and matches only a document with the same short token sequence). A text with no
tokens gives an empty array, and the MinHash layer then refuses to match it with anything.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

from goldpan.text.tokenize import is_cjk_lang, words

# Fixed seed of the shingle hash. Changing it changes every signature and band key.
SHINGLE_SEED = 0x601D9A4  # "goldpan"-ish; any constant works, it only has to never change
# Joins the words of an n-gram before hashing. A control character that the tokenizer never emits
# inside a word, so ("ab", "c") and ("a", "bc") cannot hash alike.
_SEP = "\x1f"

_NON_CONTENT = re.compile(r"[\s\W_]+", re.UNICODE)  # whitespace and punctuation (and symbols)
# Lone surrogates (left by a lossy upstream decode) make spaCy's tokenizer raise; one malformed page
# must not stop a batch, so they become U+FFFD before tokenising.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _cjk_chars(text: str) -> str:
    """NFKC + casefold, then drop whitespace, punctuation and symbols: the string to n-gram.

    `\\W` in Python's `re` also removes symbols (emoji, maths, currency); for character shingles
    that is wanted, since decorative symbols vary between copies of one page.
    """
    t = unicodedata.normalize("NFKC", text).casefold()
    return _NON_CONTENT.sub("", t)


def _hash_all(grams) -> np.ndarray:
    h = xxhash.xxh3_64_intdigest
    seed = SHINGLE_SEED
    # xxhash 4 hashes bytes only; surrogates were replaced before, so plain UTF-8 cannot fail.
    arr = np.fromiter((h(g.encode("utf-8"), seed) for g in grams), dtype=np.uint64)
    return np.unique(arr)


def shingle_hashes(text: str, lang: str, word_ngram: int = 5, char_ngram: int = 5) -> np.ndarray:
    """Sorted unique uint64 hashes of the text's n-gram shingles.

    Word n-grams for space-separated languages, character n-grams for CJK (see module docstring).
    Returns an empty uint64 array for a text without tokens.
    """
    if not isinstance(text, str):
        raise TypeError(f"shingle_hashes expects str text, got {type(text).__name__}")
    if word_ngram < 1 or char_ngram < 1:
        raise ValueError("n-gram sizes must be >= 1")
    if not text or text.isspace():
        return np.empty(0, dtype=np.uint64)
    text = _SURROGATE.sub("\ufffd", text)

    if is_cjk_lang(lang):
        s = _cjk_chars(text)
        n = char_ngram
        if not s:
            return np.empty(0, dtype=np.uint64)
        if len(s) <= n:
            return _hash_all([s])
        return _hash_all(s[i : i + n] for i in range(len(s) - n + 1))

    # NFKC first so full-width Latin and compatibility forms tokenise like their plain forms.
    ws = [w.lower() for w in words(unicodedata.normalize("NFKC", text), lang)]
    n = word_ngram
    if not ws:
        return np.empty(0, dtype=np.uint64)
    if len(ws) <= n:
        return _hash_all([_SEP.join(ws)])
    # zip over shifted views builds every n-gram without Python-level slicing per position.
    return _hash_all(map(_SEP.join, zip(*(ws[i:] for i in range(n)))))
