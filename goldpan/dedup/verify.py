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

from goldpan.dedup.shingles import intersection_size

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


def segment_scores(seq: np.ndarray, other: np.ndarray, segments: int) -> np.ndarray:
    """Share of each positional piece's shingles (by position) found in the sorted set `other`:
    one binary search of the whole sequence, then a mean per piece."""
    if seq.size == 0 or other.size == 0:
        return np.zeros(1)
    pos = np.searchsorted(other, seq)
    pos[pos == other.size] = 0
    hit = (other[pos] == seq).astype(np.float64)
    k = min(segments, seq.size)
    starts = (np.arange(k) * seq.size) // k
    sums = np.add.reduceat(hit, starts)
    lens = np.diff(np.append(starts, seq.size))
    return sums / lens


def _robust_min(scores: np.ndarray, may_fail: int) -> float:
    s = np.sort(scores)
    return float(s[min(may_fail, s.size - 1)])


def verify_pair(set_a: np.ndarray, seq_a: np.ndarray, set_b: np.ndarray, seq_b: np.ndarray,
                cfg: VerifyConfig) -> Verdict:
    """Decide one pair from its shingle sets (sorted unique) and sequences (text order)."""
    if set_a.size == 0 or set_b.size == 0:
        return Verdict(None, 0.0, 0.0, 0.0)
    inter = intersection_size(set_a, set_b)
    jac = inter / (set_a.size + set_b.size - inter)
    small = min(set_a.size, set_b.size)
    cont = inter / small
    if jac >= cfg.threshold:
        both = np.concatenate([segment_scores(seq_a, set_b, cfg.segments), segment_scores(seq_b, set_a, cfg.segments)])
        cov = _robust_min(both, cfg.segments_may_fail)
        if cov >= cfg.segment_min:
            return Verdict(MATCH_JACCARD, jac, cont, cov)
    else:
        cov = 0.0
    if cfg.containment and cont >= cfg.containment_threshold and small >= cfg.containment_min_shingles:
        s_seq, b_set = (seq_a, set_b) if set_a.size <= set_b.size else (seq_b, set_a)
        cov = _robust_min(segment_scores(s_seq, b_set, cfg.segments), cfg.segments_may_fail)
        if cov >= cfg.segment_min:
            return Verdict(MATCH_CONTAINED, jac, cont, cov)
    return Verdict(None, jac, cont, cov)
