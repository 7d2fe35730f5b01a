"""WARC import throughput: records/s and MB/s of gzip WARC, reading alone and into Delta.

    .venv/bin/python bench/warc_import.py           # ~4000 records (~50 MB gzip WARC)
    .venv/bin/python bench/warc_import.py --quick   # ~800 records

A synthetic Common Crawl-like file is written first with warcio: per page a `request` and a
`response` record, one gzip member per record, HTML bodies of ~40-60 KB built from the sample
site's articles with a per-record variation (gzip ~6x; the bodies repeat across records, so
zstd compresses them far better than real crawls -- see the Parquet codec note below). Figures:
  fastwarc        -- fastwarc's ArchiveIterator alone, reading every payload (the floor)
  items           -- goldpan.warc.reader.iter_items (damage-recovering reader), reading payloads
  rows            -- goldpan.warc.rows_from_file: recovery-aware reading, HTTP parse, digest check,
                     content-type decisions, pages rows
  rows_no_digest  -- the same with `verify_digests: false`
  lake            -- import_warc_batch: the same into a Delta `pages` table (Arrow + Parquet zstd-1
                     + commits; reading overlaps the writer)
  lake_snappy     -- the same with deltalake's default Parquet settings (the importer before)
Each is given per wall second and per CPU second of the process (all threads: the Parquet writer
runs on deltalake's threads); "per core" = per CPU second, which the shared machine disturbs least.
Writes bench/out/warc_import.json. Not a test: the machine is shared, numbers are noisy.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(path: Path, n_pages: int, html_dir: Path | None = None) -> int:
    """Write the benchmark WARC. With `html_dir`, each response is one real HTML file from that
    folder (in a shuffled order, cycling): little repetition across records, like a real crawl."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    site = ROOT / "sample" / "site"
    bodies = [p.read_bytes() for p in sorted(site.rglob("*.html")) if "_" not in p.as_posix().split("site/")[1]]
    rng = random.Random(7)
    real = None
    if html_dir is not None:
        real = [p for p in sorted(html_dir.rglob("*.htm*")) if p.is_file() and p.stat().st_size > 2048]
        rng.shuffle(real)
    with path.open("wb") as f:
        w = WARCWriter(f, gzip=True)
        for i in range(n_pages):
            if real:
                body = real[i % len(real)].read_bytes()
            else:
                parts = [bodies[rng.randrange(len(bodies))] for _ in range(6)]
                body = f"<!-- record {i} {rng.random()} -->".encode() + b"\n".join(parts)
            url = f"http://site{i % 50}.example/page/{i}.html"
            req = w.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                       http_headers=StatusAndHeaders(f"GET /page/{i}.html HTTP/1.1", [],
                                                                     is_http_request=True))  # fmt: skip
            hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(req)
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=hh))
    return path.stat().st_size


def _timed(results: dict, name: str, mb: float, fn) -> None:
    """Best of `REPEAT` runs (the machine is shared: the minimum is the least disturbed)."""
    best = None
    for _ in range(REPEAT):
        w0, c0 = time.perf_counter(), time.process_time()
        records, rows = fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if best is None or cpu < best[1]:
            best = (wall, cpu, records, rows)
    wall, cpu, records, rows = best
    results[name] = {"records_per_s": round(records / wall), "gzip_mb_per_s": round(mb / wall, 1),
                     "cpu_s": round(cpu, 3), "gzip_mb_per_cpu_s": round(mb / cpu, 1), "rows": rows}  # fmt: skip


REPEAT = 3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pages", type=int, default=None)
    ap.add_argument("--html-dir", type=Path, default=None,
                    help="build the WARC from real HTML files in this folder instead of the sample site")
    args = ap.parse_args()
    n = args.pages or (400 if args.quick else 2000)

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from goldpan.lake import Lake
    from goldpan.warc.importer import WarcImportConfig, WarcStats, import_warc_batch, rows_from_file
    from goldpan.warc.reader import iter_items

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.warc.gz"
        size = build(path, n, args.html_dir)
        mb = size / 1e6
        results["file"] = {"records": 2 * n, "gzip_mb": round(mb, 2), "html_dir": str(args.html_dir or "sample/site")}

        def fastwarc() -> tuple[int, int]:
            count = 0
            for rec in ArchiveIterator(str(path), record_types=WarcRecordType.any_type, parse_http=False):
                rec.reader.read()
                count += 1
            return count, 0

        def items() -> tuple[int, int]:
            count = 0
            for item in iter_items(str(path)):
                if item.record is not None:
                    item.record.reader.read()
                count += 1
            return count, 0

        def rows(verify: bool):
            def run() -> tuple[int, int]:
                stats = WarcStats()
                n_rows = sum(1 for _ in rows_from_file(str(path), "b-bench", WarcImportConfig(verify_digests=verify), stats))
                return stats.records, n_rows
            return run

        runs = iter(range(1_000_000))

        def lake(**kw):
            def run() -> tuple[int, int]:
                lake_dir = Path(tmp) / f"lake{next(runs)}"
                stats = import_warc_batch(Lake(lake_dir), [str(path)], "b-bench", WarcImportConfig(**kw))
                results.setdefault("parquet_mb", {})[kw.get("parquet_compression", "ZSTD") or "default"] = round(
                    sum(f.stat().st_size for f in lake_dir.rglob("*.parquet")) / 1e6, 2)
                shutil.rmtree(lake_dir)
                return stats.records, stats.rows
            return run

        _timed(results, "fastwarc", mb, fastwarc)
        _timed(results, "items", mb, items)
        _timed(results, "rows", mb, rows(True))
        _timed(results, "rows_no_digest", mb, rows(False))
        _timed(results, "lake", mb, lake())
        _timed(results, "lake_snappy", mb, lake(parquet_compression=None))

    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "warc_import.json").write_text(json.dumps(results, indent=2))
    print(f"synthetic WARC: {results['file']['records']} records, {results['file']['gzip_mb']} MB gzip")
    print(f"{'':<16} {'records/s':>9} {'MB/s wall':>10} {'CPU s':>7} {'MB/CPU-s':>9}   (MB of gzip WARC)")
    for name in ("fastwarc", "items", "rows", "rows_no_digest", "lake", "lake_snappy"):
        r = results[name]
        print(f"{name:<16} {r['records_per_s']:>9} {r['gzip_mb_per_s']:>10} {r['cpu_s']:>7} {r['gzip_mb_per_cpu_s']:>9}")
    print(f"Parquet written (MB): {results['parquet_mb']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
