"""Dedup: URL, exact, MinHash near-duplicate and paragraph dedup, incremental across crawl batches.

`exact` gives the normalised-text SHA-1, `urlkey` the canonical-URL key, `shingles` the n-gram hash
sets, `signatures` MinHash signatures and LSH band keys, `candidates` and `verify` the pairs, `paragraphs` the
boilerplate removal, `clusters.BatchDeduplicator` runs them for one batch against a `PriorStore`
(`store.DeltaPriorStore` reads the lake), and `report` summarises clusters. No Dagster imports.
"""

from goldpan.dedup.clusters import (
    BatchDeduplicator,
    BatchOutcome,
    DedupInput,
    DedupResult,
    IndexHit,
    MemoryPriorStore,
    PriorStore,
)
from goldpan.dedup.exact import normalize_for_hash, text_sha1
from goldpan.dedup.minhash import MinHasher, estimate_jaccard
from goldpan.dedup.shingles import jaccard, shingle_hashes

__all__ = [
    "BatchDeduplicator",
    "BatchOutcome",
    "DedupInput",
    "DedupResult",
    "IndexHit",
    "MemoryPriorStore",
    "MinHasher",
    "PriorStore",
    "estimate_jaccard",
    "jaccard",
    "normalize_for_hash",
    "shingle_hashes",
    "text_sha1",
]
