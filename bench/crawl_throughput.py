"""Crawl throughput against a synthetic site on 127.0.0.1: pages/s and memory as the frontier grows.

    .venv/bin/python bench/crawl_throughput.py            # 10k pages fetched, ~100k URLs in the frontier
    .venv/bin/python bench/crawl_throughput.py --quick    # 1k pages, ~10k URLs

The site (served by a separate process, HTTP/1.1 keep-alive) is a tree: page n links to its
`fanout` children, so fetching P pages discovers about P * fanout URLs. Politeness limits are
lifted (no delay, 8 connections to the one host) as the issue asks; robots.txt is 404. The crawl
runs through `run_crawl` into a temporary Delta lake, i.e. with chunked pages commits and
frontier merges, the way the `pages` asset runs it. A second figure crawls the same site without
a lake (`BatchCrawler.run`), to show what the lake costs. Peak RSS is sampled every chunk.
Writes bench/out/crawl_throughput.json. Not a test: the machine is shared, numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ["river", "mill", "harbour", "ferry", "lantern", "orchard", "market", "bridge", "canal", "meadow", "library", "bakery", "archive", "festival", "tide", "clock", "square", "chapel", "garden", "quarry"]  # fmt: skip


def _serve(port_q, fanout: int, size: int) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK
        # add ~40 ms to every keep-alive response and the benchmark measures the kernel, not us
        disable_nagle_algorithm = True

        def do_GET(self):
            if not self.path.startswith("/p/"):
                body, code = b"not found", 404
            else:
                n = int(self.path[3:].split(".")[0])
                words = " ".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(size // 7))
                links = "".join(f'<a href="/p/{n * fanout + k}.html">next {k}</a> ' for k in range(1, fanout + 1))
                body, code = f"<html><body><h1>Page {n}</h1><p>{words}</p>{links}</body></html>".encode(), 200
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):  # a client closing keep-alive sockets at exit
            pass

    srv = Quiet(("127.0.0.1", 0), H)
    port_q.put(srv.server_address[1])
    srv.serve_forever()


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pages", type=int, default=None)
    ap.add_argument("--fanout", type=int, default=10)
    ap.add_argument("--size", type=int, default=1500, help="bytes of text per page")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    pages = args.pages or (1000 if args.quick else 10_000)
    os.environ["GOLDPAN_ALLOW_PRIVATE"] = "1"  # the site is on 127.0.0.1: this benchmark opts in on purpose

    from goldpan.crawl.batch import run_crawl
    from goldpan.crawl.crawler import BatchCrawler, CrawlStats
    from goldpan.lake import Lake
    from goldpan.recipe import CrawlSection

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    server = ctx.Process(target=_serve, args=(q, args.fanout, args.size), daemon=True)
    server.start()
    port = q.get(timeout=30)
    base = f"http://127.0.0.1:{port}"
    cfg = CrawlSection.model_validate({
        "seeds": [base + "/p/0.html"], "allowed_hosts": ["127.0.0.1"], "allow_private": ["127.0.0.1"],
        "max_depth": 50, "max_pages": pages, "per_host_delay_s": 0.0, "concurrency": args.concurrency,
        "per_host_concurrency": args.concurrency, "chunk_rows": 500, "revisit_interval_s": 0,
    })  # fmt: skip
    results: dict = {"pages": pages, "fanout": args.fanout, "concurrency": args.concurrency}
    try:
        rss0 = rss_mb()
        samples: list[tuple[int, int, float]] = []

        def progress(s: CrawlStats) -> None:
            samples.append((s.fetched, s.discovered, rss_mb()))

        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = run_crawl(Lake(tmp), cfg, "b-bench", "crawl:bench", progress=progress)
            dt = time.perf_counter() - t0
            s = res.stats
            results["lake"] = {
                "seconds": round(dt, 2), "pages_per_s": round(s.fetched / dt, 1), "kept": s.kept,
                "frontier_urls": s.discovered + 1, "chunks": res.chunks, "rss_start_mb": round(rss0, 1),
                "rss_peak_mb": round(max(r for *_, r in samples), 1),
                "rss_by_frontier": [(f, d, round(r, 1)) for f, d, r in samples[:: max(1, len(samples) // 8)]],
            }  # fmt: skip
        stats = CrawlStats()
        mem: list[tuple[int, int, float]] = []
        t0 = time.perf_counter()
        for row in BatchCrawler(cfg, "b-bench-mem", "crawl:bench", stats=stats).run():
            if stats.fetched % 1000 == 0:
                mem.append((stats.fetched, stats.discovered, round(rss_mb(), 1)))
        dt = time.perf_counter() - t0
        results["no_lake"] = {"seconds": round(dt, 2), "pages_per_s": round(stats.fetched / dt, 1),
                              "rss_by_frontier": mem[:: max(1, len(mem) // 8)]}  # fmt: skip
    finally:
        server.terminate()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "crawl_throughput.json").write_text(json.dumps(results, indent=2))
    print(f"{'crawl into Delta (run_crawl)':<34} {results['lake']['pages_per_s']:>8} pages/s  "
          f"{results['lake']['seconds']:>7}s  frontier {results['lake']['frontier_urls']} URLs  "
          f"RSS {results['lake']['rss_start_mb']} -> peak {results['lake']['rss_peak_mb']} MB")
    print(f"{'crawl, no lake (BatchCrawler)':<34} {results['no_lake']['pages_per_s']:>8} pages/s  "
          f"{results['no_lake']['seconds']:>7}s")
    print("RSS (MB) as the frontier grows [fetched, frontier URLs, RSS]:", results["lake"]["rss_by_frontier"])
    print("  same, no lake (frontier in memory only):", results["no_lake"]["rss_by_frontier"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
