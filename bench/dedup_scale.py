"""Dedup at scale: N synthetic documents in batches through the real Delta index, peak memory, and the
cost of one 10k batch against an empty index versus against the full index.

Not a test. Each batch runs exactly what the asset runs: `BatchDeduplicator.run` against
`DeltaPriorStore` (index lookups, signature and text reads of candidates), then the batch's rows are
written to `dedup_clusters`, `dedup_index` and `dedup_paragraphs` and its texts to a documents-like
table, so later batches can verify against them. About 1% of every batch are near copies (3% of
words changed) of documents from earlier batches, so prior matches and verification really run.

    .venv/bin/python bench/dedup_scale.py --quick          # 100k docs (10 batches of 10k)
    .venv/bin/python bench/dedup_scale.py                  # 1M docs (100 batches of 10k)

Writes bench/out/dedup_scale.json. Peak RSS is the process maximum (ru_maxrss), DuckDB included.
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
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goldpan.dedup.clusters import BatchDeduplicator, DedupInput
from goldpan.dedup.store import DeltaPriorStore, write_index
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DEDUP_CLUSTERS
from goldpan.recipe import DedupSection

TEXTS = pa.schema([("doc_id", pa.string()), ("batch_id", pa.string()), ("lang", pa.string()),
                   ("text", pa.large_string())])
VOCAB_SIZE = 30_000
WORDS_PER_DOC = (80, 250)


def vocab() -> list[str]:
    rng = np.random.default_rng(7)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, size=int(rng.integers(2, 10)))) for _ in range(VOCAB_SIZE)]


class Synth:
    """Deterministic synthetic documents: Zipf-distributed words, doc i from seed i."""

    def __init__(self) -> None:
        self.v = vocab()
        ranks = np.arange(1, VOCAB_SIZE + 1)
        p = 1.0 / ranks
        self.p = p / p.sum()

    def text(self, i: int) -> str:
        rng = np.random.default_rng(i)
        n = int(rng.integers(*WORDS_PER_DOC))
        idx = rng.choice(VOCAB_SIZE, size=n, p=self.p)
        return " ".join(self.v[j] for j in idx)

    def near(self, i: int, rate: float, salt: int) -> str:
        ws = self.text(i).split()
        rng = np.random.default_rng(10_000_000 + salt)
        for k in rng.choice(len(ws), size=max(1, int(len(ws) * rate)), replace=False):
            ws[k] = f"edit{salt}x{k}"
        return " ".join(ws)


def make_batch(s: Synth, b: int, size: int, dup_share: float) -> list[DedupInput]:
    docs = []
    rng = np.random.default_rng(555 + b)
    n_dup = int(size * dup_share) if b > 0 else 0
    for k in range(size - n_dup):
        i = b * size + k
        docs.append(DedupInput(f"d{i:08d}", s.text(i), "en", f"http://synth/{i}", float(i)))
    for k in range(n_dup):
        src = int(rng.integers(0, b * size))  # a document of an earlier batch
        i = b * size + size - n_dup + k
        docs.append(DedupInput(f"d{i:08d}", s.near(src, 0.01, i), "en", f"http://synth/{i}", float(i)))
    return docs


def write_batch(lake: Lake, batch: str, docs: list[DedupInput], dd: BatchDeduplicator, out) -> None:
    pred = batch_predicate("batch_id", batch)
    rows = ({"doc_id": r.doc_id, "page_id": r.doc_id, "batch_id": batch, "url": d.url, "text_sha1": r.text_sha1,
             "cluster_id": r.cluster_id, "is_representative": r.is_representative, "status": r.status,
             "rule": r.rule, "duplicate_of": r.duplicate_of, "similarity": r.similarity, "threshold": r.threshold,
             "n_shingles": r.n_shingles, "minhash_config": dd.config_id, "signature": r.signature.tolist(),
             "band_keys": r.band_keys.tolist(), "dedup_text": r.dedup_text, "canonical_url": d.url,
             "supersedes": r.supersedes, "value": r.value, "cluster_size": r.cluster_size,
             "n_paragraphs": r.n_paragraphs, "paragraphs_removed": r.paragraphs_removed,
             "chars_removed": r.chars_removed} for d, r in zip(docs, out.results, strict=True))
    lake.write("dedup_clusters", rows_to_batches(rows, DEDUP_CLUSTERS, 2048), DEDUP_CLUSTERS, predicate=pred,
               partition_by=["batch_id"])
    texts = ({"doc_id": d.doc_id, "batch_id": batch, "lang": d.lang, "text": d.text} for d in docs)
    lake.write("bench_texts", rows_to_batches(texts, TEXTS, 4096), TEXTS, predicate=pred, partition_by=["batch_id"])
    write_index(lake, batch, dd.config_id, out)


def one_batch(lake: Lake, batch: str, docs: list[DedupInput], dd: BatchDeduplicator, write: bool = True) -> dict:
    store = DeltaPriorStore(lake, batch, dd.config_id, text_table="bench_texts")
    t0, c0 = time.perf_counter(), time.process_time()
    out = dd.run(docs, store)
    t1, c1 = time.perf_counter(), time.process_time()
    if write:
        write_batch(lake, batch, docs, dd, out)
    t2 = time.perf_counter()
    return {"match_s": t1 - t0, "match_cpu_s": c1 - c0, "write_s": t2 - t1, "stats": out.stats,
            "rows_read": store.rows_read}


def probe_compare(lake: Lake, empty_root: Path, probe: list[DedupInput], dd: BatchDeduplicator, repeat: int = 3) -> dict:
    """The same 10k batch matched against an empty index and against `lake`'s full index, best CPU
    and wall time of `repeat` runs each, alternating so load changes hit both sides alike."""
    empty, full = [], []
    for _ in range(repeat):
        empty.append(one_batch(Lake(empty_root), "b99999999", probe, dd, write=False))
        full.append(one_batch(lake, "b99999999", probe, dd, write=False))
    e_cpu, f_cpu = min(r["match_cpu_s"] for r in empty), min(r["match_cpu_s"] for r in full)
    e_wall, f_wall = min(r["match_s"] for r in empty), min(r["match_s"] for r in full)
    return {"probe_10k_cpu_s_empty_index": round(e_cpu, 2), "probe_10k_cpu_s_full_index": round(f_cpu, 2),
            "probe_ratio_cpu_full_over_empty": round(f_cpu / e_cpu, 3),
            "probe_10k_wall_s_empty_index": round(e_wall, 2), "probe_10k_wall_s_full_index": round(f_wall, 2),
            "probe_ratio_wall_full_over_empty": round(f_wall / e_wall, 3),
            "probe_full_stats": full[-1]["stats"], "probe_full_rows_read": full[-1]["rows_read"]}


def make_probe(s: Synth, bs: int) -> list[DedupInput]:
    """A fixed 10k batch: 1% near copies of early documents, the rest new."""
    return [DedupInput(f"probe{k:06d}", s.near(k * 7, 0.01, 99_000_000 + k) if k % 100 == 0 else s.text(50_000_000 + k),
                       "en", f"http://probe/{k}", float(k)) for k in range(bs)]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--dup-share", type=float, default=0.01)
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--probe-only", action="store_true", help="reuse the lake of an earlier run, only compare the probe")
    args = ap.parse_args()
    n_docs = args.docs or (100_000 if args.quick else 1_000_000)
    bs = args.batch_size
    n_batches = n_docs // bs
    root = Path(args.data) / "scale_lake"
    empty_root = Path(args.data) / "scale_lake_empty"
    dd = BatchDeduplicator(DedupSection())
    s = Synth()
    probe = make_probe(s, bs)
    if args.probe_only:
        lake = Lake(root)
        with lake.connect(tables=["dedup_clusters"]) as con:
            n_rows = con.execute("SELECT count(*) FROM dedup_clusters").fetchone()[0]
        res = {"docs_in_index_lake": n_rows, **probe_compare(lake, empty_root, probe, dd),
               "loadavg": os.getloadavg(), "cpu_count": os.cpu_count()}
        out_dir = ROOT / "bench" / "out"
        out_dir.mkdir(exist_ok=True)
        (out_dir / "dedup_scale_probe.json").write_text(json.dumps(res, indent=2))
        for k, v in res.items():
            print(f"{k:<42} {v}")
        return 0
    for p in (root, empty_root):
        shutil.rmtree(p, ignore_errors=True)
    lake = Lake(root)

    one_batch(Lake(empty_root), "b99999999", probe, dd, write=False)  # warm-up (tables, caches)
    per_batch = []
    t_all = time.perf_counter()
    load = os.getloadavg()
    for b in range(n_batches):
        docs = make_batch(s, b, bs, args.dup_share)
        r = one_batch(lake, f"b{b:08d}", docs, dd)
        r["batch"] = b
        per_batch.append(r)
        if b % 10 == 0 or b == n_batches - 1:
            print(f"batch {b:>4}: match {r['match_s']:.2f}s (cpu {r['match_cpu_s']:.2f}s) write {r['write_s']:.2f}s "
                  f"near={r['stats'].get('near_duplicate', 0)} prior_cands={r['stats'].get('prior_candidates', 0)} "
                  f"rss={rss_mib():.0f} MiB", flush=True)
    total_s = time.perf_counter() - t_all
    probe_res = probe_compare(lake, empty_root, probe, dd)
    with lake.connect(tables=["dedup_index", "dedup_clusters"]) as con:
        idx_rows = con.execute("SELECT count(*) FROM dedup_index").fetchone()[0]
        n_rows = con.execute("SELECT count(*) FROM dedup_clusters").fetchone()[0]
        n_near = con.execute("SELECT count(*) FROM dedup_clusters WHERE rule = 'near_duplicate'").fetchone()[0]
    planted = sum(int(bs * args.dup_share) for b in range(1, n_batches))
    res = {
        "docs": n_rows,
        "batches": n_batches,
        "batch_size": bs,
        "index_rows": idx_rows,
        "planted_near_copies": planted,
        "found_near_duplicates": n_near,
        "total_seconds": round(total_s, 1),
        "docs_per_s_end_to_end_incl_delta_writes": round(n_rows / total_s, 1),
        "peak_rss_mib": round(rss_mib(), 1),
        **probe_res,
        "first_batch_match_cpu_s": round(per_batch[0]["match_cpu_s"], 2),
        "last_batch_match_cpu_s": round(per_batch[-1]["match_cpu_s"], 2),
        "match_docs_per_cpu_s": round(n_rows / sum(r["match_cpu_s"] for r in per_batch), 1),
        "loadavg_at_start": load,
        "loadavg_at_end": os.getloadavg(),
        "cpu_count": os.cpu_count(),
    }
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "dedup_scale.json").write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:<42} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
