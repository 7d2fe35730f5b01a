"""Where the CPU goes: the whole graph over real pages, in one process, profiled per step.

Runs `goldpan run --warc` (the whole Dagster graph: import, extract, dedup, filter, classify with its
model training, mix, candidate, gate, release) with every per-document stage in process
(GOLDPAN_ENGINE=inprocess), under cProfile with a **CPU-time** clock (`time.process_time`), so the
figures mean the same on a loaded machine as on an idle one: CPU seconds, not wall seconds. Threads'
CPU (fastText training on the domain-mining threads) is charged to the step that waits for them.

Prints, per Dagster step, CPU seconds and CPU milliseconds per input page; then the functions with the
most own CPU time. Writes bench/out/profile_graph.json (+ the raw .prof for `snakeviz`/`pstats`).

    .venv/bin/python bench/profile_graph.py --pages 1000
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

# Step name -> the asset function Dagster calls for it (module, function), for the cumulative CPU.
STEP_FUNCTIONS = {
    "pages": ("assets/crawl.py", "pages"),
    "documents": ("assets/extract.py", "documents"),
    "document_variants": ("assets/extract.py", "document_variants"),
    "dedup_clusters": ("assets/dedup.py", "dedup_clusters"),
    "doc_signals": ("assets/filter.py", "doc_signals"),
    "rejections": ("assets/filter.py", "rejections"),
    "quality_model": ("assets/classifiers.py", "quality_model"),
    "domain_models": ("assets/classifiers.py", "domain_models"),
    "doc_scores": ("assets/classifiers.py", "doc_scores"),
    "quality_decisions": ("assets/classifiers.py", "quality_decisions"),
    "doc_tokens": ("assets/mix.py", "doc_tokens"),
    "curated_documents": ("assets/mix.py", "curated_documents"),
    "mix_decisions": ("assets/mix.py", "mix_decisions"),
    "corpus_candidate": ("assets/mix.py", "corpus_candidate"),
    "training_corpus": ("assets/corpus.py", "training_corpus"),
}


def warc_for(pages: int) -> Path:
    """A WARC of the first `pages` real pages (bench/realdocs.py's cache)."""
    import realdocs

    path = realdocs.cache_dir() / "warc" / f"profile-{pages}.warc.gz"
    if not path.exists():
        realdocs.write_warc(realdocs.real_pages(pages), path)
    return path


def step_cpu(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative CPU seconds of each asset function (the `metered` wrapper shares the name: take the max)."""
    out: dict[str, float] = {}
    for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for step, (mod, name) in STEP_FUNCTIONS.items():
            if func == name and file.endswith(mod):
                out[step] = max(out.get(step, 0.0), ct)
    for check_file in ("quality_checks/checks.py",):
        total = sum(ct for (f, _l, fn), (_c, _n, _t, ct, _cl) in stats.stats.items()  # type: ignore[attr-defined]
                    if f.endswith(check_file) and fn in ("_check", "candidate_gate"))
        if total:
            out["asset checks (GX)"] = total
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--warc", help="profile this WARC instead of real pages from realdocs")
    ap.add_argument("--top", type=int, default=35)
    args = ap.parse_args(argv)
    warc = Path(args.warc) if args.warc else warc_for(args.pages)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="goldpan-prof-") as tmp:
        lake, home = Path(tmp) / "lake", Path(tmp) / "dagster"
        os.environ.update(GOLDPAN_ENGINE="inprocess", DAGSTER_HOME=str(home), GOLDPAN_LAKE=str(lake),
                          GOLDPAN_RECIPE=str(ROOT / "recipes" / "warc.yaml"))
        home.mkdir()
        from assets.launch import launch

        prof = cProfile.Profile(time.process_time)
        t0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        ok, _batch = launch(warc=[str(warc)], lake_root=str(lake), recipe_path=os.environ["GOLDPAN_RECIPE"])
        prof.disable()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    raw = OUT / "profile_graph.prof"
    prof.dump_stats(raw)
    stats = pstats.Stats(prof)
    steps = step_cpu(stats)
    print(f"\nwhole graph: {wall:.1f} s wall, {cpu:.1f} s CPU, {args.pages} pages "
          f"(load {os.getloadavg()[0]:.1f}); success={ok}")
    print(f"{'step':<22}{'CPU s':>9}{'CPU ms/page':>13}")
    for step, s in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"{step:<22}{s:>9.1f}{1000 * s / args.pages:>13.2f}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)
    (OUT / "profile_graph.json").write_text(json.dumps(
        {"pages": args.pages, "warc": str(warc), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
         "steps_cpu_s": {k: round(v, 2) for k, v in steps.items()}, "load": os.getloadavg()[0]}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
