"""An exclusive lock on a folder shared by processes of one machine (`fcntl.flock` on a file in it).

Why: caches beside the lake (the dedup index's key runs, the benchmark material) are rebuilt by
whichever process needs them first; two processes doing it at once would interleave their writes.
The lock is released when the process dies, so a crash never leaves the folder locked.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def folder_lock(root: Path, name: str = ".lock") -> Iterator[None]:
    """Hold an exclusive lock on `root` (created if missing) through the file `root/name`."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / name, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
