"""`make bench`: throughput of each library stage on the bundled sample pages, plus one whole-graph run.

Not a test: it prints numbers (and writes bench/out/results.json) so changes can be compared on the
same machine. The sample is small; the pages are replayed `--repeat` times with distinct ids so
caches (spaCy chunk cache, fastText) are exercised the way a real batch would exercise them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_pages() -> list[dict]:
    """Every HTML page of the sample site as a `pages`-like row (bytes, declared charset from _headers)."""
    from sample.server import default_site_root, load_headers_map

    root = default_site_root()
    headers = load_headers_map(root)
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = "/" + path.relative_to(root).as_posix()
        if any(part.startswith("_") for part in path.relative_to(root).parts):
            continue
        ctype = str(headers.get(rel, {}).get("Content-Type", "text/html"))
        charset = ctype.split("charset=")[1].strip() if "charset=" in ctype else None
        pages.append({"url": f"http://sample{rel}", "content": path.read_bytes(), "content_type": "text/html",
                      "charset_declared": charset, "host": "sample"})
    return pages


def timed(fn, n_items: int) -> dict:
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    return {"items": n_items, "seconds": round(dt, 3), "per_second": round(n_items / dt, 1) if dt else None, "out": out}


# Stand-alone benchmarks (one script each, with --quick), run after the stage throughput table.
BENCHMARKS: list[str] = [
    "bench/crawl_throughput.py",  # crawl: pages/s and RSS as the frontier grows (127.0.0.1 site)
    "bench/consent_crawl.py",  # crawl: pages/s with RFC 9309 robots + consent evidence vs a baseline revision, real HTML
    "bench/crawl_real.py",  # crawl: real documentation web vs a thread-pool baseline, recrawl, link discovery
    "bench/warc_import.py",  # crawl: WARC records/s and MB/s, reading alone and into Delta
    "bench/warc_compat.py",  # crawl: warcio's test files imported, next to what warcio reads
    "bench/stage_hashes.py",  # extract + filter: CPU ms per page/doc of `documents` and `doc_signals`, output hashes
    "bench/tokenize_speed.py",  # text: cache-miss chunks/s and docs/s, fast path vs spaCy, exact agreement
    "bench/extract_speed.py",  # extract: pages per CPU-second, goldpan vs trafilatura, real pages
    "bench/extract_quality.py",  # extract: F1/P/R + pages/s, news (AEB, trafilatura eval) and docs, vs trafilatura
    "bench/datatrove_agreement.py",  # filter: agreement and docs/s vs datatrove 0.10.1 (own venv)
    "bench/filter_multilingual.py",  # filter: per-language real pages kept, spam removed, lid accuracy vs datatrove
    "bench/classify_score.py",  # classify: fastText scoring docs/s and training time
    "bench/dedup_quality.py", "bench/dedup_throughput.py", "bench/dedup_scale.py",  # dedup: P/R per edit rate, docs/s, 1M scale
    "bench/dedup_lookup.py",  # dedup: index lookup CPU-s for a 10k batch vs an N-document index (key runs vs scan vs empty)
    "bench/release_throughput.py",  # release: BPE token counting, decontamination, export
    "bench/llm_loop.py",  # synthesize: client tokens/s vs plain client, cache rerun, guard on real passages, perplexity
    "bench/end_to_end.py",  # whole graph on >= 5,000 real pages vs datatrove's FineWeb pipeline; 1 vs 2 workers
    "bench/graph_hashes.py",  # whole graph, steps serial vs side by side (threaded executor): wall, identical lake
    "bench/ray_engine.py",  # pooled stages on real pages: in-process vs local processes vs Ray, 1 and 2 workers
    "bench/slice_scan.py",  # reading one slice of a stage's input: predicate around the query, in the scan, by file
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--skip-graph", action="store_true")
    ap.add_argument("--quick", action="store_true", help="pass --quick to every stand-alone benchmark")
    args = ap.parse_args()
    from goldpan.dedup import BatchDeduplicator, DedupInput, MemoryPriorStore
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_documents
    from goldpan.filter.rules import RuleSet, decide_batch
    from goldpan.filter.signals import compute_signal_batch

    base = sample_pages()
    pages = [dict(p, page_id=f"p{i}-{j}", batch_id="bench") for i in range(args.repeat) for j, p in enumerate(base)]
    lid = LanguageIdentifier()
    results: dict[str, dict] = {}

    r = timed(lambda: list(extract_documents(pages, lid)), len(pages))
    docs = [d for d in r.pop("out") if d["status"] == "kept"]
    results["extract (decode+resiliparse+normalise+langid+count), pages"] = r

    recs = [{"doc_id": f"{d['doc_id']}", "batch_id": "bench", "lang": d["lang"], "text": d["text"]} for d in docs]
    r = timed(lambda: compute_signal_batch(recs), len(recs))
    sig = r.pop("out")
    results["filter signals (24 Gopher statistics), docs"] = r
    rules = RuleSet.default()
    r = timed(lambda: list(decide_batch(sig.to_pylist(), rules, "bench")), len(recs))
    r.pop("out")
    results["filter decisions, docs"] = r

    inputs = [DedupInput(f"{d['doc_id']}-{i}", d["text"], d["lang"], d.get("url"), float(i)) for i, d in enumerate(docs)]
    r = timed(lambda: BatchDeduplicator().run(inputs, MemoryPriorStore().begin("bench")).results, len(inputs))
    out = r.pop("out")
    r["rejected_as_duplicates"] = sum(x.status == "rejected" for x in out)
    results["dedup (url+exact+minhash LSH+verify+paragraphs), docs"] = r

    if not args.skip_graph:
        import tempfile

        import dagster as dg

        os.environ["DAGSTER_HOME"] = tempfile.mkdtemp()
        from assets.partitions import crawl_batches
        from definitions import build_resources, defs
        from sample.server import SampleSite

        with SampleSite() as site, dg.DagsterInstance.ephemeral() as inst:
            os.environ["GOLDPAN_SEED_URL"] = site.url("/")
            inst.add_dynamic_partitions(crawl_batches.name, ["b20260101T000000-bench"])
            job = defs.resolve_job_def("full_batch_job")
            t0 = time.perf_counter()
            res = job.execute_in_process(instance=inst, partition_key="b20260101T000000-bench",
                                         resources=build_resources(tempfile.mkdtemp()), raise_on_error=False)
            results["whole graph, one sample batch (in-process)"] = {"seconds": round(time.perf_counter() - t0, 2),
                                                                      "success": res.success}


    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    for name, r in results.items():
        print(f"{name:<58} {json.dumps(r)}")
    import subprocess

    failed = []
    for script in BENCHMARKS:
        print(f"\n=== {script}{' --quick' if args.quick else ''}", flush=True)
        rc = subprocess.run([sys.executable, str(ROOT / script), *(["--quick"] if args.quick else [])], check=False)
        if rc.returncode:
            failed.append(script)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
