"""The engine seam: how a stage's per-document work runs, without the stage knowing where.

A stage hands the engine a *batch function* and a stream of Arrow record batches; the engine returns
the function's output batches **in input order**. Because order is kept and the function is pure
(a batch's output depends only on that batch and the context), the stage writes the same rows
whether the work ran in this process, in local worker processes or on a Ray cluster.

Contract of a batch function `fn(batch, context) -> pa.RecordBatch`:
- a module-level function (workers import it by name), `context` small and picklable (recipe
  section, model paths and sha1s; never a loaded model);
- it never raises for one bad document: that document becomes an error row of its output;
- heavy objects (fastText models, spaCy pipelines) come from `worker_cache`, loaded once per worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from goldpan.engine.tally import WorkerTally

BatchFn = Callable[[pa.RecordBatch, Any], pa.RecordBatch]


@runtime_checkable
class Engine(Protocol):
    """Runs batch functions over record batches; output order = input order."""

    name: str
    workers: int
    #: set-level steps (e.g. MinHash band-key candidate pairs) go through `group_by_key` (Ray: a shuffle)
    #: rather than a DuckDB join in the driver; the results are identical either way
    shuffles: bool
    tally: WorkerTally  # rows and busy seconds per worker (per-worker throughput)

    def map_batches(self, fn: BatchFn, batches: Iterable[pa.RecordBatch], context: Any = None) -> Iterator[pa.RecordBatch]:
        """`fn(batch, context)` for every batch, yielded in input order, streaming (bounded in flight)."""
        ...

    def group_by_key(self, keys: np.ndarray, owners: np.ndarray) -> list[np.ndarray]:
        """Set-level group-by (goldpan.engine.shuffle): owners of every key held by >= 2 entries,
        sorted, in key order. Identical on every engine; Ray runs it as a shuffle."""
        ...

    def worker_pids(self) -> list[int]:
        """Process ids doing the work besides this one (for memory accounting); empty in process."""
        ...

    def close(self) -> None:
        """Release workers. The engine may not be used afterwards."""
        ...
