"""Index lookup cost alone: one 10k-document batch's band/url/sha1 keys looked up in a `dedup_index`
of N documents (synthetic keys written exactly as `write_index` writes them, batch by batch), CPU
seconds per lookup, repeated. Isolates the part of `bench/dedup_scale.py`'s probe that grows with the
index, without spending an hour building a 1M-document lake through the full matcher.

    .venv/bin/python bench/dedup_lookup.py --docs 1000000      # build (or reuse) then measure
    .venv/bin/python bench/dedup_lookup.py --quick             # 100k docs

Writes bench/out/dedup_lookup_<docs>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goldpan.dedup import settings as dedup_settings
from goldpan.dedup.clusters import (
    KIND_ANCHOR,
    KIND_BAND,
    KIND_SHA1,
    KIND_URL,
    BatchOutcome,
    IndexRows,
)
from goldpan.dedup.store import DeltaPriorStore, write_index
from goldpan.recipe import DedupSection

BANDS = dedup_settings.banding(DedupSection())[0]  # the recipe default's bands (S-curve for its threshold)
ANCHORS = 64  # content anchors per document: shingles / anchor_rate (16) of a ~1,000-word page
CONFIG = f"bench-b{BANDS}-a{ANCHORS}"
PER_DOC = ((KIND_URL, 1), (KIND_SHA1, 1), (KIND_BAND, BANDS), (KIND_ANCHOR, ANCHORS))


def batch_outcome(b: int, bs: int) -> BatchOutcome:
    rng = np.random.default_rng(1000 + b)
    doc_ids = [f"d{b * bs + k:08d}" for k in range(bs)]
    kinds, keys, docs = [], [], []
    for kind, per in PER_DOC:
        n = bs * per
        keys.append(rng.integers(-(2**63), 2**63 - 1, size=n, dtype=np.int64))
        kinds += [kind] * n
        docs += [d for d in doc_ids for _ in range(per)]
    rows = IndexRows()
    rows.kinds, rows.keys, rows.doc_ids, rows.cluster_ids = kinds, np.concatenate(keys), docs, list(docs)
    out = BatchOutcome.__new__(BatchOutcome)
    out.index_rows, out.paragraph_counts, out.merges = rows, {}, []
    return out


def probe_keys(n_batches: int, bs: int) -> dict[str, np.ndarray]:
    """A 10k batch's keys: random (misses) plus ~1% that hit documents of earlier batches."""
    rng = np.random.default_rng(424242)
    res = {}
    for kind, per in PER_DOC:
        res[kind] = rng.integers(-(2**63), 2**63 - 1, size=bs * per, dtype=np.int64)
    # ~1% of the batch's band keys hit: 28 bands x 100 documents, spread over all earlier batches
    # (one document per batch as far as there are batches), as real near copies would be.
    hits = []
    n_hit_docs = bs // 100
    for j in range(n_hit_docs if n_batches else 0):
        o = batch_outcome(j % n_batches, bs)
        k = np.asarray(o.index_rows.keys)
        d = int(rng.integers(0, bs))
        hits.append(k[2 * bs + d * BANDS: 2 * bs + (d + 1) * BANDS])  # that document's band keys
    if hits:
        h = np.concatenate(hits)
        res[KIND_BAND][: h.size] = h
    return res


def main() -> int:
    from goldpan.lake import Lake

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--compact-files", type=int, default=16, help="write_index's compaction threshold (0 = never)")
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    args = ap.parse_args()
    n_docs = args.docs or (100_000 if args.quick else 1_000_000)
    bs = args.batch_size
    n_batches = n_docs // bs
    root = Path(args.data) / f"lookup_lake_{n_docs}_c{args.compact_files}"
    if args.rebuild:
        shutil.rmtree(root, ignore_errors=True)
    lake = Lake(root)
    t0 = time.perf_counter()
    built = 0
    if not lake.exists("dedup_index"):
        for b in range(n_batches):
            write_index(lake, f"b{b:08d}", CONFIG, batch_outcome(b, bs), compact_files=args.compact_files)
            built += 1
            if b % 10 == 0:
                print(f"built batch {b}", flush=True)
    build_s = time.perf_counter() - t0
    q = probe_keys(n_batches, bs)
    runs = []
    for _ in range(args.repeat):
        store = DeltaPriorStore(lake, "b99999999", CONFIG)
        t, c = time.perf_counter(), time.process_time()
        n = {kind: len(store.lookup(kind, keys)) for kind, keys in q.items()}
        runs.append({"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c, "hits": n})
    from goldpan.dedup.store import partition_file_counts

    files = partition_file_counts(lake, "dedup_index")
    res = {"docs": n_docs, "compact_files": args.compact_files, "index_files": sum(files.values()), "index_rows": n_docs * sum(p for _, p in PER_DOC), "bands": BANDS, "anchors_per_doc": ANCHORS, "built_batches": built, "build_s": round(build_s, 1),
           "lookup_cpu_s_best": round(min(r["cpu_s"] for r in runs), 3),
           "lookup_wall_s_best": round(min(r["wall_s"] for r in runs), 3),
           "runs": runs, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "loadavg": os.getloadavg()}
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"dedup_lookup_{n_docs}.json").write_text(json.dumps(res, indent=2, default=str))
    for k, v in res.items():
        print(f"{k:<24} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
