"""Dedup throughput per core on real pages: goldpan's signatures (shingles + one-permutation MinHash + band
keys + exact-duplicate key, the pure `compute_signatures`) and its set-level work (candidates, exact
verification, clusters), next to datatrove's MinHash signature stage (FineWeb's 5-gram 14x8) on the same
documents in the same run.

Corpus: the first documents of bench/dedup_corpus.py (real documentation pages with planted copies, so
verification has real work). Rates are per CPU second (time.process_time of each process): the 2-core
machine is shared, so wall time mostly measures the neighbours. datatrove runs in bench/.venv-datatrove
(created by bench/datatrove_agreement.py's `ensure_datatrove_venv`; its MinHash stage also needs
`tokenizers` and an `xxhash` that hashes str (3.4.1), installed here when missing).

    .venv/bin/python bench/dedup_throughput.py [--docs 1500]

Writes bench/out/dedup_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dedup_corpus

from goldpan.dedup import BatchDeduplicator, DedupInput, MemoryPriorStore
from goldpan.recipe import DedupSection


def datatrove_python() -> Path:
    from datatrove_agreement import ensure_datatrove_venv

    py = ensure_datatrove_venv()
    probe = "import tokenizers, xxhash; xxhash.xxh64_intdigest('a')"  # datatrove 0.10.1 hashes str
    ok = subprocess.run([str(py), "-c", probe], capture_output=True, check=False).returncode == 0
    if not ok:
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "tokenizers",
                        "xxhash==3.4.1"], check=True)
    return py


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1500)
    args = ap.parse_args()
    corpus, _ = dedup_corpus.build(150)
    # originals and their copies first (verification work), then other pages
    order = sorted(corpus, key=lambda d: (d.kind not in ("original", "copy", "contained"), d.doc_id))
    docs = order[: args.docs]
    chars = sum(len(d.text) for d in docs)
    inputs = [DedupInput(d.doc_id, d.text, d.lang, None, float(i)) for i, d in enumerate(docs)]

    dd = BatchDeduplicator(DedupSection(paragraph_dedup=False, url_dedup=False))
    dd.features(inputs[:5])  # warm the normalisation tables
    c0 = time.process_time()
    feats = dd.features(inputs)
    sig_cpu = time.process_time() - c0
    c0 = time.process_time()
    out = dd.run(inputs, MemoryPriorStore().begin("b1"), features=feats)
    set_cpu = time.process_time() - c0

    py = datatrove_python()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "docs.jsonl", Path(tmp) / "out.json"
        with open(src, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"doc_id": d.doc_id, "text": d.text}) + "\n" for d in docs)
        subprocess.run([str(py), str(ROOT / "bench" / "datatrove_minhash_worker.py"), str(src), str(dst)], check=True)
        dt = json.loads(dst.read_text())

    n = len(docs)
    res = {
        "documents": n,
        "mean_chars": round(chars / n),
        "goldpan_signature_cpu_s": round(sig_cpu, 2),
        "goldpan_set_level_cpu_s": round(set_cpu, 2),
        "goldpan_signature_docs_per_cpu_s": round(n / sig_cpu, 1),
        "goldpan_signature_and_verification_docs_per_cpu_s": round(n / (sig_cpu + set_cpu), 1),
        "datatrove_minhash_signature_cpu_s": round(dt["cpu_s"], 2),
        "datatrove_docs_per_cpu_s": round(n / dt["cpu_s"], 1),
        "speedup_signatures": round(dt["cpu_s"] / sig_cpu, 1),
        "speedup_signatures_plus_verification": round(dt["cpu_s"] / (sig_cpu + set_cpu), 1),
        "match_stats": out.stats,
        "loadavg": os.getloadavg(),
        "cpu_count": os.cpu_count(),
    }
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "dedup_throughput.json").write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:<52} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
