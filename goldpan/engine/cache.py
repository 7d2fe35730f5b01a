"""Per-worker cache of heavy objects (language-ID and classifier models, tokenizers).

Each worker process loads a model the first time a batch needs it and keeps it for every later
batch, of this stage and of the next stages when the pool is reused. Keys carry what identifies the
object (a model's path and sha1), so a new model is a new entry, never a stale one.

An entry made with `stage_local=True` (a model only one stage uses, e.g. the fastText
classifiers of `doc_scores`) is dropped when the process starts a batch of another stage
(`enter_stage`): every later step of the run would otherwise carry it in every worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

_CACHE: dict[Hashable, object] = {}
_STAGE_LOCAL: set[Hashable] = set()
_STAGE: list[str | None] = [None]  # the stage (batch function) this process ran last
_LOCK = threading.Lock()
# A bound on entries: a long-lived worker that sees many model versions must not keep them all.
MAX_ENTRIES = 16


def worker_cache(key: Hashable, factory: Callable[[], T], stage_local: bool = False) -> T:
    """The object cached under `key` in this process, built by `factory()` on first use.
    `stage_local`: drop it when this process moves on to another stage (see `enter_stage`)."""
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]  # type: ignore[return-value]
    value = factory()
    with _LOCK:
        if len(_CACHE) >= MAX_ENTRIES:
            oldest = next(iter(_CACHE))
            _CACHE.pop(oldest)
            _STAGE_LOCAL.discard(oldest)
        _CACHE.setdefault(key, value)
        if stage_local:
            _STAGE_LOCAL.add(key)
        return _CACHE[key]  # type: ignore[return-value]


def stage_of(fn: Callable, context: object = None) -> str:
    """The stage a batch function belongs to, as `enter_stage` compares them: its qualified name, and
    the context's `stage_key` when it has one (e.g. one pass per model of the same function)."""
    key = getattr(context, "stage_key", None)
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    return f"{name}[{key}]" if key is not None else name


def enter_stage(stage: str) -> bool:
    """Called by the engines before each batch with the batch function's name: when it differs from the
    last batch's, drop the stage-local entries and give their memory back. True when entries were dropped."""
    with _LOCK:
        if _STAGE[0] == stage:
            return False
        _STAGE[0] = stage
        dropped = [k for k in _STAGE_LOCAL if k in _CACHE]
        for k in dropped:
            del _CACHE[k]
        _STAGE_LOCAL.clear()
    if dropped:
        from goldpan.engine.memory import release_memory

        release_memory()
    return bool(dropped)


def clear_worker_cache() -> None:
    with _LOCK:
        _CACHE.clear()
        _STAGE_LOCAL.clear()
        _STAGE[0] = None
