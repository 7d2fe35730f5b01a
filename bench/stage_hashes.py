"""Per-document CPU of `documents` and `doc_signals`, and a hash of their outputs, on real pages.

Why: speeding up a stage must not change a single output value. This script runs the stages' engine
batch functions (`goldpan.extract.stage.extract_batch`, `goldpan.filter.stage.signals_batch`) in one
process, the way a pool worker runs them, over the first N real pages of bench/realdocs.py (many
languages, CJK included), and prints:
- CPU milliseconds per page / document of each stage (`time.process_time`, so the figure means the same
  on a loaded machine), after a warm-up batch that loads models and builds tokenizers;
- a SHA-256 of each stage's output table and of every column, written to bench/out/stage_hashes.json.
  Run it before a change with `--save-reference`, after it with `--check`: a differing column is named.

    .venv/bin/python bench/stage_hashes.py --pages 1000 --save-reference   # before
    .venv/bin/python bench/stage_hashes.py --pages 1000 --check            # after each change
    .venv/bin/python bench/stage_hashes.py --pages 1000 --compare 8c7048b  # before/after in one run

`--compare REV` exports goldpan at git revision REV (`git archive`, into a temporary folder) and runs
this script on it and on the working tree alternately (`--rounds` times each, in subprocesses), then
prints the CPU ms per row of both side by side (median over rounds) and whether the outputs are equal.

The signals' input is the extracted text of every kept document (in the graph, dedup's paragraph step
may shorten some texts first; the per-document work is the same function).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import sys
import time
from pathlib import Path

import pyarrow as pa

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
# The goldpan tree to measure: this checkout, or an exported revision (--compare sets it for a child).
ROOT = Path(os.environ.get("GOLDPAN_STAGE_ROOT") or BENCH.parent)
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))


def page_rows(pages: int) -> list[dict]:
    """`pages` rows (as the WARC import writes them) of a WARC of the first `pages` real pages."""
    import realdocs

    from goldpan.lake.schemas import KEPT
    from goldpan.recipe import WarcSection
    from goldpan.warc.importer import WarcStats, rows_from_file

    warc = realdocs.cache_dir() / "warc" / f"profile-{pages}.warc.gz"
    if not warc.exists():
        realdocs.write_warc(realdocs.real_pages(pages), warc)
    rows = rows_from_file(str(warc), "bench", WarcSection(), WarcStats())
    return [r for r in rows if r.get("status") == KEPT]


def column_hashes(table: pa.Table) -> dict[str, str]:
    """SHA-256 of every column's values (in row order), and of the whole table under '*'."""
    out: dict[str, str] = {}
    whole = hashlib.sha256()
    for name in table.column_names:
        h = hashlib.sha256()
        for value in table.column(name).to_pylist():
            h.update(repr(value).encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        out[name] = h.hexdigest()[:16]
        whole.update(f"{name}={out[name]};".encode())
    out["*"] = whole.hexdigest()[:16]
    return out


def _run(fn, batches: list, ctx, profile: cProfile.Profile | None) -> tuple[pa.Table, float]:
    fn(batches[0], ctx)  # warm-up: models, tokenizers, caches of the rules (not the chunk caches' content)
    out: list[pa.RecordBatch] = []
    if profile:
        profile.enable()
    c0 = time.process_time()
    for b in batches:
        out.append(fn(b, ctx))
    cpu = time.process_time() - c0
    if profile:
        profile.disable()
    return pa.Table.from_batches(out), cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--stages", default="documents,doc_signals")
    ap.add_argument("--save-reference", action="store_true", help="store the hashes as the reference")
    ap.add_argument("--check", action="store_true", help="compare with the stored reference (exit 1 on a difference)")
    ap.add_argument("--profile", help="write a cProfile of the timed part of this stage and print its top")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--compare", metavar="REV", help="measure git revision REV and this tree alternately")
    ap.add_argument("--rounds", type=int, default=2, help="with --compare: runs of each side")
    ap.add_argument("--quick", action="store_true", help="200 pages (bench/run_all.py --quick)")
    ap.add_argument("--json-out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.pages = 200
    if args.compare:
        return compare(args.compare, args.pages, args.stages, args.rounds)
    os.environ.setdefault("GOLDPAN_ENGINE", "inprocess")

    from goldpan.extract.langid import default_model_path
    from goldpan.extract.stage import ExtractContext, extract_batch
    from goldpan.filter.stage import signals_batch
    from goldpan.lake.schemas import KEPT
    from goldpan.recipe_loader import load_recipe

    recipe = load_recipe(ROOT / "recipes" / "warc.yaml")
    stages = args.stages.split(",")
    pages = page_rows(args.pages)
    page_batches = [pa.RecordBatch.from_pylist(pages[i : i + 64]) for i in range(0, len(pages), 64)]
    result: dict = {"pages": len(pages), "load": round(os.getloadavg()[0], 2), "stages": {}}

    prof = cProfile.Profile(time.process_time) if args.profile else None
    ctx = ExtractContext(recipe.extract, default_model_path())
    docs, cpu = _run(extract_batch, page_batches, ctx, prof if args.profile == "documents" else None)
    if "documents" in stages:
        result["stages"]["documents"] = {"rows": docs.num_rows, "cpu_s": round(cpu, 2),
                                         "cpu_ms_per_row": round(1000 * cpu / docs.num_rows, 2),
                                         "hashes": column_hashes(docs)}
    if "doc_signals" in stages:
        kept = [
            {"doc_id": r["doc_id"], "batch_id": r["batch_id"], "lang": r["lang"], "text": r["text"]}
            for r in docs.select(["doc_id", "batch_id", "lang", "text", "status"]).to_pylist() if r["status"] == KEPT
        ]
        kept.sort(key=lambda r: r["doc_id"])
        batches = [pa.RecordBatch.from_pylist(kept[i : i + 128]) for i in range(0, len(kept), 128)]
        sigs, cpu = _run(signals_batch, batches, None, prof if args.profile == "doc_signals" else None)
        result["stages"]["doc_signals"] = {"rows": sigs.num_rows, "cpu_s": round(cpu, 2),
                                           "cpu_ms_per_row": round(1000 * cpu / max(sigs.num_rows, 1), 2),
                                           "hashes": column_hashes(sigs)}

    print(f"{len(pages)} real pages, load {result['load']}")
    print(f"{'stage':<14}{'rows':>7}{'CPU s':>9}{'CPU ms/row':>12}  output hash")
    for name, st in result["stages"].items():
        print(f"{name:<14}{st['rows']:>7}{st['cpu_s']:>9.2f}{st['cpu_ms_per_row']:>12.2f}  {st['hashes']['*']}")
    OUT.mkdir(parents=True, exist_ok=True)
    ref_path = OUT / f"stage_hashes_reference_{args.pages}.json"
    (OUT / f"stage_hashes_{args.pages}.json").write_text(json.dumps(result, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result))
    status = 0
    if args.save_reference:
        ref_path.write_text(json.dumps(result, indent=2))
        print(f"reference saved: {ref_path}")
    if args.check:
        ref = json.loads(ref_path.read_text())
        for name, st in result["stages"].items():
            want = ref["stages"].get(name, {}).get("hashes", {})
            diff = [c for c, h in st["hashes"].items() if c != "*" and want.get(c) != h]
            ref_ms = ref["stages"].get(name, {}).get("cpu_ms_per_row")
            if diff:
                status = 1
                print(f"{name}: DIFFERS in {diff}")
            else:
                print(f"{name}: identical to the reference (reference run: {ref_ms} CPU ms/row)")
    if prof is not None:
        prof.dump_stats(str(OUT / f"stage_{args.profile}.prof"))
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
    return status


def compare(rev: str, pages: int, stages: str, rounds: int) -> int:
    """CPU ms per row of revision `rev` and of this tree, measured alternately in child processes."""
    import statistics
    import subprocess
    import tempfile

    here = BENCH.parent
    runs: dict[str, list[dict]] = {rev: [], "this tree": []}
    with tempfile.TemporaryDirectory(prefix="goldpan-rev-") as tmp:
        archive = subprocess.run(["git", "-C", str(here), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for _ in range(rounds):
            for name, root in ((rev, tmp), ("this tree", str(here))):
                out = Path(tmp) / "result.json"
                env = {**os.environ, "GOLDPAN_STAGE_ROOT": root}
                subprocess.run([sys.executable, __file__, "--pages", str(pages), "--stages", stages,
                                "--json-out", str(out)], check=True, env=env, cwd=root, stdout=subprocess.DEVNULL)
                runs[name].append(json.loads(out.read_text()))
    status = 0
    print(f"{pages} real pages, {rounds} alternating runs per side, load now {os.getloadavg()[0]:.1f}")
    print(f"{'stage':<14}{rev + ' ms/row':>20}{'this tree ms/row':>20}{'speed-up':>10}  outputs")
    for stage in stages.split(","):
        before = statistics.median(r["stages"][stage]["cpu_ms_per_row"] for r in runs[rev])
        after = statistics.median(r["stages"][stage]["cpu_ms_per_row"] for r in runs["this tree"])
        same = runs[rev][0]["stages"][stage]["hashes"] == runs["this tree"][0]["stages"][stage]["hashes"]
        status |= not same
        print(f"{stage:<14}{before:>20.2f}{after:>20.2f}{before / after:>9.2f}x  {'identical' if same else 'DIFFER'}")
    (OUT / f"stage_compare_{pages}.json").write_text(json.dumps(runs, indent=2))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
