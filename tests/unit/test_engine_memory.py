"""A stage's own models leave the worker when the worker moves on to the next stage; freed memory goes
back to the OS (goldpan.engine.cache.enter_stage, goldpan.engine.memory.release_memory). The pool's case
is in test_engine.py, whose tests share one started pool."""

from __future__ import annotations

import os

from goldpan.engine import InProcessEngine
from goldpan.engine.cache import _CACHE, clear_worker_cache, enter_stage, worker_cache
from goldpan.engine.memory import release_memory
from goldpan.engine.meter import rss_bytes
from tests.fixtures.memory_stages import MODEL_BYTES, batches_of_one, report_cached, score_with_big_model


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
    scored = list(engine.map_batches(score_with_big_model, batches_of_one(2)))
    assert [b.column("score")[0].as_py() for b in scored] == [1.0, 1.0]
    held_rss = rss_bytes(os.getpid())
    out = list(engine.map_batches(report_cached, batches_of_one(1)))
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
