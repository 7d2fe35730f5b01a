"""The Ray engine: the same batch functions as the local engines, as Ray tasks on a cluster.

Why tasks and not Ray Data: a stage's output must come back *in input order* so every engine
writes the same rows (base.py). A sliding window of task references consumed first-in first-out
gives that order, bounds memory the same way as `LocalProcessEngine`, and needs no Ray Data
planner on the driver; each task is one Arrow record batch in, one out (zero-copy through the
object store on one node).

Lake I/O on the workers (`map_slices`): a stage that reads lake tables and writes one table gives
each task a slice of its input to read from the lake itself and a place to write its output as a
Parquet part (goldpan.engine.slices, goldpan.lake.parts); tasks return the part's description, the
driver makes one Delta commit adding every part. Rows never pass through the driver. A worker that
dies mid-task is retried by Ray (`max_retries`); its half-written file is never committed. When
the retries run out the stage raises `EngineWorkerDied` before the commit, leaving the table at its
previous version. `map_batches` (rows in, rows out through the object store) remains for stages
whose input is not a lake query (dedup's features, the mix's decontamination).

Connecting: `address=None` or "local" starts a private Ray instance in this process with
`workers` CPUs (tests, one machine); "auto" joins the cluster `ray start` runs on this node;
"ray://host:10001" connects a Ray Client to a remote cluster (e.g. a KubeRay RayCluster's head).
If Ray is already initialised in this process (a test fixture, a Dagster resource), it is reused.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from goldpan.engine.base import BatchFn
from goldpan.engine.cache import enter_stage, stage_of
from goldpan.engine.local import EngineWorkerDied
from goldpan.engine.slices import SliceJob, SliceResult, run_slice
from goldpan.engine.tally import WorkerTally

_INIT_LOCK = threading.Lock()
_STARTED_HERE = False  # this process started a private Ray instance (shut it down at exit)
START_ATTEMPTS = 3


def _timed(fn: BatchFn, batch: pa.RecordBatch, context: Any) -> tuple[pa.RecordBatch, str, float]:
    """Runs inside the Ray worker: the output, which worker made it, and how long it took."""
    enter_stage(stage_of(fn, context))  # a new stage: the last stage's own models are dropped
    t0 = time.perf_counter()
    out = fn(batch, context)
    return out, f"{_node_prefix()}pid{os.getpid()}", time.perf_counter() - t0


def _node_prefix() -> str:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()[:8] + ":"
    except Exception:  # noqa: BLE001 -- the label is cosmetic
        return ""


def ensure_ray(address: str | None = None, *, num_cpus: int | None = None,
               runtime_env: Mapping[str, Any] | None = None, object_store_memory: int | None = None,
               namespace: str = "goldpan") -> None:
    """Initialise Ray once per process (reusing an existing connection): see the module docstring."""
    global _STARTED_HERE
    import ray

    with _INIT_LOCK:
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {"namespace": namespace, "include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        env = dict(runtime_env or {})
        if os.environ.get("GOLDPAN_ENGINE_WARM", "1") != "0":
            # Each worker of this job loads what every stage needs when it starts (see `setup_worker`),
            # as the local pool's forkserver does once for all its workers.
            env.setdefault("worker_process_setup_hook", "goldpan.engine.ray_engine.setup_worker")
        if env:
            kwargs["runtime_env"] = env
        if address in (None, "", "local"):
            kwargs.update(num_cpus=num_cpus or os.cpu_count() or 1)
            if object_store_memory:
                kwargs["object_store_memory"] = object_store_memory
            # Ray gives its raylet a fixed 30 s to register; on a saturated machine that can pass.
            for attempt in range(START_ATTEMPTS):
                try:
                    ray.init(**kwargs)
                    break
                except Exception as exc:  # Ray raises a bare Exception for this
                    ray.shutdown()
                    if "timed out during startup" not in str(exc) or attempt == START_ATTEMPTS - 1:
                        raise
            _STARTED_HERE = True
        else:
            ray.init(address=address, **kwargs)


def setup_worker() -> None:
    """Ray's `worker_process_setup_hook`: import the stages' modules and load the models and tokenizers
    every stage needs (goldpan.warmup) when a worker process starts, not in its first task of each
    stage. The local engine does this once in its forkserver; a Ray worker has no parent to share it
    from, so each one loads them itself, before it takes a task. Anything that fails to load here is
    loaded by the first task that needs it."""
    import importlib

    from goldpan.engine.local import PRELOAD

    for module in PRELOAD:
        with contextlib.suppress(Exception):  # warming is an optimisation; a task raises the real error
            importlib.import_module(module)


def shutdown_ray() -> None:
    """Shut down the Ray instance this process started (a connection to a cluster is only closed)."""
    global _STARTED_HERE
    import ray

    with _INIT_LOCK:
        if ray.is_initialized():
            ray.shutdown()
        _STARTED_HERE = False


class RayEngine:
    """Runs batch functions as Ray tasks, at most `in_flight` batches ahead of the consumer, in order.

    `workers`: CPUs of the private instance when this engine starts one, and the parallelism used for
    the window and the set-level shuffles (on a cluster: how many CPUs this stage may use).
    """

    name = "ray"
    shuffles = True  # set-level group-bys (URL, text and MinHash band keys) run as Ray shuffles
    workers_reach_lake = True  # sliced stages: tasks read their slices and write parts (map_slices)
    # doc_scores in one pass with the three models per worker (goldpan.classify.stage): a cluster
    # node has the memory, and the driver then does no I/O
    one_pass_scoring = True

    def __init__(self, workers: int | None = None, *, address: str | None = None,
                 runtime_env: Mapping[str, Any] | None = None, in_flight: int | None = None,
                 max_retries: int = 3, object_store_memory: int | None = None, cpus_per_task: float = 1.0,
                 slice_unit: str = "row_group", tasks_per_worker: int = 8):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.address = address
        self.runtime_env = dict(runtime_env or {})
        self.in_flight = max(self.workers, int(in_flight or 2 * self.workers))
        self.max_retries = max(0, int(max_retries))
        self.object_store_memory = object_store_memory
        self.cpus_per_task = cpus_per_task
        #: how sliced stages cut their input into tasks (goldpan.engine.slices.plan_slices)
        self.slice_unit = slice_unit
        self.tasks_per_worker = max(1, int(tasks_per_worker))
        self.tally = WorkerTally()
        self._handles: dict[Callable, Any] = {}

    # -- set-up ------------------------------------------------------------------------------
    def _remote(self):
        """The batch task (`_timed`): see `_remote_of`."""
        return self._remote_of(_timed)

    def _remote_of(self, fn: Callable):
        """`fn` as a Ray remote function with this engine's options, made once per engine (connecting
        first): a new handle per stage would pickle and export the function again for every stage."""
        handle = self._handles.get(fn)
        if handle is None:
            import ray

            ensure_ray(self.address, num_cpus=self.workers, runtime_env=self.runtime_env,
                       object_store_memory=self.object_store_memory)
            handle = self._handles[fn] = ray.remote(fn).options(
                num_cpus=self.cpus_per_task, max_retries=self.max_retries, retry_exceptions=False)
        return handle

    def prestart(self) -> None:
        """Connect (or start the private instance) and run one no-op task per worker."""
        import ray

        task = self._remote()
        empty = pa.RecordBatch.from_pydict({"x": pa.array([], pa.int64())})
        ray.get([task.remote(_identity, empty, None) for _ in range(self.workers)])

    # -- the engine interface ----------------------------------------------------------------
    def map_batches(self, fn: BatchFn, batches: Iterable[pa.RecordBatch], context: Any = None) -> Iterator[pa.RecordBatch]:
        import ray

        task = self._remote()
        # The context is the same for every batch: put it in the object store once.
        ctx_ref = ray.put(context)
        window: deque = deque()
        try:
            for b in batches:
                window.append((task.remote(fn, b, ctx_ref), b.num_rows))
                if len(window) >= self.in_flight:
                    yield self._result(*window.popleft())
            while window:
                yield self._result(*window.popleft())
        finally:
            for ref, _ in window:
                ray.cancel(ref, force=False)

    def _result(self, ref, rows: int) -> pa.RecordBatch:
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError

        try:
            out, worker, seconds = ray.get(ref)
        except (WorkerCrashedError, RayActorError) as exc:
            raise EngineWorkerDied(
                f"a Ray worker died while holding a batch ({self.max_retries} retries exhausted): {exc}"
            ) from exc
        self.tally.add(worker, rows, seconds)
        return out

    def map_slices(self, fn: BatchFn, context: Any, job: SliceJob) -> Iterator[SliceResult]:
        """One Ray task per slice of `job`: each reads its slice from the lake, runs `fn` and writes a
        Parquet part into the output table (goldpan.engine.slices); results arrive as tasks finish.
        A killed worker's task is retried (`max_retries`), reading the same pinned slice again."""
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError

        task = self._remote_of(_slice_task)
        ctx_ref, job_ref = ray.put(context), ray.put(job)
        pending = [task.remote(fn, ctx_ref, job_ref, i) for i in range(job.slices)]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    res = ray.get(done[0])
                except (WorkerCrashedError, RayActorError) as exc:
                    raise EngineWorkerDied(
                        f"a Ray worker died while holding a slice ({self.max_retries} retries exhausted): {exc}"
                    ) from exc
                self.tally.add(res.worker, res.rows_in, res.busy_s)
                yield res
        finally:
            for ref in pending:
                ray.cancel(ref, force=False)

    def map_tasks(self, fn: Callable[[Any, Any, int], Any], items: Sequence[Any], context: Any = None,
                  rows: Callable[[Any], int] | None = None) -> Iterator[tuple[int, Any]]:
        """`fn(item, context, index)` as one Ray task per item (e.g. one WARC file each), yielding
        (index, result) as tasks finish; `rows(result)` feeds the per-worker tally. For work whose
        unit is not a record batch: the task reads its own input and writes its own part, and returns
        only a small description of what it did. A killed worker's task is retried (`max_retries`)."""
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError

        task = self._remote_of(_item_task)
        ctx_ref = ray.put(context)
        refs = {task.remote(fn, item, ctx_ref, i): i for i, item in enumerate(items)}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                try:
                    out, worker, seconds = ray.get(done[0])
                except (WorkerCrashedError, RayActorError) as exc:
                    raise EngineWorkerDied(
                        f"a Ray worker died while holding a task ({self.max_retries} retries exhausted): {exc}"
                    ) from exc
                self.tally.add(worker, rows(out) if rows is not None else 1, seconds)
                yield refs[done[0]], out
        finally:
            for ref in pending:
                ray.cancel(ref, force=False)

    def group_by_key(self, keys: np.ndarray, owners: np.ndarray) -> list[np.ndarray]:
        """Set-level shuffle (see `goldpan.engine.shuffle`) as Ray map and reduce tasks."""
        from goldpan.engine.shuffle import ray_group_by_key

        self._remote()
        return ray_group_by_key(keys, owners, partitions=self.workers)

    def worker_pids(self) -> list[int]:
        return self.tally.local_pids()

    def close(self) -> None:
        """Nothing to release per stage: the Ray connection lives as long as the process."""
        return


def _slice_task(fn: BatchFn, context: Any, job: SliceJob, index: int) -> SliceResult:
    """Runs inside the Ray worker: read, compute and write one slice (see goldpan.engine.slices)."""
    return run_slice(fn, context, job, index, f"{_node_prefix()}pid{os.getpid()}")


def _item_task(fn: Callable[[Any, Any, int], Any], item: Any, context: Any, index: int) -> tuple[Any, str, float]:
    """Runs inside the Ray worker: one task of `map_tasks`, with its worker label and busy time."""
    t0 = time.perf_counter()
    out = fn(item, context, index)
    return out, f"{_node_prefix()}pid{os.getpid()}", time.perf_counter() - t0


def _identity(batch: pa.RecordBatch, _ctx: Any) -> pa.RecordBatch:
    return batch
