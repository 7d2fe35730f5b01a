"""Per-worker cache of heavy objects (language-ID and classifier models, tokenizers).

Each worker process loads a model the first time a batch needs it and keeps it for every later
batch, of this stage and of the next stages when the pool is reused. Keys carry what identifies the
object (a model's path and sha1), so a new model is a new entry, never a stale one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

_CACHE: dict[Hashable, object] = {}
_LOCK = threading.Lock()
# A bound on entries: a long-lived worker that sees many model versions must not keep them all.
MAX_ENTRIES = 16


def worker_cache(key: Hashable, factory: Callable[[], T]) -> T:
    """The object cached under `key` in this process, built by `factory()` on first use."""
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]  # type: ignore[return-value]
    value = factory()
    with _LOCK:
        if len(_CACHE) >= MAX_ENTRIES:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE.setdefault(key, value)
        return _CACHE[key]  # type: ignore[return-value]


def clear_worker_cache() -> None:
    with _LOCK:
        _CACHE.clear()
