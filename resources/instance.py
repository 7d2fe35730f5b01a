"""The Dagster instance goldpan runs on: created once, configured from `instance/dagster.yaml`.

Why: two processes that open a fresh `DAGSTER_HOME` at the same moment both run Dagster's SQLite schema
migration, and one dies in it. Every entry point that may run concurrently (the demo, the UI, `goldpan
run`, the concurrency tests) calls `prepare_instance` first: it writes the project's instance config
when there is none and creates the storage under an exclusive file lock, so later processes find it
migrated.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "instance" / "dagster.yaml"


def prepare_instance(home: str | os.PathLike[str] | None = None) -> Path:
    """Create (once) and migrate the instance at `home` (default $DAGSTER_HOME); returns its path."""
    import dagster as dg

    path = Path(home or os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".goldpan-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (path / "dagster.yaml").exists():
                shutil.copyfile(TEMPLATE, path / "dagster.yaml")
            # Creating the storage migrates it; upgrade() is a no-op when current. Its progress lines
            # go to stdout, which would make a first demo's output differ from a second's.
            with contextlib.redirect_stdout(io.StringIO()):
                instance = dg.DagsterInstance.from_config(str(path))
                try:
                    instance.upgrade()
                finally:
                    instance.dispose()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path
