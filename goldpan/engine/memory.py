"""Give memory a step no longer uses back to the operating system.

Why: a long-lived process (the Dagster run process, a pool worker) runs one step after another. What a
step freed stays mapped in the allocators (glibc's heap, Arrow's memory pool) unless they are asked to
return it, so the process's resident set only ever grows to the largest step seen so far and carries it
into every later step, where it adds to the next step's own peak (measured with
`bench/end_to_end.py`: the driver kept ~300 MB after `domain_models` through `doc_scores`).
"""

from __future__ import annotations

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


def release_memory(collect: bool = True) -> None:
    """Collect garbage (reference cycles that hold buffers), return Arrow's unused pool memory and trim
    the C heap. Costs milliseconds: call it between steps, not per record."""
    if collect:
        gc.collect()
    import pyarrow as pa

    with contextlib.suppress(Exception):  # best effort: a pool without the call keeps its memory
        pa.default_memory_pool().release_unused()
    trim = _libc_trim()
    if trim is not None:
        trim(0)
