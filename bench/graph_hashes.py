"""Same lake whatever runs beside what: the whole graph with steps one after the other and side by side.

Why: `goldpan run` runs independent Dagster steps concurrently on threads (assets/executor.py). That may
only change when things happen, never what is written. This script runs `goldpan run --warc` over the
first N real pages (bench/realdocs.py) twice with the same batch id, with GOLDPAN_CONCURRENT_STEPS=1
(Dagster's in-process order: one step at a time) and with the recipe's concurrency (`--steps`, default 3), each
in a fresh lake and Dagster instance, then hashes every Delta table of both lakes column by column
(rows sorted, so the hash says "same rows", and separately in stored order) and prints the tables and
columns that differ. Columns that record when or in which run something happened (timestamps, run and
attempt ids, training seconds, Delta versions of upstream tables) differ between any two runs and are
left out; their names are printed.

    .venv/bin/python bench/graph_hashes.py --pages 600
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

BATCH = "b20260101T000000-graph-hashes"
# Columns that say when or in which run a row was made: they differ between any two runs.
VOLATILE = {"run_id", "attempt_id", "train_seconds", "upstream_versions_json", "corpus_version",
            "candidate_version", "gate_json", "path"}


def warc_for(pages: int) -> Path:
    import realdocs

    path = realdocs.cache_dir() / "warc" / f"profile-{pages}.warc.gz"
    if not path.exists():
        realdocs.write_warc(realdocs.real_pages(pages), path)
    return path


def run_graph(warc: Path | list[Path], work: Path, steps: int | None, workers: int | None = None) -> tuple[float, Path]:
    """`goldpan run --warc` in a fresh lake (`workers`: GOLDPAN_WORKERS); returns (wall seconds, lake)."""
    lake, home = work / "lake", work / "dagster"
    env = {**os.environ, "DAGSTER_HOME": str(home), "GOLDPAN_LAKE": str(lake)}
    env.pop("GOLDPAN_CONCURRENT_STEPS", None)
    if steps is not None:
        env["GOLDPAN_CONCURRENT_STEPS"] = str(steps)
    if workers is not None:
        env["GOLDPAN_WORKERS"] = str(workers)
    cmd = [sys.executable, "-m", "goldpan.cli", "--lake", str(lake), "run", "--recipe",
           str(ROOT / "recipes" / "warc.yaml"), "--batch", BATCH, "--warc", *map(str, warc if isinstance(warc, list) else [warc])]
    t0 = time.perf_counter()
    log = OUT / f"graph_hashes_{'recipe' if steps is None else steps}{'' if workers is None else f'_w{workers}'}.log"
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"goldpan run failed ({proc.returncode}): see {log}")
    return time.perf_counter() - t0, lake


def table_hashes(lake_root: Path) -> dict[str, dict[str, str]]:
    """table -> {column: sha256 of its values in sorted-row order, "#rows", "#stored_order"}."""
    import pyarrow as pa
    from deltalake import DeltaTable

    out: dict[str, dict[str, str]] = {}
    for d in sorted(p for p in lake_root.iterdir() if (p / "_delta_log").is_dir()):
        t = DeltaTable(str(d)).to_pyarrow_table()
        keep = [f.name for f in t.schema if f.name not in VOLATILE and not pa.types.is_timestamp(f.type)]
        t = t.select(keep)
        stored = hashlib.sha256()
        for name in keep:
            stored.update(repr(t.column(name).to_pylist()).encode())
        rows = sorted(zip(*(map(repr, t.column(n).to_pylist()) for n in keep), strict=True)) if keep else []
        cols = {n: hashlib.sha256("\x00".join(r[i] for r in rows).encode()).hexdigest()[:16]
                for i, n in enumerate(keep)}
        out[d.name] = {**cols, "#rows": str(t.num_rows), "#stored_order": stored.hexdigest()[:16]}
    return out


def diff(a: dict[str, dict[str, str]], b: dict[str, dict[str, str]], stored: bool = False) -> list[str]:
    """Differing tables/columns (`stored`: only the stored-order hashes, else everything but them)."""
    lines = []
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            if not stored:
                lines.append(f"{table}: only in {'serial' if table in a else 'concurrent'} run")
            continue
        for col in sorted(set(a[table]) | set(b[table])):
            if (col == "#stored_order") == stored and a[table].get(col) != b[table].get(col):
                lines.append(f"{table}.{col}: {a[table].get(col)} != {b[table].get(col)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--steps", type=int, default=3, help="concurrent steps of the second run (default 3)")
    ap.add_argument("--quick", action="store_true", help="200 pages")
    ap.add_argument("--workers", help="A,B: compare GOLDPAN_WORKERS=A with =B instead (steps as the recipe says)")
    ap.add_argument("--warc", nargs="+", type=Path, help="these WARC files instead of N real pages in one file")
    args = ap.parse_args(argv)
    if args.quick:
        args.pages = 200
    OUT.mkdir(parents=True, exist_ok=True)
    warc = args.warc or warc_for(args.pages)
    with tempfile.TemporaryDirectory(prefix="goldpan-graph-hashes-") as tmp:
        if args.workers:
            wa, wb = (int(w) for w in args.workers.split(","))
            serial_s, serial_lake = run_graph(warc, Path(tmp) / "serial", None, wa)
            conc_s, conc_lake = run_graph(warc, Path(tmp) / "concurrent", None, wb)
        else:
            serial_s, serial_lake = run_graph(warc, Path(tmp) / "serial", 1)
            conc_s, conc_lake = run_graph(warc, Path(tmp) / "concurrent", args.steps)
        a, b = table_hashes(serial_lake), table_hashes(conc_lake)
    differences, order = diff(a, b), diff(a, b, stored=True)
    print(f"{', '.join(map(str, args.warc)) if args.warc else f'{args.pages} real pages'}; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.workers:
        print(f"workers {args.workers}: {serial_s:.1f} s and {conc_s:.1f} s wall")
    else:
        print(f"serial steps: {serial_s:.1f} s wall; concurrent steps ({args.steps}): {conc_s:.1f} s wall")
    print(f"{len(a)} tables compared, columns left out: {', '.join(sorted(VOLATILE))} and every timestamp")
    print("\n".join(differences) if differences else "identical rows: every table, every column")
    # deltalake's writer spreads a write's batches over its threads: the order of rows in the files of
    # one write differs between any two runs (tests/fixtures/stage_runs.py), so this is information only.
    print("stored row order differs (information: not a content difference): " + (", ".join(order) or "none"))
    (OUT / "graph_hashes.json").write_text(json.dumps(
        {"pages": args.pages, "serial_s": round(serial_s, 1), "concurrent_s": round(conc_s, 1),
         "differences": differences, "stored_order_differences": order, "tables": a}, indent=2))
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
