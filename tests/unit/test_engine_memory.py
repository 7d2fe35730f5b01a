"""A stage's own models leave the worker when the worker moves on to the next stage; freed memory goes
back to the OS (goldpan.engine.cache.enter_stage, goldpan.engine.memory.release_memory). The pool's case
is in test_engine.py, whose tests share one started pool."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

from goldpan.engine import InProcessEngine
from goldpan.engine.cache import _CACHE, clear_worker_cache, enter_stage, worker_cache
from goldpan.engine.memory import release_memory
from goldpan.engine.meter import rss_bytes

MODEL_BYTES = 64 * 2**20


def score_with_big_model(batch: pa.RecordBatch, _ctx) -> pa.RecordBatch:
    """A stage whose batches need a large read-only object (like doc_scores' fastText models)."""
    model = worker_cache(("big-model", 1), lambda: np.ones(MODEL_BYTES // 8), stage_local=True)
    return pa.record_batch({"x": batch.column("x"), "score": pa.array([float(model[0])] * batch.num_rows)})


def report_cached(batch: pa.RecordBatch, _ctx) -> pa.RecordBatch:
    """The next stage: says whether this process still holds the previous stage's model, and its RSS."""
    held = ("big-model", 1) in _CACHE
    return pa.record_batch({"x": batch.column("x"), "held": pa.array([held] * batch.num_rows),
                            "rss": pa.array([rss_bytes(os.getpid())] * batch.num_rows)})


def _batches(n: int):
    return (pa.record_batch({"x": pa.array([i])}) for i in range(n))


def test_stage_local_entries_are_dropped_when_the_process_moves_to_another_stage() -> None:
    clear_worker_cache()
    enter_stage("score")
    worker_cache(("fasttext", "sha-a"), lambda: "model a", stage_local=True)
    worker_cache(("lid", "path"), lambda: "language id")  # shared by every stage: kept
    assert enter_stage("score") is False  # the same stage's next batch keeps its model
    assert ("fasttext", "sha-a") in _CACHE
    assert enter_stage("tokens") is True
    assert ("fasttext", "sha-a") not in _CACHE and ("lid", "path") in _CACHE
    clear_worker_cache()


def test_in_process_engine_frees_the_last_stages_model_and_its_memory() -> None:
    clear_worker_cache()
    engine = InProcessEngine()
    scored = list(engine.map_batches(score_with_big_model, _batches(2)))
    assert [b.column("score")[0].as_py() for b in scored] == [1.0, 1.0]
    held_rss = rss_bytes(os.getpid())
    out = list(engine.map_batches(report_cached, _batches(1)))
    assert out[0].column("held")[0].as_py() is False
    # the 64 MB array went back to the OS, not only to the allocator
    assert out[0].column("rss")[0].as_py() < held_rss - MODEL_BYTES // 2
    clear_worker_cache()


def test_release_memory_returns_freed_heap_to_the_os() -> None:
    blocks = [bytearray(4096) for _ in range(20_000)]  # ~80 MB of small heap blocks (not mmapped one by one)
    before = rss_bytes(os.getpid())
    del blocks
    release_memory()
    assert rss_bytes(os.getpid()) < before - 40 * 2**20
