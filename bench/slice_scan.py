"""What one slice of a stage's input costs to read, by how the slice is cut (goldpan.engine.slices).

On Ray each task reads its slice of the stage's input from the lake. Three ways to cut it, measured on
the extract stage's input (`pages`: the page bodies, the widest column of the lake) of the >= 5,000-page
real WARC of bench/end_to_end.py:
- `outer`: `hash(id) % n = i` around the stage's query (how slices were cut before);
- `in-scan`: the same predicate in the `pages` view (`LakeQuery.slice_table`), which DuckDB evaluates
  inside the Parquet scan (it does not push an expression through a view);
- `files`: whole files of the batch's partition per slice (`LakeQuery.file_slices`; what a Ray-written
  table allows: one part per slice of the stage that wrote it).

For n slices, prints the seconds of all n slice reads together (what the cluster spends) and of the
slowest (what a stage waits for), the median of `--repeat` runs, on a local lake and on the same lake
on a local S3 server (moto on 127.0.0.1, if the dev extra is installed). The machine may be shared:
compare the rows of one run. Writes bench/out/slice_scan.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
BATCH = "b-slices"


def build_lake(root: Path, pages: int, files: int) -> None:
    """Import the real WARC in `files` commits (one Parquet file each), as a Ray import would leave it."""
    from end_to_end import shard_warcs

    from goldpan.lake import Lake
    from goldpan.recipe import WarcSection
    from goldpan.warc.importer import import_warc_batch

    import_warc_batch(Lake(root), [str(s) for s in shard_warcs(pages)], BATCH,
                      WarcSection(chunk_rows=-(-pages // files)))


def read_slices(lake, scheme: str, n: int) -> tuple[float, float, int]:
    """(sum of slice read seconds, slowest slice, rows) for `n` slices cut by `scheme`."""
    from goldpan.engine.slices import LakeQuery
    from goldpan.extract.stage import PAGES_SQL

    partition = (("batch_id", BATCH),)
    q = LakeQuery(PAGES_SQL, [BATCH], ["pages"], key="page_id",
                  slice_table=None if scheme == "outer" else "pages",
                  slice_partition=partition if scheme == "files" else ())
    snap = lake.snapshot(["pages"])
    files = q.file_slices(lake, snap, n) if scheme == "files" else None
    if scheme == "files" and files is None:
        raise SystemExit(f"fewer files than {n} slices: raise --files")
    total = slowest = 0.0
    rows = 0
    for i in range(n):
        t0 = time.perf_counter()
        if files is not None:
            it = lake.iter_batches(q.sql, [BATCH], tables=["pages"], snapshot=snap, files={"pages": files[i]})
        else:
            it = lake.iter_batches(q.slice_sql(i, n), [BATCH], tables=["pages"], snapshot=snap,
                                   row_filters=q.slice_filters(i, n))
        rows += sum(b.num_rows for b in it)
        dt = time.perf_counter() - t0
        total += dt
        slowest = max(slowest, dt)
    return total, slowest, rows


def measure(lake, slices: list[int], repeat: int) -> dict:
    out: dict = {}
    t0 = time.perf_counter()
    whole = sum(b.num_rows for b in lake.iter_batches("SELECT * FROM pages WHERE status = 'kept'", None,
                                                      tables=["pages"]))
    out["whole_read_s"] = round(time.perf_counter() - t0, 3)
    for n in slices:
        for scheme in ("outer", "in-scan", "files"):
            runs = [read_slices(lake, scheme, n) for _ in range(repeat)]
            assert all(r[2] == whole for r in runs), (scheme, n, [r[2] for r in runs], whole)
            out[f"{n}:{scheme}"] = {"all_slices_s": round(statistics.median(r[0] for r in runs), 3),
                                    "slowest_slice_s": round(statistics.median(r[1] for r in runs), 3)}
    return out


def moto_lake(local_root: Path):
    """The same lake on moto's S3 server (started here, stopped by the caller); None without moto."""
    try:
        import boto3
        import moto.server  # noqa: F401
    except ImportError:
        return None, None
    from goldpan.lake import Lake

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.terminate()
                raise SystemExit("moto did not start") from None
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    opts = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[k] = "bench"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    for f in local_root.rglob("*"):
        if f.is_file():
            s3.upload_file(str(f), "lake", f"bench/{f.relative_to(local_root)}")
    return Lake("s3://lake/bench", opts), server


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--quick", action="store_true", help="1,000 pages")
    ap.add_argument("--files", type=int, default=8, help="Parquet files in the batch's partition")
    ap.add_argument("--slices", default="2,4,8")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-s3", action="store_true")
    args = ap.parse_args(argv)
    pages = 1000 if args.quick else args.pages
    slices = [int(x) for x in args.slices.split(",")]
    from goldpan.lake import Lake

    load0 = os.getloadavg()
    results: dict = {"pages": pages, "files": args.files, "load_before": load0}
    with tempfile.TemporaryDirectory(prefix="goldpan-slices-") as tmp:
        root = Path(tmp) / "lake"
        build_lake(root, pages, args.files)
        lakes = {"local": (Lake(root), None)}
        if not args.no_s3:
            s3_lake, server = moto_lake(root / "")
            if s3_lake is not None:
                lakes["s3 (moto)"] = (s3_lake, server)
        try:
            for where, (lake, _) in lakes.items():
                results[where] = measure(lake, slices, args.repeat)
        finally:
            for _, server in lakes.values():
                if server is not None:
                    server.terminate()
                    server.wait(timeout=10)
    results["load_after"] = os.getloadavg()
    print(f"{pages} real pages in {args.files} files; load average {load0[0]:.1f} -> {results['load_after'][0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'lake':<11}{'slices':>7}{'scheme':>9}{'all slices s':>14}{'slowest s':>11}{'whole read s':>14}")
    for where in lakes:
        r = results[where]
        for n in slices:
            for scheme in ("outer", "in-scan", "files"):
                m = r[f"{n}:{scheme}"]
                print(f"{where:<11}{n:>7}{scheme:>9}{m['all_slices_s']:>14}{m['slowest_slice_s']:>11}"
                      f"{r['whole_read_s']:>14}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "slice_scan.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
