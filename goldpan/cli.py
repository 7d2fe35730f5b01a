"""The `goldpan` command: audit and operate a lake without Dagster.

Subcommands live in `goldpan.commands`, one module each (see its `COMMAND_MODULES`).

Global options (`--lake`, `--storage-option`) are accepted before or after the subcommand. A user
error (a bad query, an unknown rule, a recipe that does not validate, a missing file) prints one
line naming the command and the problem and exits 2; set GOLDPAN_TRACEBACK=1 to see the traceback.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from typing import NoReturn

from goldpan.commands import COMMAND_MODULES

USAGE_ERROR = 2


def _add_global_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    # In a subcommand the defaults are suppressed, so `--lake X sql` is not reset by the subparser.
    default = argparse.SUPPRESS if suppress else None
    p.add_argument("--lake", default=default,
                   help="lake root (default: $GOLDPAN_LAKE or ./lake); a path or an s3://, gs://, az:// URI")
    p.add_argument("--storage-option", action="append", metavar="KEY=VALUE", default=default,
                   help="deltalake storage option for an object-store lake (repeatable; also $GOLDPAN_STORAGE_OPTIONS)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="goldpan", description="Audit and operate a goldpan lake.")
    _add_global_options(p, suppress=False)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for sp in set(sub.choices.values()):
        if not any("--lake" in a.option_strings for a in sp._actions):
            _add_global_options(sp, suppress=True)
    return p


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that describe bad input, not a goldpan bug: shown as one line, no traceback."""
    import duckdb

    from goldpan.recipe import RecipeError

    errors: list[type[BaseException]] = [RecipeError, ValueError, LookupError, OSError, duckdb.Error]
    try:
        from deltalake.exceptions import DeltaError

        errors.append(DeltaError)
    except ImportError:  # pragma: no cover - deltalake is a dependency
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except _user_errors() as exc:
        if os.environ.get("GOLDPAN_TRACEBACK") == "1":
            raise
        message = str(exc).strip() or type(exc).__name__
        print(f"goldpan {args.cmd}: error: {message}", file=sys.stderr)
        return USAGE_ERROR


def entry() -> NoReturn:
    """The `goldpan` console command: `main`, then leave the process without tearing Python down.

    Why: after `goldpan run` the process holds Dagster, Great Expectations, DuckDB, spaCy and the run's
    objects, and the interpreter's own teardown (module cleanup, its last collections over the whole
    heap, native destructors) took ~2 s of every run after all of its work was written (measured on the
    6,000-page end-to-end WARC: 2.0 s from `main` returning to the process ending, 0.14 s with this).
    What must happen at exit still happens, in the interpreter's order: non-daemon threads are joined,
    then the atexit handlers run (worker pools and Ray shut down, multiprocessing's children joined,
    logging flushed), then the standard streams are flushed. Only the teardown is skipped. `main` stays a
    plain function for in-process callers (tests); an exception out of it exits the usual way."""
    code = main()
    # What Py_FinalizeEx runs first and second; an interpreter without them exits the usual way.
    join_threads = getattr(threading, "_shutdown", None)
    run_atexit = getattr(atexit, "_run_exitfuncs", None)
    if join_threads is None or run_atexit is None:
        sys.exit(code)
    join_threads()
    run_atexit()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`goldpan funnel | head`) or a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
