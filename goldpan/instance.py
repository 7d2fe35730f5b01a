"""The project's Dagster instance settings (`$DAGSTER_HOME/dagster.yaml`), written by `make demo` / `make ui`.

No Dagster import: this only writes YAML. Telemetry is off (nothing leaves the machine) and the
"new user experience" dialog (`nux`, the "Join the community" prompt) is off, so a fresh instance
opens on the asset graph. Keys the user already set are kept; only missing ones are added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

INSTANCE_SETTINGS: dict[str, Any] = {
    "telemetry": {"enabled": False},
    "nux": {"enabled": False},
}


def ensure_instance_config(home: str | Path) -> Path:
    """Create `home/dagster.yaml` with INSTANCE_SETTINGS, or add the ones an existing file lacks."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    current = yaml.safe_load(cfg.read_text(encoding="utf-8")) if cfg.exists() else None
    current = current if isinstance(current, dict) else {}
    merged = dict(current)
    for key, value in INSTANCE_SETTINGS.items():
        merged.setdefault(key, value)
    if merged != current or not cfg.exists():
        cfg.write_text(yaml.safe_dump(merged, sort_keys=True), encoding="utf-8")
    return cfg


if __name__ == "__main__":
    import os
    import sys

    print(ensure_instance_config(sys.argv[1] if len(sys.argv) > 1 else os.environ["DAGSTER_HOME"]))
