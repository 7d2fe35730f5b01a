"""Engines on this machine: in the calling process, or on a pool of local worker processes.

Why a forkserver and not plain fork: the calling process (a Dagster step) runs DuckDB, deltalake and
logging threads, and forking a multi-threaded process can copy a lock held by another thread into a
child that then deadlocks. The forkserver is started once, single-threaded, imports the stage
modules (spaCy, fastText, numpy) and then forks every worker from that clean image: workers start
in milliseconds with the imports done, and models load once per worker (`worker_cache`).

The caller's main module must be safe to import (the usual `if __name__ == "__main__":` guard):
multiprocessing imports it in the forkserver, as it does for every start method but fork.

The pool is kept for the life of the process and shared by the stages that run in it (the whole
graph in `execute_in_process`), so start-up is paid once per process, not once per stage.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import multiprocessing.util as mp_util
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import pyarrow as pa

from goldpan.engine.base import BatchFn
from goldpan.engine.cache import enter_stage, stage_of
from goldpan.engine.shuffle import local_group_by_key
from goldpan.engine.slices import SliceJob, SliceResult, run_slice
from goldpan.engine.tally import WorkerTally

# Modules every worker needs; imported once in the forkserver, so forked workers share them.
PRELOAD = [
    "pyarrow",
    "numpy",
    "goldpan.extract.stage",
    "goldpan.filter.signals",
    "goldpan.dedup.clusters",
    "goldpan.classify.scores",
    "goldpan.bpe.counter",
    "goldpan.warmup",  # outside the engine package: it imports the stages, which import the engine
]


# Where a local stage's rows meet the lake (engine.lake_io): "driver" (this process) or "workers".
LAKE_IO_MODES = ("driver", "workers")


class EngineWorkerDied(RuntimeError):
    """A worker process died (killed, out of memory, crashed in native code) while holding a batch."""


class InProcessEngine:
    """Runs every batch in the calling process: the reference the other engines must equal."""

    name = "inprocess"
    workers = 1
    shuffles = False  # set-level group-bys run here, in one process

    def __init__(self) -> None:
        self.tally = WorkerTally()

    def map_batches(self, fn: BatchFn, batches: Iterable[pa.RecordBatch], context: Any = None) -> Iterator[pa.RecordBatch]:
        worker = f"pid{os.getpid()}"
        enter_stage(stage_of(fn, context))
        for b in batches:
            t0 = time.perf_counter()
            out = fn(b, context)
            self.tally.add(worker, b.num_rows, time.perf_counter() - t0)
            yield out

    def group_by_key(self, keys: np.ndarray, owners: np.ndarray) -> list[np.ndarray]:
        return local_group_by_key(keys, owners)

    def worker_pids(self) -> list[int]:
        return []

    def close(self) -> None:
        return None


def _noop() -> int:
    return os.getpid()


def _run(fn: BatchFn, batch: pa.RecordBatch, context: Any) -> tuple[pa.RecordBatch, str, float]:
    """In the worker: the output, which worker made it and how long it took (per-worker throughput)."""
    enter_stage(stage_of(fn, context))  # a new stage: the last stage's own models are dropped
    t0 = time.perf_counter()
    out = fn(batch, context)
    return out, f"pid{os.getpid()}", time.perf_counter() - t0


_POOLS: dict[tuple[int, str], ProcessPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _worker_signals() -> None:
    """A worker can always be terminated: SIGTERM back to its default action.

    Why: a process started with SIGINT ignored (`nohup`, `cmd &` from a script, cron) ends up ignoring
    SIGTERM too once Dagster has run a step, because Dagster maps SIGTERM to whatever SIGINT does
    (`dagster._utils.interrupts`). An ignored signal survives fork and exec, so every worker ignored it, and
    the pool's shutdown of a broken pool, which terminates the surviving workers and joins them, could wait
    forever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _shared_pool(workers: int, start_method: str) -> ProcessPoolExecutor:
    key = (workers, start_method)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or getattr(pool, "_broken", False):
            ctx = mp.get_context(start_method)
            if start_method == "forkserver":
                ctx.set_forkserver_preload(PRELOAD)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_signals)
            _POOLS[key] = pool
            _shut_down_before_multiprocessing_joins()
        return pool


_FINALIZER_PID: int | None = None


def _shut_down_before_multiprocessing_joins() -> None:
    """Shut the pools down before multiprocessing joins this process's children at its exit.

    Why: when this process is itself a multiprocessing child (a step of Dagster's multiprocess
    executor, which the code location used before and a deployment may still pick), `Process._bootstrap` ends with
    `multiprocessing.util._exit_function`, which joins every non-daemonic child -- the pool's workers --
    before any atexit handler could shut the pool down: the step finished, its process never exited and
    the run hung. Finalizers with an exit priority run first in `_exit_function`."""
    global _FINALIZER_PID
    if _FINALIZER_PID != os.getpid():
        _FINALIZER_PID = os.getpid()
        mp_util.Finalize(None, shutdown_pools, exitpriority=100)


def _drop_pool(workers: int, start_method: str) -> None:
    with _POOLS_LOCK:
        pool = _POOLS.pop((workers, start_method), None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown_pools() -> None:
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for p in pools:
        p.shutdown(wait=True, cancel_futures=True)


class LocalProcessEngine:
    """Runs batches on `workers` local processes, at most `in_flight` batches ahead of the consumer.

    Output order is input order (a sliding window of futures, consumed first-in first-out), so the
    written table does not depend on the worker count or on which worker finished first. Memory is
    bounded by the window: the input is pulled only as results are taken.
    """

    name = "local"
    shuffles = False  # set-level group-bys run on the driver: one sort costs less than shipping keys

    def __init__(self, workers: int | None = None, in_flight: int | None = None, start_method: str = "forkserver",
                 lake_io: str = "driver", slice_unit: str = "row_group", tasks_per_worker: int = 8):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.in_flight = max(self.workers, int(in_flight or 2 * self.workers))
        self.start_method = start_method
        self.tally = WorkerTally()
        if lake_io not in LAKE_IO_MODES:
            raise ValueError(f"lake_io must be one of {', '.join(LAKE_IO_MODES)}, got {lake_io!r}")
        #: "workers": a stage that reads lake tables and writes one table has its workers read their
        #: slices and write Parquet parts (`map_slices`, as on Ray); "driver": rows go through this process
        self.lake_io = lake_io
        # Runs of Parquet row groups, eight tasks per worker: a document's cost varies by language and
        # length, not by bytes, and fewer, bigger tasks left one worker idle for the last ~4 s of the
        # filter stage on 6,000 real pages (4 per worker: 18-20 s; 8 per worker: 14.9 s; rows through the
        # driver 16.4 s)
        self.slice_unit = slice_unit
        self.tasks_per_worker = tasks_per_worker

    @property
    def workers_reach_lake(self) -> bool:
        return self.lake_io == "workers"

    def reads_slices(self, query: Any) -> bool:
        """Whether a stage reading `query` should run as slices (`map_slices`) on this engine: only when
        the slice is cut in the scanned table (`LakeQuery.slice_table`). A query without one (a union
        of sources, e.g. doc_tokens) is filtered around the whole query, so every slice would read
        every row: on one machine the driver's single read costs less (6,000 real pages, one run on a
        loaded machine: doc_tokens 5.7 s as slices against 4.2 s through the driver)."""
        return self.workers_reach_lake and getattr(query, "slice_table", None) is not None

    def map_slices(self, fn: BatchFn, context: Any, job: SliceJob) -> Iterator[SliceResult]:
        """One pool task per slice of `job`: the worker reads its slice from the lake, runs `fn` and
        writes a Parquet part (goldpan.engine.slices); results come back as tasks finish.

        For a lake on object storage whose run process should not carry the rows, or a run process
        short of CPU. On one 2-core machine it measured even with rows through this process
        (bench/ray_engine.py, 6,000 real pages, two runs in alternated order: 61.8 / 66.8 s against
        58.9 / 68.4 s; extract a little faster, the filter a little slower), and it leaves a part per
        task in every partition, so `driver` is the default. A worker that dies raises
        `EngineWorkerDied` before the driver commits, so the table stays at its previous version (its
        half-written part is an orphan file that no commit references)."""
        if not self.workers_reach_lake:
            raise RuntimeError("map_slices needs lake_io='workers'")
        pool = _shared_pool(self.workers, self.start_method)
        futures = [self._submit(pool, run_slice, fn, context, job, i) for i in range(job.slices)]
        try:
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except BrokenProcessPool as exc:
                    raise self._died(exc, "a slice") from exc
                self.tally.add(res.worker, res.rows_in, res.busy_s)
                yield res
        finally:
            for f in futures:
                f.cancel()

    def map_batches(self, fn: BatchFn, batches: Iterable[pa.RecordBatch], context: Any = None) -> Iterator[pa.RecordBatch]:
        pool = _shared_pool(self.workers, self.start_method)
        window: deque[Future] = deque()
        try:
            for b in batches:
                window.append((self._submit(pool, _run, fn, b, context), b.num_rows))
                if len(window) >= self.in_flight:
                    yield self._result(*window.popleft())
            while window:
                yield self._result(*window.popleft())
        finally:
            for f, _ in window:
                f.cancel()

    def _died(self, exc: BaseException, holding: str) -> EngineWorkerDied:
        """Drop the broken pool (the next stage gets a fresh one) and say what happened."""
        _drop_pool(self.workers, self.start_method)
        return EngineWorkerDied(f"a worker of the local engine ({self.workers} workers) died while holding "
                                f"{holding}: {exc}")

    def _submit(self, pool: ProcessPoolExecutor, *args: Any) -> Future:
        # A worker can die between two submissions: the pool is then broken and `submit` itself raises.
        try:
            return pool.submit(*args)
        except BrokenProcessPool as exc:
            raise self._died(exc, "a batch") from exc

    def _result(self, fut: Future, rows: int) -> pa.RecordBatch:
        try:
            out, worker, seconds = fut.result()
            self.tally.add(worker, rows, seconds)
            return out
        except BrokenProcessPool as exc:
            raise self._died(exc, "a batch") from exc

    def prestart(self) -> None:
        """Start the forkserver and every worker now (blocks until they run), e.g. on a thread while
        the run imports its input, so the first pooled stage does not wait for the warm-up."""
        pool = _shared_pool(self.workers, self.start_method)
        for f in [pool.submit(_noop) for _ in range(self.workers)]:
            f.result()

    def group_by_key(self, keys: np.ndarray, owners: np.ndarray) -> list[np.ndarray]:
        """On the driver: one sort of the batch's band keys costs less than shipping them to workers."""
        return local_group_by_key(keys, owners)

    def worker_pids(self) -> list[int]:
        pool = _POOLS.get((self.workers, self.start_method))
        procs = getattr(pool, "_processes", None) or {}
        return [p for p in list(procs)]

    def close(self) -> None:
        _drop_pool(self.workers, self.start_method)
