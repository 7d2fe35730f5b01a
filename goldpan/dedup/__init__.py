"""Exact and MinHash near-duplicate deduplication: incremental, deterministic, storage-free.

`exact` gives the normalised-text SHA-1, `shingles` the n-gram hash sets, `minhash` signatures
and LSH band keys, and `clusters.NearDupIndex` decides a batch against earlier representatives.
Plain Python + numpy + xxhash so it can be tested and benchmarked without Dagster.
"""

from goldpan.dedup.clusters import DedupInput, DedupResult, NearDupIndex, PriorDoc
from goldpan.dedup.exact import normalize_for_hash, text_sha1
from goldpan.dedup.minhash import MinHasher, estimate_jaccard
from goldpan.dedup.shingles import shingle_hashes

__all__ = [
    "DedupInput",
    "DedupResult",
    "MinHasher",
    "NearDupIndex",
    "PriorDoc",
    "estimate_jaccard",
    "normalize_for_hash",
    "shingle_hashes",
    "text_sha1",
]
