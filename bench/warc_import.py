"""WARC import throughput: records/s and MB/s of gzip WARC, reading alone and into Delta.

    .venv/bin/python bench/warc_import.py           # ~4000 records (~50 MB gzip WARC)
    .venv/bin/python bench/warc_import.py --quick   # ~800 records

A synthetic Common Crawl-like file is written first with warcio: per page a `request` and a
`response` record, one gzip member per record, HTML bodies of ~40-60 KB built from the sample
site's articles with a per-record variation (so gzip ratios look like real HTML, ~4-6x). Three
figures on one core (the importer is single-threaded):
  fastwarc   -- fastwarc's ArchiveIterator alone, reading every payload (the floor)
  rows       -- goldpan.warc.rows_from_file: recovery-aware reading, HTTP parse, digest check,
                content-type decisions, pages rows
  lake       -- import_warc_batch: the same into a Delta `pages` table (Arrow + Parquet + commits)
Writes bench/out/warc_import.json. Not a test: the machine is shared, numbers are noisy.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(path: Path, n_pages: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    site = ROOT / "sample" / "site"
    bodies = [p.read_bytes() for p in sorted(site.rglob("*.html")) if "_" not in p.as_posix().split("site/")[1]]
    rng = random.Random(7)
    with path.open("wb") as f:
        w = WARCWriter(f, gzip=True)
        for i in range(n_pages):
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pages", type=int, default=None)
    args = ap.parse_args()
    n = args.pages or (400 if args.quick else 2000)

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from goldpan.lake import Lake
    from goldpan.warc.importer import WarcImportConfig, WarcStats, import_warc_batch, rows_from_file

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.warc.gz"
        size = build(path, n)
        mb = size / 1e6
        results["file"] = {"records": 2 * n, "gzip_mb": round(mb, 2)}

        t0 = time.perf_counter()
        count = 0
        for rec in ArchiveIterator(str(path), record_types=WarcRecordType.any_type, parse_http=False):
            rec.reader.read()
            count += 1
        dt = time.perf_counter() - t0
        results["fastwarc"] = {"records_per_s": round(count / dt), "gzip_mb_per_s": round(mb / dt, 1)}

        for verify in (True, False):
            stats = WarcStats()
            t0 = time.perf_counter()
            rows = sum(1 for _ in rows_from_file(str(path), "b-bench", WarcImportConfig(verify_digests=verify), stats))
            dt = time.perf_counter() - t0
            results[f"rows{'' if verify else '_no_digest'}"] = {"records_per_s": round(stats.records / dt),
                                                                  "gzip_mb_per_s": round(mb / dt, 1), "rows": rows}

        t0 = time.perf_counter()
        stats = import_warc_batch(Lake(Path(tmp) / "lake"), [str(path)], "b-bench", WarcImportConfig(chunk_rows=512))
        dt = time.perf_counter() - t0
        results["lake"] = {"records_per_s": round(stats.records / dt), "gzip_mb_per_s": round(mb / dt, 1),
                           "rows": stats.rows}  # fmt: skip

    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "warc_import.json").write_text(json.dumps(results, indent=2))
    print(f"synthetic WARC: {results['file']['records']} records, {results['file']['gzip_mb']} MB gzip")
    for name in ("fastwarc", "rows", "rows_no_digest", "lake"):
        r = results[name]
        print(f"{name:<16} {r['records_per_s']:>8} records/s  {r['gzip_mb_per_s']:>7} MB/s of gzip WARC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
