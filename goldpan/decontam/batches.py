"""Decontamination as engine work: documents joined against the eval n-gram index on the workers.

The index is small (eval sets) and the documents are many, so the join is a broadcast join: every
worker holds the whole index (rebuilt once per worker from its entries, `worker_cache`) and checks the
documents of its batches. On Ray that is the join running on the cluster; in process it is the same
function. The result of each document is exactly `DecontamIndex.check` of its text, so the mix decides
the same whichever engine ran it (tests/integration/test_ray_engine.py).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from goldpan.decontam.index import DecontamIndex
from goldpan.engine import Engine, worker_cache

#: Columns a checked batch gains: the first eval set and n-gram found, and how many distinct n-grams.
HIT_FIELDS = [pa.field("contam_eval_set", pa.string()), pa.field("contam_ngram", pa.string()),
              pa.field("contam_hits", pa.int64())]
HIT_SCHEMA = pa.schema(HIT_FIELDS)


@dataclass(frozen=True)
class IndexShipment:
    """The index as a batch function's context: its n-grams, and a digest that names it in worker caches."""

    n: int
    entries: tuple[tuple[str, tuple[str, ...]], ...]
    digest: str

    @classmethod
    def of(cls, index: DecontamIndex) -> IndexShipment:
        entries = index.entries()
        h = hashlib.sha1(repr((index.n, entries)).encode()).hexdigest()
        return cls(index.n, entries, h)


def check_batch(docs: pa.RecordBatch, shipment: IndexShipment) -> pa.RecordBatch:
    """Engine batch function: a `text` column -> the HIT_SCHEMA row of each document, same order."""
    index = worker_cache(("decontam", shipment.digest), lambda: DecontamIndex.from_entries(shipment.n, shipment.entries))
    found = [index.check(t) for t in docs.column("text").to_pylist()]
    return pa.RecordBatch.from_arrays(
        [pa.array([h.eval_set if h else None for h in found], pa.string()),
         pa.array([h.ngram if h else None for h in found], pa.string()),
         pa.array([h.hits if h else None for h in found], pa.int64())], schema=HIT_SCHEMA)


def with_contamination(engine: Engine, batches: Iterable[pa.RecordBatch], index: DecontamIndex
                       ) -> Iterator[pa.RecordBatch]:
    """`batches` (with a `text` column) with the HIT_SCHEMA columns appended, checked on `engine`.

    Only the texts travel to the workers; the batches wait here, in order, bounded by the engine's
    window, and are joined with their results as those come back (the engine keeps input order)."""
    held: deque[pa.RecordBatch] = deque()

    def texts() -> Iterator[pa.RecordBatch]:
        for b in batches:
            held.append(b)
            yield pa.RecordBatch.from_arrays([b.column("text")], names=["text"])

    for hits in engine.map_batches(check_batch, texts(), IndexShipment.of(index)):
        b = held.popleft()
        yield pa.RecordBatch.from_arrays([*b.columns, *hits.columns], names=[*b.schema.names, *HIT_SCHEMA.names])

