"""Crawl throughput with consent (RFC 9309 matcher, policy-file evidence, tdmrep.json) vs a baseline
revision, on real documentation HTML served on 127.0.0.1, in the same run.

    .venv/bin/python bench/consent_crawl.py                    # 1000 pages x 3 rounds, baseline = main
    .venv/bin/python bench/consent_crawl.py --quick --base-ref <revision before consent>

The site is `bench/realdocs.py`'s static site (PostgreSQL and Python manuals from Debian packages),
with a robots.txt of the kind real sites publish (wildcards, `$`, AI-agent groups) that disallows
some of its URLs. Each round crawls it once with the baseline code (`git archive <base-ref>`) and once
with this checkout, alternating, each in a fresh process through `run_crawl` into a temporary Delta
lake (chunked commits, frontier merges), politeness lifted (no delay, 8 connections). Reported: pages
per second of each, their ratio per round and the median ratio; requests the server logged that the
robots.txt disallows (must be 0 for this checkout); the robots.txt matching cost per URL (stdlib
`urllib.robotparser` vs `goldpan.crawl.robotstxt`); and the consent stage's pages/s on the crawled
batch. The machine is shared: compare ratios, not absolute numbers. Writes bench/out/consent_crawl.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROBOTS = """# robots.txt of a documentation site, in the style real sites use
User-agent: *
Allow: /
Disallow: /*?
Disallow: /*.pdf$
Disallow: /*/_sources/
Disallow: /python3.11-doc/html/genindex*
Disallow: /postgresql-doc-15/html/release-*
Allow: /postgresql-doc-15/html/release-15*
Disallow: /search
Disallow: /*/print$
Crawl-delay: 0

User-agent: GPTBot
User-agent: CCBot
User-agent: Google-Extended
Disallow: /python3.11-doc/
"""
PACKAGES = ["postgresql-doc-15", "python3.11-doc"]


def _serve(port_q, root: str, log_path: str) -> None:
    """Static files under `root`, robots.txt from memory, HTTP/1.1 keep-alive; logs request targets."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote, urlsplit

    base = Path(root).resolve()
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 -- lives as long as the server

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self):
            log.write(self.path + "\n")
            path = unquote(urlsplit(self.path).path)
            body, code, ctype = b"not found", 404, "text/plain"
            if path == "/robots.txt":
                body, code = ROBOTS.encode(), 200
            else:
                f = base / path.lstrip("/")  # the site's folders are symlinks into the cache: no resolve()
                if f.is_dir():
                    f = f / "index.html"
                if ".." not in Path(path).parts and f.is_file():
                    body, code = f.read_bytes(), 200
                    ctype = "text/html" if f.suffix in (".html", ".htm") else "application/octet-stream"
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass

    srv = Quiet(("127.0.0.1", 0), H)
    port_q.put(srv.server_address[1])
    srv.serve_forever()


def worker(code_root: str, base: str, pages: int, with_consent: bool) -> dict:
    """One crawl with the goldpan found under `code_root` (run in a fresh process)."""
    sys.path.insert(0, code_root)
    from goldpan.crawl.batch import run_crawl
    from goldpan.lake import Lake
    from goldpan.recipe import CrawlSection

    cfg = CrawlSection.model_validate({
        "seeds": [base + "/"], "allowed_hosts": ["127.0.0.1"], "allow_private": ["127.0.0.1"], "max_depth": 50,
        "max_pages": pages, "per_host_delay_s": 0.0, "concurrency": 8, "per_host_concurrency": 8,
        "chunk_rows": 500, "revisit_interval_s": 0,
    })  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(tmp)
        t0 = time.perf_counter()
        stats = run_crawl(lake, cfg, "b-bench", "crawl").stats
        dt = time.perf_counter() - t0
        out = {"seconds": round(dt, 2), "rows": stats.fetched, "requests": stats.requests,
               "pages_per_s": round(stats.fetched / dt, 1), "robots_blocked": stats.robots_blocked}
        if with_consent:
            from goldpan.consent.stage import run as run_consent
            from goldpan.recipe import ConsentSection

            t0 = time.perf_counter()
            res = run_consent(lake, "b-bench", ConsentSection(), user_agent=cfg.user_agent)
            dt = time.perf_counter() - t0
            out["consent"] = {"seconds": round(dt, 2), "rows": res.counts["rows"],
                              "pages_per_s": round(res.counts["rows"] / dt, 1), "counts": res.counts}
    return out


def matcher_cost(urls: list[str]) -> dict:
    """Microseconds per robots.txt decision: stdlib parser vs ours, same file, same URLs."""
    from urllib.robotparser import RobotFileParser

    from goldpan.crawl.robotstxt import RobotsTxt

    std = RobotFileParser()
    std.parse(ROBOTS.splitlines())
    ours = RobotsTxt.parse(ROBOTS)
    out = {}
    for name, fn in (("urllib.robotparser", lambda u: std.can_fetch("goldpan", u)),
                     ("goldpan.crawl.robotstxt", lambda u: ours.allowed("goldpan", u))):
        t0 = time.perf_counter()
        for _ in range(5):
            for u in urls:
                fn(u)
        out[name] = round((time.perf_counter() - t0) / (5 * len(urls)) * 1e6, 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="200 pages, one round")
    ap.add_argument("--base-ref", default="main", help="git revision of the baseline code")
    ap.add_argument("--worker", nargs=3, metavar=("CODE_ROOT", "BASE_URL", "PAGES"), help=argparse.SUPPRESS)
    ap.add_argument("--consent", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.pages, args.rounds = 200, 1
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], int(args.worker[2]), args.consent)))
        return 0

    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    import realdocs

    site = realdocs.site_root(PACKAGES)
    with tempfile.TemporaryDirectory(prefix="goldpan-consent-bench-") as tmp:
        baseline = Path(tmp) / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base_ref], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
        log_path = Path(tmp) / "access.log"
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        server = ctx.Process(target=_serve, args=(q, str(site), str(log_path)), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{q.get(timeout=30)}"
        results: dict = {"pages": args.pages, "base_ref": args.base_ref, "packages": PACKAGES, "rounds": []}
        try:
            for r in range(args.rounds):
                rnd = {}
                for name, code in (("baseline", baseline), ("consent", ROOT)):
                    log_path.write_text("")
                    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(code), base, str(args.pages)]
                    if name == "consent" and r == args.rounds - 1:
                        cmd.append("--consent")
                    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ | {
                        "PYTHONPATH": str(code)})
                    rnd[name] = json.loads(out.stdout.strip().splitlines()[-1])
                    rnd[name]["disallowed_requests"] = _disallowed(log_path.read_text().splitlines())
                rnd["ratio"] = round(rnd["consent"]["pages_per_s"] / rnd["baseline"]["pages_per_s"], 3)
                results["rounds"].append(rnd)
                print(f"round {r + 1}: baseline {rnd['baseline']['pages_per_s']} pages/s, "
                      f"consent {rnd['consent']['pages_per_s']} pages/s, ratio {rnd['ratio']}; disallowed requests "
                      f"baseline {rnd['baseline']['disallowed_requests']}, consent {rnd['consent']['disallowed_requests']}")
        finally:
            server.terminate()
        urls = [base + "/" + p for p in ("postgresql-doc-15/html/sql-select.html", "python3.11-doc/html/genindex-A.html",
                                          "a/b/print", "x?y=1", "postgresql-doc-15/html/release-15-1.html",
                                          "postgresql-doc-15/html/release-14-2.html", "doc/file.pdf")]
        results["matcher_us_per_url"] = matcher_cost(urls * 200)
    results["median_ratio"] = statistics.median(r["ratio"] for r in results["rounds"])
    if "consent" in results["rounds"][-1]["consent"]:
        results["consent_stage"] = results["rounds"][-1]["consent"]["consent"]
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "consent_crawl.json").write_text(json.dumps(results, indent=2))
    print(f"median ratio consent/baseline: {results['median_ratio']}")
    print(f"robots.txt decision cost (us/URL): {results['matcher_us_per_url']}")
    if "consent_stage" in results:
        c = results["consent_stage"]
        print(f"consent stage: {c['rows']} rows in {c['seconds']} s ({c['pages_per_s']} rows/s); signals {c['counts']}")
    return 0


def _disallowed(paths: list[str]) -> int:
    """Requests the robots.txt above disallows to our crawler (its `*` group), per the RFC matcher."""
    sys.path.insert(0, str(ROOT))
    from goldpan.crawl.robotstxt import RobotsTxt

    rules = RobotsTxt.parse(ROBOTS)
    return sum(1 for p in paths if p and p != "/robots.txt" and not rules.allowed("goldpan", "http://h" + p))


if __name__ == "__main__":
    sys.exit(main())
