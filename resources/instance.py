"""The Dagster instance goldpan runs on: created once, configured from `instance/dagster.yaml`.

Why: two processes that open a fresh `DAGSTER_HOME` at the same moment both run Dagster's SQLite schema
migration, and one dies in it. Every entry point that may run concurrently (the demo, the UI, `goldpan
run`, the concurrency tests) calls `prepare_instance` first: it writes the project's instance config
and creates the storage under an exclusive file lock, so later processes find it migrated.

The config: the run queue and per-batch limit that concurrent runs rely on, run monitoring (a killed
run is marked failed), telemetry off (nothing leaves the machine) and the "Join the community" dialog
(`nux`) off. An existing `dagster.yaml` keeps every key its user set; only missing top-level keys are
added from the template.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
from pathlib import Path

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "instance" / "dagster.yaml"


def write_instance_config(home: Path) -> Path:
    """Create `home/dagster.yaml` from the template, or add the template's keys an existing file lacks."""
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")  # keeps the template's comments
        return cfg
    current = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    current = current if isinstance(current, dict) else {}
    template = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    missing = {k: v for k, v in template.items() if k not in current}
    if missing:
        cfg.write_text(yaml.safe_dump({**current, **missing}, sort_keys=False), encoding="utf-8")
    return cfg


def prepare_instance(home: str | os.PathLike[str] | None = None) -> Path:
    """Configure (once) and migrate the instance at `home` (default $DAGSTER_HOME); returns its path."""
    import dagster as dg

    path = Path(home or os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".goldpan-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            write_instance_config(path)
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
