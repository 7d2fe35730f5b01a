"""Crawl a real documentation web on 127.0.0.1: goldpan against a minimal thread-pool crawler.

    .venv/bin/python bench/crawl_real.py              # ~6,900 real pages (PostgreSQL, Python, LibreOffice help...)
    .venv/bin/python bench/crawl_real.py --quick      # PostgreSQL + Python manuals only (~1,700 pages)

The web is `bench/realdocs.py`'s `site_root()` (real HTML of Debian documentation packages, cached
outside git), served by `bench/realsite_server.py` in its own processes: ETag/Last-Modified and 304,
`robots.txt` naming a sitemap index with one gzipped sitemap per manual, directory listings where a
manual has no index page. Index pages are big: PostgreSQL's bookindex (~3,500 links) and Python's
genindex-all (~17,000 links).

Reported, from one run with the same concurrency for both crawlers (the machine is shared, so compare
the ratios, not the absolute figures):
- pages/s of the first crawl and peak RSS (each crawler runs in its own process);
- the time of a recrawl of the unchanged site, and how many documents it added (goldpan: kept rows);
- link discovery time per page against its link count (goldpan's extractor, and the resiliparse
  selector loop it replaced, on pages up to `--old-max-links` links);
- peak RSS of goldpan at a ~100k-URL frontier (bench/crawl_throughput.py's tree site, 10k pages).

Writes bench/out/crawl_real.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FULL = ["postgresql-doc-15", "python3.11-doc", "libreoffice-help-en-us", "libreoffice-help-de", "debian-faq",
        "debian-reference-en", "developers-reference", "maint-guide"]  # fmt: skip
QUICK = ["postgresql-doc-15", "python3.11-doc"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the two crawlers, each run in a child process ---------------------------------------------------


def run_goldpan(base: str, lake_dir: str, concurrency: int, parse_processes: int = 0) -> dict:
    # the benchmark site is on 127.0.0.1: opting in to private addresses is this benchmark's purpose
    os.environ["GOLDPAN_ALLOW_PRIVATE"] = "1"
    from goldpan.crawl.batch import run_crawl
    from goldpan.lake import Lake
    from goldpan.recipe import CrawlSection

    cfg = CrawlSection.model_validate({
        "seeds": [base + "/"], "allowed_hosts": ["127.0.0.1"], "allow_private": ["127.0.0.1"],
        "max_depth": 50, "max_pages": 100_000, "per_host_delay_s": 0.0, "concurrency": concurrency,
        "per_host_concurrency": concurrency, "chunk_rows": 256, "revisit_interval_s": 0,
        "max_bytes": 5_000_000, "parse_processes": parse_processes,
    })  # fmt: skip
    lake = Lake(lake_dir)
    out = {}
    # recrawl: sitemap <lastmod> skips unchanged pages; recrawl_304: no sitemaps, every due page is
    # revisited with a conditional GET (what a site without sitemaps costs)
    no_sitemaps = CrawlSection.model_validate(cfg.model_dump() | {"sitemaps_from_robots": False})
    for name, batch, c in (("first", "b1", cfg), ("recrawl", "b2", cfg), ("recrawl_304", "b3", no_sitemaps)):
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_crawl(lake, c, batch, "crawl")
        dt = time.perf_counter() - t0
        s = res.stats
        cpu = time.process_time() - c0 + s.parse_process_cpu_s  # this process and its parse processes
        out[name] = {"seconds": round(dt, 2), "rows": s.fetched, "requests": s.requests, "stored": s.stored,
                     "kept": s.kept, "unchanged": s.unchanged, "rows_per_s": round(s.fetched / dt, 1),
                     "requests_per_s": round(s.requests / dt, 1), "sitemap_urls": s.sitemap_urls,
                     "reasons": dict(s.reasons.most_common(8)), "peak_rss_mb": round(peak_rss_mb(), 1),
                     "cpu_s": round(cpu, 2), "cpu_ms_per_request": round(cpu * 1000 / max(s.requests, 1), 3),
                     "load_avg_1m": round(os.getloadavg()[0], 1)}  # fmt: skip
    return out


def run_baseline(base: str, concurrency: int) -> dict:
    from baseline_crawler import BaselineCrawler

    crawler = BaselineCrawler(base, concurrency)
    out = {}
    for name in ("first", "recrawl"):
        t0, c0 = time.perf_counter(), time.process_time()
        n = crawler.crawl()
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out[name] = {"seconds": round(dt, 2), "requests": n, "pages": crawler.pages_200,
                     "not_modified": crawler.not_modified, "requests_per_s": round(n / dt, 1),
                     "peak_rss_mb": round(peak_rss_mb(), 1), "cpu_s": round(cpu, 2),
                     "cpu_ms_per_request": round(cpu * 1000 / max(n, 1), 3),
                     "load_avg_1m": round(os.getloadavg()[0], 1)}  # fmt: skip
    return out


# -- link discovery ----------------------------------------------------------------------------------


def _old_extract_links(html_bytes: bytes, base_url: str) -> int:
    """The replaced extractor's loop (resiliparse query_selector_all), for the per-link cost curve."""
    from resiliparse.parse.html import HTMLTree

    from goldpan.crawl.urls import normalize_url

    tree = HTMLTree.parse_from_bytes(html_bytes, "utf-8", errors="replace")
    n = 0
    for el in tree.document.query_selector_all("a[href], area[href], link[href]"):
        if normalize_url(el.getattr("href"), base=base_url):
            n += 1
    return n


def link_timing(site: Path, packages: list[str], old_max_links: int) -> list[dict]:
    import re

    from goldpan.crawl.links import extract_links

    files = [p for pkg in packages for p in sorted((site / pkg).resolve().rglob("*.html"))]
    counted = [(len(re.findall(rb"<a\s", p.read_bytes())), p) for p in files]
    counted.sort(key=lambda x: x[0])
    # a spread over link counts: quantiles plus the biggest pages
    picks = {counted[int(q * (len(counted) - 1))] for q in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)}
    picks |= set(counted[-4:])
    rows = []
    for anchors, path in sorted(picks):
        data = path.read_bytes()
        url = "http://127.0.0.1/" + path.name
        t0 = time.thread_time()
        links = extract_links(data, url)
        new_s = time.thread_time() - t0
        row = {"page": str(path.relative_to(path.parents[1])), "kb": round(len(data) / 1024), "links": len(links),
               "a_tags": anchors, "goldpan_us_per_kb": round(new_s * 1e6 / max(len(data) / 1024, 1), 1),
               "goldpan_ms": round(new_s * 1000, 2),
               "goldpan_us_per_link": round(new_s * 1e6 / max(len(links), 1), 2)}  # fmt: skip
        # capped on the page's <a> tags, not on the distinct links found: an index page repeats links, and
        # the old loop's cost grows with the tags it iterates (13,962 tags = hours, however few are distinct)
        if max(anchors, len(links)) <= old_max_links:
            t0 = time.thread_time()
            _old_extract_links(data, url)
            old_s = time.thread_time() - t0
            row |= {"resiliparse_ms": round(old_s * 1000, 2),
                    "resiliparse_us_per_link": round(old_s * 1e6 / max(len(links), 1), 2)}  # fmt: skip
        rows.append(row)
    return rows


# -- driver --------------------------------------------------------------------------------------------


def _child(role: str, base: str, concurrency: int, out: Path, lake_dir: str | None = None,
           parse_processes: int = 0) -> dict:  # fmt: skip
    args = [sys.executable, __file__, "--role", role, "--base", base, "--concurrency", str(concurrency),
            "--out", str(out), "--parse-processes", str(parse_processes)] + (["--lake", lake_dir] if lake_dir else [])
    subprocess.run(args, check=True)
    return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--server-procs", type=int, default=2)
    ap.add_argument("--old-max-links", type=int, default=800)  # the old loop is quadratic: ~10 s at 800 links
    ap.add_argument("--no-frontier-rss", action="store_true")
    ap.add_argument("--parse-processes", type=int, default=0, help="goldpan's crawl.parse_processes")
    ap.add_argument("--role", choices=["goldpan", "baseline"], default=None)
    ap.add_argument("--base")
    ap.add_argument("--lake")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.role == "goldpan":
        Path(args.out).write_text(json.dumps(run_goldpan(args.base, args.lake, args.concurrency, args.parse_processes)))
        return 0
    if args.role == "baseline":
        Path(args.out).write_text(json.dumps(run_baseline(args.base, args.concurrency)))
        return 0

    import realdocs
    from realsite_server import RealSite

    packages = QUICK if args.quick else FULL
    site_dir = realdocs.site_root(packages)
    results: dict = {"packages": packages, "concurrency": args.concurrency, "machine": "shared (loaded)",
                     "cpus": os.cpu_count(), "load_avg_at_start": [round(x, 1) for x in os.getloadavg()],
                     "parse_processes": args.parse_processes}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, RealSite(site_dir, packages, procs=args.server_procs) as site:
        results["site"] = {"html_pages": site.html_pages, "sitemap_urls": site.sitemap_urls}
        print(f"site: {site.html_pages} HTML pages under {site_dir} at {site.base}", flush=True)
        results["baseline"] = _child("baseline", site.base, args.concurrency, Path(tmp) / "baseline.json")
        print("baseline:", json.dumps(results["baseline"]), flush=True)
        results["goldpan"] = _child("goldpan", site.base, args.concurrency, Path(tmp) / "goldpan.json",
                                    str(Path(tmp) / "lake"), args.parse_processes)  # fmt: skip
        print("goldpan:", json.dumps(results["goldpan"]), flush=True)
    results["link_discovery"] = link_timing(site_dir, packages, args.old_max_links)
    if not args.no_frontier_rss:
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "crawl_throughput.py"), "--pages", "10000"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        tp = json.loads((ROOT / "bench" / "out" / "crawl_throughput.json").read_text()) if proc.returncode == 0 else {}
        results["frontier_100k"] = {k: tp.get("lake", {}).get(k) for k in
                                    ("frontier_urls", "pages_per_s", "rss_peak_mb")}  # fmt: skip
    _report(results)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "crawl_real.json").write_text(json.dumps(results, indent=2))
    return 0


def _report(r: dict) -> None:
    g, b = r["goldpan"], r["baseline"]
    g_rate, b_rate = g["first"]["requests_per_s"], b["first"]["requests_per_s"]
    print(f"\nreal documentation web: {r['site']['html_pages']} HTML pages, concurrency {r['concurrency']} "
          f"(machine shared: compare ratios; load average {r['load_avg_at_start']} on {r['cpus']} CPUs at start, "
          f"{g['first']['load_avg_1m']} after goldpan's first crawl)")  # fmt: skip
    print(f"{'':28} {'goldpan':>14} {'baseline':>14}")
    print(f"{'first crawl requests':28} {g['first']['requests']:>14} {b['first']['requests']:>14}")
    print(f"{'first crawl seconds':28} {g['first']['seconds']:>14} {b['first']['seconds']:>14}")
    print(f"{'first crawl requests/s':28} {g_rate:>14} {b_rate:>14}   ratio {g_rate / b_rate:.2f}")
    g_pages = round(g["first"]["stored"] / g["first"]["seconds"], 1)
    b_pages = round(b["first"]["pages"] / b["first"]["seconds"], 1)
    print(f"{'first crawl pages/s (200s)':28} {g_pages:>14} {b_pages:>14}   ratio {g_pages / b_pages:.2f} "
          f"(target >= 0.70 and >= 300 pages/s)")
    g_cpu, b_cpu = g["first"]["cpu_ms_per_request"], b["first"]["cpu_ms_per_request"]
    print(f"{'first crawl CPU ms/request':28} {g_cpu:>14} {b_cpu:>14}   ratio {g_cpu / b_cpu:.2f} (load-independent)")
    print(f"{'recrawl seconds':28} {g['recrawl']['seconds']:>14} {b['recrawl']['seconds']:>14}")
    speed_g = g["first"]["seconds"] / g["recrawl"]["seconds"]
    speed_b = b["first"]["seconds"] / b["recrawl"]["seconds"]
    print(f"{'recrawl speed-up':28} {speed_g:>13.1f}x {speed_b:>13.1f}x   (target >= 3x)")
    print(f"{'recrawl new documents':28} {g['recrawl']['kept']:>14} {'-':>14}")
    r304 = g["recrawl_304"]
    print(f"{'recrawl w/o sitemaps (304s)':28} {r304['seconds']:>14} {'':>14}   speed-up "
          f"{g['first']['seconds'] / r304['seconds']:.1f}x, {r304['unchanged']} unchanged, {r304['kept']} new documents, "
          f"{r304['cpu_ms_per_request']} CPU ms/request")
    print(f"{'peak RSS MB':28} {g['recrawl']['peak_rss_mb']:>14} {b['recrawl']['peak_rss_mb']:>14}")
    if "frontier_100k" in r:
        f = r["frontier_100k"]
        print(f"goldpan at a {f['frontier_urls']}-URL frontier: peak RSS {f['rss_peak_mb']} MB "
              f"({f['pages_per_s']} pages/s on the tree site) (target <= 500 MB)")  # fmt: skip
    print("\nlink discovery per page (thread CPU time):")
    print(f"{'<a> tags':>8} {'links':>7} {'KB':>6} {'goldpan ms':>11} {'us/KB':>6} {'us/link':>8} {'resiliparse ms':>15} "
          f"{'us/link':>8}  page")  # fmt: skip
    for row in r["link_discovery"]:
        print(f"{row['a_tags']:>8} {row['links']:>7} {row['kb']:>6} {row['goldpan_ms']:>11} {row['goldpan_us_per_kb']:>6} "
              f"{row['goldpan_us_per_link']:>8} "
              f"{row.get('resiliparse_ms', '-'):>15} {row.get('resiliparse_us_per_link', '-'):>8}  {row['page']}")


if __name__ == "__main__":
    sys.exit(main())
