"""Throughput of the whole extract stage on a WARC of real pages: goldpan's extractors vs trafilatura.

Both run the *same* stage code (goldpan.extract.stage): decode with charset verification, main-text
extraction, normalisation, fastText language ID (+ per-line mixed-language profile), token/word/
sentence counts, then a streamed Delta write into a temporary lake. Only the extractor differs.
pages/s per core = pages / CPU seconds of this process (all threads, including the Delta writer),
which is robust to the machine being shared; wall-clock pages/s is printed too.

    .venv/bin/python bench/extract_speed.py            # all ~940 pages; trafilatura on a 1-in-3 subset
    .venv/bin/python bench/extract_speed.py --quick    # 120 pages; trafilatura on 40
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def run_stage(pages: list[dict], extractors: list[dict], lake_root: str) -> dict:
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import build_extractors, extract_documents
    from goldpan.lake import Lake
    from goldpan.lake.delta import rows_to_batches
    from goldpan.lake.schemas import DOCUMENTS
    from goldpan.recipe import ExtractSection

    cfg = ExtractSection(extractors=extractors)
    lid = LanguageIdentifier()
    primary = build_extractors(cfg)[0]
    # Warm-up outside the timing: model load, spaCy tokenizer construction, first parse.
    list(extract_documents(pages[:3], lid, cfg, primary))
    statuses: dict[str, int] = {}

    def rows():
        for r in extract_documents(pages, lid, cfg, primary):
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
            yield r

    lake = Lake(lake_root)
    w0, c0 = time.perf_counter(), time.process_time()
    res = lake.write("documents", rows_to_batches(rows(), DOCUMENTS, 256), DOCUMENTS, partition_by=["batch_id"])
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {
        "extractor": f"{primary[1].name} {primary[1].version}",
        "options": primary[1].options_json,
        "pages": len(pages),
        "rows_written": res.rows,
        "statuses": statuses,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "pages_per_s_wall": round(len(pages) / wall, 1),
        "pages_per_cpu_s": round(len(pages) / cpu, 1),
    }


def breakdown(pages: list[dict]) -> dict:
    """CPU seconds per step of the same work, page by page (no Delta write), cold caches."""
    from goldpan.extract.counts import count_text
    from goldpan.extract.encoding import decode_page
    from goldpan.extract.extractors import make_extractor
    from goldpan.extract.html_text import ParsedHtml
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.normalize import normalize_text

    lid, ext = LanguageIdentifier(), make_extractor("goldpan")
    cpu = dict.fromkeys(["decode", "parse", "extract", "head_meta", "normalize", "langid", "counts"], 0.0)

    def step(name, fn):
        c = time.process_time()
        out = fn()
        cpu[name] += time.process_time() - c
        return out

    for p in pages:
        d = step("decode", lambda p=p: decode_page(p["content"], p["charset_declared"]))
        ph = ParsedHtml(d.text)
        step("parse", lambda ph=ph: ph.tree)
        raw = step("extract", lambda ph=ph: ext.extract(ph))
        step("head_meta", lambda ph=ph: ph.head_meta)
        text = step("normalize", lambda raw=raw: normalize_text(raw))
        prof = step("langid", lambda text=text: lid.profile(text))
        step("counts", lambda text=text, prof=prof: count_text(text, prof.lang))
    total = sum(cpu.values())
    return {"pages": len(pages), "cpu_s": round(total, 2), "pages_per_cpu_s": round(len(pages) / total, 1),
            "share": {k: round(v / total, 3) for k, v in cpu.items()}}


def select_pages(quick: bool, every: int) -> list[dict]:
    from extract_pages import build_warc, read_pages

    pages = read_pages(build_warc())
    if quick:
        pages = pages[::8][:120]
    return pages[::every]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--traf-every", type=int, default=3, help="trafilatura runs on every k-th page")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one run in a fresh process
    args = ap.parse_args()
    if args.one == "breakdown":
        print("RESULT " + json.dumps(breakdown(select_pages(args.quick, 1))))
        return 0
    if args.one:
        every, extractors = json.loads(args.one)
        pages = select_pages(args.quick, every)
        with tempfile.TemporaryDirectory() as tmp:
            print("RESULT " + json.dumps(run_stage(pages, extractors, tmp)))
        return 0
    import subprocess

    from extract_pages import build_warc, read_pages

    t0 = time.perf_counter()
    warc = build_warc()
    pages = read_pages(warc)
    read_s = time.perf_counter() - t0
    if args.quick:
        pages = pages[::8][:120]
    mb = sum(len(p["content"]) for p in pages) / 1e6
    results = {"warc": str(warc.relative_to(ROOT)), "pages": len(pages), "html_mb": round(mb, 1),
               "warc_read_s": round(read_s, 2), "cores": os.cpu_count(), "runs": {}}
    # Every run starts in a fresh process: cold spaCy/lid caches, so no run profits from another.
    k = args.traf_every
    runs = [
        ("goldpan (learned lines, default), all pages", 1, [{"name": "goldpan"}]),
        ("goldpan cascade, all pages", 1, [{"name": "cascade"}]),
        ("goldpan resiliparse (old default), all pages", 1, [{"name": "resiliparse"}]),
        (f"goldpan (learned lines), 1-in-{k} subset", k, [{"name": "goldpan"}]),
        (f"trafilatura, 1-in-{k} subset", k, [{"name": "trafilatura"}]),
        (f"trafilatura favor_precision, 1-in-{k} subset", k,
         [{"name": "trafilatura", "options": {"favor_precision": True}}]),
    ]
    for name, every, ex in runs:
        cmd = [sys.executable, __file__, "--one", json.dumps([every, ex])] + (["--quick"] if args.quick else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results["runs"][name] = json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[7:])
        print(f"{name:<52} {json.dumps(results['runs'][name])}", flush=True)
    out = subprocess.run([sys.executable, __file__, "--one", "breakdown"] + (["--quick"] if args.quick else []),
                         capture_output=True, text=True, check=True).stdout
    results["breakdown_goldpan"] = json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[7:])
    print(f"{'CPU share per step (goldpan, no Delta write)':<52} {json.dumps(results['breakdown_goldpan'])}")
    r = results["runs"]
    gp_sub = r[f"goldpan (learned lines), 1-in-{k} subset"]["pages_per_cpu_s"]
    traf_sub = r[f"trafilatura, 1-in-{k} subset"]["pages_per_cpu_s"]
    trafp_sub = r[f"trafilatura favor_precision, 1-in-{k} subset"]["pages_per_cpu_s"]
    results["speedup_vs_trafilatura_per_cpu"] = round(gp_sub / traf_sub, 1)
    results["speedup_vs_trafilatura_favor_precision_per_cpu"] = round(gp_sub / trafp_sub, 1)
    print()
    print(f"{'run':<52} {'pages':>6} {'CPU s':>7} {'wall s':>7} {'pages/CPU-s':>12} {'pages/s wall':>12}")
    for name, x in r.items():
        print(f"{name:<52} {x['pages']:>6} {x['cpu_s']:>7} {x['wall_s']:>7} {x['pages_per_cpu_s']:>12} "
              f"{x['pages_per_s_wall']:>12}")
    print("whole-stage speed-up of goldpan over trafilatura (same pages, per CPU second): "
          f"{results['speedup_vs_trafilatura_per_cpu']}x (favor_precision: "
          f"{results['speedup_vs_trafilatura_favor_precision_per_cpu']}x)")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "extract_speed.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
