"""How every command finds the lake: --lake, else $GOLDPAN_LAKE, else ./lake."""

from __future__ import annotations

import os
import sys

from goldpan.lake import Lake


def open_lake(args) -> Lake:
    root = getattr(args, "lake", None) or os.environ.get("GOLDPAN_LAKE", "lake")
    if "://" not in root and not os.path.isdir(root):
        sys.exit(f"goldpan: no lake at {root} (run `make demo` or pass --lake)")
    return Lake(root)
