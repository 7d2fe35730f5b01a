"""How every command finds the lake: --lake, else $GOLDPAN_LAKE, else ./lake.

Object stores: `--lake s3://bucket/lake` with credentials and endpoint passed as deltalake storage
options, either repeated `--storage-option KEY=VALUE` or `$GOLDPAN_STORAGE_OPTIONS` (a JSON object);
the flags win over the environment.
"""

from __future__ import annotations

import json
import os
import sys

from goldpan.lake import Lake


def storage_options(args) -> dict[str, str]:
    opts: dict[str, str] = {}
    env = os.environ.get("GOLDPAN_STORAGE_OPTIONS")
    if env:
        try:
            opts.update({str(k): str(v) for k, v in json.loads(env).items()})
        except (ValueError, AttributeError):
            sys.exit("goldpan: $GOLDPAN_STORAGE_OPTIONS must be a JSON object of strings")
    for item in getattr(args, "storage_option", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            sys.exit(f"goldpan: --storage-option expects KEY=VALUE, got {item!r}")
        opts[key] = value
    return opts


def open_lake(args) -> Lake:
    root = getattr(args, "lake", None) or os.environ.get("GOLDPAN_LAKE", "lake")
    if "://" not in root and not os.path.isdir(root):
        sys.exit(f"goldpan: no lake at {root} (run `make demo` or pass --lake)")
    return Lake(root, storage_options(args) or None)
