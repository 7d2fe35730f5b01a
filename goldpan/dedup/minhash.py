"""MinHash signatures and LSH band keys.

The class defaults are FineWeb's (datatrove): 14 bands x 8 rows = 112 hashes. P(candidate | Jaccard
s) = 1 - (1 - s^r)^b: for 14 x 8 that is ~0.56 / 0.77 / 0.92 / 0.99 at s = 0.70 / 0.75 / 0.80 /
0.85, so a pair at the 0.8 threshold is missed 8% of the time. The recipe default is the same 112
hashes as 28 x 4 (> 0.9999 at s = 0.8); the extra low-similarity candidates are removed by the
verification in `clusters.py` (measured in bench/dedup_quality.py).

Hash family: h_i(x) = high 32 bits of (a_i * x + b_i) mod 2^64, with a_i odd. This is the
multiply-add-shift family (Dietzfelbinger); its inputs are already uniformly spread xxh3 shingle
hashes, so the high bits behave like independent permutations, and it vectorises to a single
numpy broadcast (uint64 arithmetic wraps mod 2^64 by definition, no overflow handling needed).

Determinism: a_i and b_i are derived from xxh3_64 of ("a"|"b", i) under `seed`, not from numpy's
random generators, whose streams are not guaranteed across numpy versions. Band keys are a fixed
polynomial + fmix64 over the band's rows in uint64 arithmetic, so signatures and keys are
identical across processes, runs and machines.
"""

from __future__ import annotations

import numpy as np
import xxhash

from goldpan.dedup.shingles import fmix64

EMPTY_VALUE = np.uint32(0xFFFFFFFF)
# Fixed seed of the band-key hash (distinct from the permutation seed on purpose).
BAND_KEY_SEED = 0xB4D5
_POLY = np.uint64(0x9E3779B97F4A7C15)
# Rows of the (shingles x hashes) product computed at once: bounds memory to ~3.7 MB for 112 hashes
# even for a very long page.
_CHUNK = 4096


class MinHasher:
    """Computes fixed-length MinHash signatures and one LSH key per band.

    Signatures from two MinHashers are comparable only if `config_id` is equal; store it next
    to signatures so a parameter change cannot silently mix incompatible keys.
    """

    def __init__(self, num_bands: int = 14, rows_per_band: int = 8, seed: int = 1) -> None:
        if num_bands < 1 or rows_per_band < 1:
            raise ValueError("num_bands and rows_per_band must be >= 1")
        self.num_bands = int(num_bands)
        self.rows_per_band = int(rows_per_band)
        self.seed = int(seed)
        self.num_perm = self.num_bands * self.rows_per_band
        h = xxhash.xxh3_64_intdigest
        a = [h(f"a{i}".encode(), self.seed) | 1 for i in range(self.num_perm)]
        b = [h(f"b{i}".encode(), self.seed) for i in range(self.num_perm)]
        self._a = np.array(a, dtype=np.uint64)
        self._b = np.array(b, dtype=np.uint64)
        # Per-band start values of the band-key hash.
        self._band_seed = fmix64(np.arange(self.num_bands, dtype=np.uint64) + np.uint64(BAND_KEY_SEED))

    @property
    def config_id(self) -> str:
        """Identifies everything that determines signatures and band keys."""
        return f"minhash-v2:b{self.num_bands}:r{self.rows_per_band}:s{self.seed}"

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """MinHash signature (uint32, length num_bands*rows_per_band) of a set of uint64 shingles.

        An empty set gives all 0xFFFFFFFF: the value no real minimum exceeds, and one that
        `is_empty_signature` recognises so such documents are never matched as near-duplicates.
        """
        x = np.asarray(hashes, dtype=np.uint64).ravel()
        if x.size == 0:
            return np.full(self.num_perm, EMPTY_VALUE, dtype=np.uint32)
        a, b = self._a, self._b
        shift = np.uint64(32)
        out = np.full(self.num_perm, EMPTY_VALUE, dtype=np.uint32)
        for start in range(0, x.size, _CHUNK):
            blk = x[start : start + _CHUNK, None]
            hv = ((blk * a + b) >> shift).astype(np.uint32)
            np.minimum(out, hv.min(axis=0), out=out)
        return out

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        """One int64 key per band (see `band_keys_matrix`)."""
        s = np.asarray(sig, dtype=np.uint32)
        if s.shape != (self.num_perm,):
            raise ValueError(f"signature must have shape ({self.num_perm},), got {s.shape}")
        return self.band_keys_matrix(s[None, :])[0]

    def band_keys_matrix(self, sigs: np.ndarray) -> np.ndarray:
        """Band keys of many signatures at once: (n, num_perm) uint32 -> (n, num_bands) int64.

        key = fmix64(polynomial over the band's rows, started from a per-band constant), so the band
        index is part of the key (equal rows in different bands do not collide) and one flat key
        column can be stored and joined on. Pure numpy: identical on every platform and run.
        """
        s = np.asarray(sigs, dtype=np.uint32)
        if s.ndim != 2 or s.shape[1] != self.num_perm:
            raise ValueError(f"signatures must have shape (n, {self.num_perm}), got {s.shape}")
        r = self.rows_per_band
        rows = s.astype(np.uint64).reshape(s.shape[0], self.num_bands, r)
        with np.errstate(over="ignore"):
            acc = np.broadcast_to(self._band_seed, rows.shape[:2]).copy()
            for j in range(r):
                acc = acc * _POLY + rows[:, :, j]
        return fmix64(acc).view(np.int64)


def is_empty_signature(sig: np.ndarray) -> bool:
    """True for the signature of an empty shingle set (no evidence of similarity to anything)."""
    return bool(np.all(np.asarray(sig) == EMPTY_VALUE))


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature positions: an unbiased estimate of the shingle-set Jaccard.

    With 112 hashes the standard error is sqrt(s(1-s)/112), ~0.038 at s = 0.8.
    """
    a = np.asarray(sig_a)
    b = np.asarray(sig_b)
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in shape: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.count_nonzero(a == b)) / a.size
