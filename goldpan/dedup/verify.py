"""Verification of a candidate pair: is it a near-duplicate, a page contained in another, or neither?

LSH and anchors only propose pairs; this decides them on the exact shingle sets, with three measures:

- Jaccard |A & B| / |A | B| >= `threshold`: the two pages are mostly the same text;
- containment |small & big| / |small| >= `containment_threshold`: the smaller page sits inside the
  larger one (a section copied into a longer page); only for a smaller page of at least
  `containment_min_shingles` shingles, or any short page made of common phrases would be "inside"
  every long one;
- coverage: each page is cut into `segments` pieces by shingle position, and each piece's shingles
  are looked up in the other page; all but `segments_may_fail` of the pieces must reach
  `segment_min`. An edited copy is similar *everywhere* (its pieces all reach ~0.5 at 15% of words
  changed), while two unrelated pages in one site template share one block and nothing else (the
  content pieces find ~0.1). This is what lets the Jaccard threshold go down to where 10-15% edits
  still pass without merging templated pages (bench/dedup_quality.py measures both).

A near-duplicate needs Jaccard and coverage in both directions; a contained page needs containment
and coverage of the smaller page in the larger one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goldpan.dedup.shingles import sorted_unique

MATCH_JACCARD = "jaccard"
MATCH_CONTAINED = "containment"


@dataclass(frozen=True)
class VerifyConfig:
    threshold: float = 0.4
    containment: bool = True
    containment_threshold: float = 0.8
    containment_min_shingles: int = 50
    segments: int = 8
    segment_min: float = 0.35
    segments_may_fail: int = 2


@dataclass(frozen=True)
class Verdict:
    match: str | None  # MATCH_JACCARD | MATCH_CONTAINED | None
    jaccard: float
    containment: float
    coverage: float  # the (segments_may_fail+1)-th lowest segment score over the pages checked

    @property
    def similarity(self) -> float:
        """The score recorded as `similarity`: the Jaccard, or the containment for a contained page."""
        return self.containment if self.match == MATCH_CONTAINED else self.jaccard


@dataclass(frozen=True)
class DocShingles:
    """A document as verification needs it: its sorted unique shingles and, for each position of its
    shingle sequence (text order), the index of that shingle in the set. Built once per document
    (`of_sequence`) however many pairs it is in, so a pair costs one search of one sorted set in
    the other (cache-friendly) instead of a search of every sequence position."""

    set: np.ndarray  # sorted unique uint64
    inv: np.ndarray  # (len(sequence),) int32 positions in `set`

    @staticmethod
    def of_sequence(seq: np.ndarray, shingle_set: np.ndarray | None = None) -> DocShingles:
        s = sorted_unique(seq) if shingle_set is None else shingle_set
        inv = np.searchsorted(s, seq).astype(np.int32) if s.size else np.empty(0, np.int32)
        return DocShingles(s, inv)


def _segment_means(hit: np.ndarray, segments: int) -> np.ndarray:
    """Mean of `hit` (bool per sequence position) over `segments` equal pieces by position."""
    if hit.size == 0:
        return np.zeros(1)
    k = min(segments, hit.size)
    starts = (np.arange(k) * hit.size) // k
    sums = np.add.reduceat(hit.astype(np.float64), starts)
    lens = np.diff(np.append(starts, hit.size))
    return sums / lens


def segment_scores(seq: np.ndarray, other: np.ndarray, segments: int) -> np.ndarray:
    """Share of each positional piece's shingles (by position) found in the sorted set `other`."""
    if seq.size == 0 or other.size == 0:
        return np.zeros(1)
    pos = np.searchsorted(other, seq)
    pos[pos == other.size] = 0
    return _segment_means(other[pos] == seq, segments)


def _robust_min(scores: np.ndarray, may_fail: int) -> float:
    s = np.sort(scores)
    return float(s[min(may_fail, s.size - 1)])


def verify_docs(a: DocShingles, b: DocShingles, cfg: VerifyConfig) -> Verdict:
    """Decide one pair (module docstring): one search of a's set in b's gives the intersection and
    which shingles of each page the other has; coverage is then a gather over each sequence."""
    if a.set.size == 0 or b.set.size == 0:
        return Verdict(None, 0.0, 0.0, 0.0)
    idx = np.searchsorted(b.set, a.set)
    np.minimum(idx, b.set.size - 1, out=idx)
    a_in_b = b.set[idx] == a.set
    inter = int(np.count_nonzero(a_in_b))
    jac = inter / (a.set.size + b.set.size - inter)
    small = min(a.set.size, b.set.size)
    cont = inter / small
    is_jac = jac >= cfg.threshold
    is_cont = cfg.containment and cont >= cfg.containment_threshold and small >= cfg.containment_min_shingles
    if not (is_jac or is_cont):
        return Verdict(None, jac, cont, 0.0)
    b_in_a = np.zeros(b.set.size, dtype=bool)
    b_in_a[idx[a_in_b]] = True
    seg_a = _segment_means(a_in_b[a.inv], cfg.segments)
    seg_b = _segment_means(b_in_a[b.inv], cfg.segments)
    cov = 0.0
    if is_jac:
        cov = _robust_min(np.concatenate([seg_a, seg_b]), cfg.segments_may_fail)
        if cov >= cfg.segment_min:
            return Verdict(MATCH_JACCARD, jac, cont, cov)
    if is_cont:
        cov = _robust_min(seg_a if a.set.size <= b.set.size else seg_b, cfg.segments_may_fail)
        if cov >= cfg.segment_min:
            return Verdict(MATCH_CONTAINED, jac, cont, cov)
    return Verdict(None, jac, cont, cov)


def verify_pair(set_a: np.ndarray, seq_a: np.ndarray, set_b: np.ndarray, seq_b: np.ndarray,
                cfg: VerifyConfig) -> Verdict:
    """Decide one pair from its shingle sets (sorted unique) and sequences (text order)."""
    return verify_docs(DocShingles.of_sequence(seq_a, set_a), DocShingles.of_sequence(seq_b, set_b), cfg)
