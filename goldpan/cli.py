"""The `goldpan` command: audit and operate a lake without Dagster.

Subcommands live in `goldpan.commands`, one module each (see its `COMMAND_MODULES`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from goldpan.commands import COMMAND_MODULES


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="goldpan", description="Audit and operate a goldpan lake.")
    p.add_argument("--lake", help="lake root (default: $GOLDPAN_LAKE or ./lake); a path or an s3://, gs://, az:// URI")
    p.add_argument("--storage-option", action="append", metavar="KEY=VALUE",
                   help="deltalake storage option for an object-store lake (repeatable; also $GOLDPAN_STORAGE_OPTIONS)")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
