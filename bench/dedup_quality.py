"""Near-duplicate quality: pair precision and recall per edit rate on real text with planted copies.

Corpus: bench/dedup_corpus.py (Python 3.11 docs pages + copies at 1%..30% scattered word edits, each
with changed header/footer boilerplate). The corpus is split into two batches (originals and half
of the copies, then the other half) and run through `BatchDeduplicator` with an in-memory prior
store, so the incremental path (matching against earlier batches) is exercised too.

Metrics (pairs are unordered document pairs):
- recall per edit rate: share of (original, copy at that rate) pairs that end in one cluster;
- recall at J >= 0.8: share of planted pairs (any two members of one family) whose true word-5-gram
  Jaccard is >= 0.8 that end in one cluster (the issue's target: >= 0.95);
- precision: share of predicted pairs (two documents in one cluster) that are planted pairs; "lenient"
  also counts a pair of different families whose true Jaccard reaches the threshold.

Configurations: the recipe default (28 bands x 4 rows, exact verification), FineWeb/datatrove's
14 x 8 with no verification (any shared band is a duplicate), 14 x 8 with exact verification, and
28 x 4 with signature-only verification.

    .venv/bin/python bench/dedup_quality.py [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dedup_corpus

from goldpan.dedup import BatchDeduplicator, DedupConfig, DedupInput, MemoryPriorStore
from goldpan.dedup.shingles import jaccard, shingle_hashes

CONFIGS = {
    "default 28x4 exact-verify": {"num_bands": 28, "rows_per_band": 4, "verify": "exact"},
    "fineweb 14x8 no-verify": {"num_bands": 14, "rows_per_band": 8, "verify": "signature", "threshold": 0.01},
    "14x8 exact-verify": {"num_bands": 14, "rows_per_band": 8, "verify": "exact"},
    "28x4 signature-verify": {"num_bands": 28, "rows_per_band": 4, "verify": "signature"},
    "28x4 exact-verify threshold 0.6": {"num_bands": 28, "rows_per_band": 4, "verify": "exact", "threshold": 0.6},
}


def run_config(docs, cfg: dict) -> tuple[dict[str, str], float]:
    dd = BatchDeduplicator(DedupConfig(paragraph_dedup=False, url_dedup=False, **cfg))
    store = MemoryPriorStore()
    b1 = [d for i, d in enumerate(docs) if d.edit_rate is None or i % 2 == 0]
    b2 = [d for i, d in enumerate(docs) if not (d.edit_rate is None or i % 2 == 0)]
    cluster: dict[str, str] = {}
    t0 = time.perf_counter()
    for bid, part in (("b1", b1), ("b2", b2)):
        inputs = [DedupInput(d.doc_id, d.text, "en", None, float(i)) for i, d in enumerate(part)]
        out = dd.run(inputs, store.begin(bid))
        store.commit(bid, inputs, out)
        cluster.update({r.doc_id: r.cluster_id for r in out.results})
    return cluster, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="40 families instead of 150")
    args = ap.parse_args()
    docs = dedup_corpus.build(40 if args.quick else 150)
    by_id = {d.doc_id: d for d in docs}
    sh = {d.doc_id: shingle_hashes(d.text, "en") for d in docs}
    families: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        families[d.family].append(d.doc_id)
    planted = {}
    for members in families.values():
        for a, b in itertools.combinations(sorted(members), 2):
            planted[(a, b)] = jaccard(sh[a], sh[b])
    n_j80 = sum(j >= 0.8 for j in planted.values())
    rate_jacc = defaultdict(list)
    for (a, b), j in planted.items():
        da, db = by_id[a], by_id[b]
        if da.edit_rate is None and db.edit_rate is not None:
            rate_jacc[db.edit_rate].append(j)
        elif db.edit_rate is None and da.edit_rate is not None:
            rate_jacc[da.edit_rate].append(j)

    results = {"corpus": {"documents": len(docs), "originals": sum(d.edit_rate is None for d in docs),
                          "families": sum(len(m) > 1 for m in families.values()),
                          "planted_pairs": len(planted), "planted_pairs_j_ge_0.8": n_j80,
                          "mean_words": round(sum(len(d.text.split()) for d in docs) / len(docs)),
                          "templated": sum(d.doc_id.startswith("tmpl:") for d in docs),
                          "template_words": dedup_corpus.TEMPLATE_WORDS},
               "mean_true_jaccard_per_edit_rate": {f"{r:.2f}": round(sum(v) / len(v), 3) for r, v in sorted(rate_jacc.items())},
               "configs": {}, "loadavg": os.getloadavg()}
    for name, cfg in CONFIGS.items():
        cluster, secs = run_config(docs, cfg)
        members = defaultdict(list)
        for d, c in cluster.items():
            members[c].append(d)
        pred = set()
        for m in members.values():
            pred.update(itertools.combinations(sorted(m), 2))
        tp = sum(p in planted for p in pred)
        lenient = tp + sum(1 for p in pred if p not in planted and jaccard(sh[p[0]], sh[p[1]]) >= 0.8)
        found = {p for p in planted if cluster[p[0]] == cluster[p[1]]}
        per_rate = {}
        for rate in [0.0, *dedup_corpus.EDIT_RATES]:
            pairs = [(a, b) for (a, b) in planted if {by_id[a].edit_rate, by_id[b].edit_rate} == {None, rate}]
            per_rate[f"{rate:.2f}"] = round(sum(p in found for p in pairs) / len(pairs), 3) if pairs else None
        j80 = [p for p, j in planted.items() if j >= 0.8]
        results["configs"][name] = {
            "precision": round(tp / len(pred), 4) if pred else None,
            "precision_lenient": round(lenient / len(pred), 4) if pred else None,
            "predicted_pairs": len(pred),
            "recall_j_ge_0.8": round(sum(p in found for p in j80) / len(j80), 4) if j80 else None,
            "recall_all_planted": round(len(found) / len(planted), 4),
            "recall_per_edit_rate": per_rate,
            "largest_cluster": max(len(m) for m in members.values()),
            "seconds": round(secs, 2),
        }

    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "dedup_quality.json").write_text(json.dumps(results, indent=2))
    c = results["corpus"]
    print(f"corpus: {c['documents']} docs ({c['originals']} originals, {c['families']} families with copies), "
          f"{c['planted_pairs']} planted pairs ({c['planted_pairs_j_ge_0.8']} with J>=0.8), mean {c['mean_words']} words")
    rates = list(results["mean_true_jaccard_per_edit_rate"])
    print("edit rate            " + " ".join(f"{r:>6}" for r in ["bp", *rates[1:]]))
    print(f"templated short pages (unrelated, shared ~{c['template_words']} word site template): {c['templated']}")
    print("mean true J (5-gram) " + " ".join(f"{v:>6}" for v in results["mean_true_jaccard_per_edit_rate"].values()))
    for name, r in results["configs"].items():
        print(f"\n{name}: precision {r['precision']} (lenient {r['precision_lenient']}), recall J>=0.8 "
              f"{r['recall_j_ge_0.8']}, pairs {r['predicted_pairs']}, largest cluster {r['largest_cluster']}, {r['seconds']}s")
        print("  recall per rate    " + " ".join(f"{v if v is not None else '-':>6}" for v in r["recall_per_edit_rate"].values()))
    print(f"\nload average {results['loadavg']} on {os.cpu_count()} cores (shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
