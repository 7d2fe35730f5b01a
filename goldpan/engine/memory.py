"""Give memory a step no longer uses back to the operating system.

Why: a long-lived process (the Dagster run process, a pool worker) runs one step after another. What a
step freed stays mapped in the allocators (glibc's heap, Arrow's memory pool) unless they are asked to
return it, so the process's resident set only ever grows to the largest step seen so far and carries it
into every later step, where it adds to the next step's own peak (measured with
`bench/end_to_end.py`: the driver kept ~300 MB after `domain_models` through `doc_scores`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc_trim():
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


#: freeze what survives a collection once this many objects were added since the last freeze
FREEZE_GROWTH = 100_000


def release_memory(collect: bool = True) -> None:
    """Collect garbage (reference cycles that hold buffers), return Arrow's unused pool memory and trim
    the C heap. Costs milliseconds: call it between steps, not per record."""
    if collect:
        gc.collect()
        _freeze_long_lived()
    import pyarrow as pa

    with contextlib.suppress(Exception):  # best effort: a pool without the call keeps its memory
        pa.default_memory_pool().release_unused()
    trim = _libc_trim()
    if trim is not None:
        trim(0)


def _freeze_long_lived() -> None:
    """Keep the process's long-lived objects out of later full collections (`gc.freeze`).

    Why: a full collection walks every tracked object, and a Dagster run process holds ~0.5 M that live
    as long as it does (the modules of Dagster, GX, spaCy, trafilatura, their tables): without this each
    call took ~0.25 s, ~4 s of a 21 s `full_batch_job` run of 25 real pages (15 calls; with it ~0.3 s).
    Right after a full collection everything left is reachable; when the heap grew by FREEZE_GROWTH
    objects since the last freeze (imports, in the first steps of a process), those survivors are
    moved to the permanent generation. Frozen objects are still freed by reference counting; only one
    that later becomes part of an unreachable cycle is never collected, which the growth threshold
    bounds to what was alive at a few step boundaries, not a growth per step or per run."""
    if len(gc.get_objects(generation=2)) >= FREEZE_GROWTH:
        if not gc.get_freeze_count():
            # at exit they go back to the collector, so the interpreter's last collections finalize
            # them as before (nanobind types, e.g. DuckDB's, otherwise report themselves leaked)
            atexit.register(gc.unfreeze)
        gc.freeze()
