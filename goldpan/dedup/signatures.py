"""Per-document dedup features of a batch of texts: shingle sets, MinHash signatures, LSH band keys.

`compute_signatures(texts, langs, config)` is a pure function of its arguments (no I/O, no state
that changes a result), returning plain numpy arrays, so an engine can run it on a pool of worker
processes over slices of a batch and concatenate what comes back (`SignatureBatch.concat`). Every
set-level step (banding, candidate pairs, verification, clusters) runs on the driver over these
arrays (`goldpan.dedup.candidates`, `goldpan.dedup.verify`, `goldpan.dedup.clusters`).

Two signature schemes (recipe `dedup.minhash`):

- `"oph"` (default): one-permutation hashing. Each shingle hash is already a well-mixed 64-bit
  value (fmix64 in `shingles.py`); its top log2(num_perm) bits choose a bin and the next 32 bits
  are its value, and a bin's signature entry is the smallest value that fell into it. Because the
  shingle set is sorted, that is the first element of each bin, found with one `searchsorted`: the
  cost is O(num_perm log n) per document instead of O(n x num_perm) for k hash functions, which is
  what makes character shingles (4-6x more shingles than word 5-grams) and 256 entries affordable.
  Two sets agree in a bin with probability = their Jaccard (when the bin is non-empty for their
  union), as for classic MinHash. Bins left empty (documents with fewer shingles than bins) are
  filled by rotation densification (Shrivastava & Li 2014): the entry of the next non-empty bin to
  the right, re-hashed with the distance, so two documents with the same shingles still agree.
- `"permutations"`: classic MinHash with `num_perm` multiply-add hash functions (`MinHasher`),
  the scheme of datatrove/FineWeb; kept for comparison and for indexes built with it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from goldpan.dedup.exact import sha1_of_codepoints, sha1_of_folded
from goldpan.dedup.minhash import EMPTY_VALUE, MinHasher
from goldpan.dedup.shingles import (
    SHINGLE_VERSION,
    codepoints,
    fmix64,
    has_surrogates,
    sequence_of_folded,
    shingle_sequence,
    sorted_unique,
)

_U32 = np.uint64(0xFFFFFFFF)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class SignatureConfig:
    """What determines a document's shingles, signature and band keys (a slice of the recipe)."""

    shingle: str = "word"  # space-separated scripts: "word" or "char" n-grams; CJK always characters
    word_ngram: int = 3
    char_ngram: int = 5  # character n-grams of space-separated scripts when shingle == "char"
    cjk_ngram: int = 2  # character n-grams of CJK text
    minhash: str = "oph"  # "oph" | "permutations"
    num_perm: int = 256
    num_bands: int = 32
    rows_per_band: int = 8
    seed: int = 1

    def __post_init__(self) -> None:
        if self.shingle not in ("word", "char"):
            raise ValueError("shingle must be 'word' or 'char'")
        if self.minhash not in ("oph", "permutations"):
            raise ValueError("minhash must be 'oph' or 'permutations'")
        if self.num_bands * self.rows_per_band > self.num_perm:
            raise ValueError(f"num_bands x rows_per_band ({self.num_bands}x{self.rows_per_band}) exceeds "
                             f"num_perm ({self.num_perm})")
        if self.minhash == "oph" and (self.num_perm & (self.num_perm - 1) or not 2 <= self.num_perm <= 4096):
            raise ValueError("oph needs num_perm a power of two in [2, 4096]")

    @property
    def config_id(self) -> str:
        """Everything that determines stored signatures and band keys; stored next to them so keys
        of different settings never meet in a lookup."""
        from goldpan.dedup.exact import NORMALIZATION_VERSION

        sh = f"{self.shingle}{self.word_ngram if self.shingle == 'word' else self.char_ngram}"
        return (f"{self.minhash}-v1:p{self.num_perm}:b{self.num_bands}:r{self.rows_per_band}:s{self.seed}"
                f":{sh}:cjk{self.cjk_ngram}:sh{SHINGLE_VERSION}:norm{NORMALIZATION_VERSION}")


@dataclass
class SignatureBatch:
    """Features of n documents, as flat arrays (cheap to pickle between processes, or to Arrow).

    shingles of document i = `shingles[offsets[i]:offsets[i+1]]` (sorted, unique uint64); its
    shingle sequence in text order (for verification's coverage) = `sequences[seq_offsets[i]:...]`.
    """

    signatures: np.ndarray  # (n, num_perm) uint32
    band_keys: np.ndarray  # (n, num_bands) int64
    offsets: np.ndarray  # (n + 1,) int64
    shingles: np.ndarray  # (total,) uint64
    text_sha1: list[str]
    seq_offsets: np.ndarray  # (n + 1,) int64
    sequences: np.ndarray  # (total,) uint64

    def __len__(self) -> int:
        return len(self.text_sha1)

    def shingles_of(self, i: int) -> np.ndarray:
        return self.shingles[self.offsets[i] : self.offsets[i + 1]]

    def sequence_of(self, i: int) -> np.ndarray:
        return self.sequences[self.seq_offsets[i] : self.seq_offsets[i + 1]]

    def n_shingles(self, i: int) -> int:
        return int(self.offsets[i + 1] - self.offsets[i])

    @staticmethod
    def concat(parts: Sequence[SignatureBatch]) -> SignatureBatch:
        """Join slices computed separately (e.g. by pool workers), in order."""
        if not parts:
            raise ValueError("nothing to concatenate")
        def joined(attr: str) -> np.ndarray:
            offs, base = [np.zeros(1, np.int64)], 0
            for p in parts:
                o = getattr(p, attr)
                offs.append(o[1:] + base)
                base += int(o[-1])
            return np.concatenate(offs)

        return SignatureBatch(
            np.concatenate([p.signatures for p in parts]),
            np.concatenate([p.band_keys for p in parts]),
            joined("offsets"),
            np.concatenate([p.shingles for p in parts]),
            [s for p in parts for s in p.text_sha1],
            joined("seq_offsets"),
            np.concatenate([p.sequences for p in parts]),
        )


def doc_sequence(text: str, lang: str, cfg: SignatureConfig) -> np.ndarray:
    """Shingle hashes of one text under `cfg`, in text order (see `shingles.sequence_of_folded`)."""
    return shingle_sequence(text, lang, cfg.word_ngram, cfg.char_ngram, latin=cfg.shingle, cjk_ngram=cfg.cjk_ngram)


def _sequence_and_sha1(text: str, lang: str, cfg: SignatureConfig) -> tuple[np.ndarray, str]:
    """Shingle sequence and exact-duplicate key of one text, normalising (NFKC + casefold) and
    decoding to code points once for both. ASCII text skips NFKC (the identity on ASCII) and
    casefolds by `lower` (the same on ASCII)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    if has_surrogates(text):
        folded = unicodedata.normalize("NFKC", text).casefold()
        seq = doc_sequence(text, lang, cfg) if not (not text or text.isspace()) else np.empty(0, np.uint64)
        return seq, sha1_of_folded(folded)
    folded = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    cps = codepoints(folded)
    sha1 = sha1_of_codepoints(cps)
    if not text or text.isspace():
        return np.empty(0, np.uint64), sha1
    seq = sequence_of_folded(folded, lang, cfg.word_ngram, cfg.char_ngram, latin=cfg.shingle,
                             cjk_ngram=cfg.cjk_ngram, cps=cps)
    return seq, sha1


def doc_shingles(text: str, lang: str, cfg: SignatureConfig) -> np.ndarray:
    """Sorted unique shingle hashes of one text under `cfg`."""
    seq = doc_sequence(text, lang, cfg)
    return sorted_unique(seq)


def oph_signature(hashes: np.ndarray, num_perm: int) -> np.ndarray:
    """One-permutation MinHash of a sorted unique uint64 set (module docstring); all-EMPTY for {}."""
    if hashes.size == 0:
        return np.full(num_perm, EMPTY_VALUE, dtype=np.uint32)
    k = num_perm.bit_length() - 1
    shift = np.uint64(64 - k) if k else np.uint64(63)
    bins = (hashes >> shift).astype(np.int64) if k else np.zeros(hashes.size, np.int64)
    first = np.searchsorted(bins, np.arange(num_perm))
    present = first < hashes.size
    present[present] = bins[first[present]] == np.flatnonzero(present)
    vals = ((hashes[np.minimum(first, hashes.size - 1)] << np.uint64(k)) >> np.uint64(32)) & _U32
    if present.all():
        return vals.astype(np.uint32)
    # rotation densification: an empty bin takes the next non-empty bin (circularly), re-hashed
    # with the distance so it is not a plain copy of its neighbour.
    idx = np.arange(num_perm)
    src = np.where(present, idx, num_perm * 2)
    nxt = np.minimum.accumulate(np.concatenate([src, src + num_perm])[::-1])[::-1][:num_perm]
    dist = (nxt - idx).astype(np.uint64)
    filled = vals[nxt % num_perm]
    with np.errstate(over="ignore"):
        dens = (fmix64(filled + dist * _GOLD) >> np.uint64(32)) & _U32
    return np.where(present, vals, dens).astype(np.uint32)


def band_keys(sigs: np.ndarray, num_bands: int, rows_per_band: int) -> np.ndarray:
    """(n, num_perm) uint32 -> (n, num_bands) int64 keys of the first num_bands x rows_per_band entries."""
    h = MinHasher(num_bands, rows_per_band)
    return h.band_keys_matrix(np.ascontiguousarray(sigs[:, : num_bands * rows_per_band]))


def compute_signatures(texts: Sequence[str], langs: Sequence[str], config: SignatureConfig) -> SignatureBatch:
    """Shingles, signatures, band keys and normalised-text SHA-1 of every text. Pure: the same
    inputs give the same arrays in any process, so slices of a batch can run on a worker pool."""
    if len(texts) != len(langs):
        raise ValueError("texts and langs differ in length")
    n = len(texts)
    both = [_sequence_and_sha1(t, lg, config) for t, lg in zip(texts, langs, strict=True)]
    seqs = [q for q, _ in both]
    sets = [sorted_unique(q) for q in seqs]
    sigs = np.empty((n, config.num_perm), dtype=np.uint32)
    if config.minhash == "oph":
        for i, s in enumerate(sets):
            sigs[i] = oph_signature(s, config.num_perm)
    else:
        mh = MinHasher(config.num_perm, 1, config.seed)
        for i, s in enumerate(sets):
            sigs[i] = mh.signature(s)
    keys = band_keys(sigs, config.num_bands, config.rows_per_band) if n else np.empty((0, config.num_bands), np.int64)
    return SignatureBatch(sigs, keys, _offsets(sets), _flat(sets), [h for _, h in both],
                          _offsets(seqs), _flat(seqs))


def _offsets(parts: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(len(parts) + 1, dtype=np.int64)
    if parts:
        np.cumsum([p.size for p in parts], out=out[1:])
    return out


def _flat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.uint64, copy=False) if parts else np.empty(0, np.uint64)
