"""fastText classify benchmark: scoring documents/s per core and training time, on real documents.

Documents: the text of every page of the bundled sample site (extracted with goldpan's extractor)
plus the shipped reference sets (Python documentation prose and code, Debian Reference in Chinese),
cycled to `--docs` documents. Models: trained here with the recipe defaults (dim 64, lr 0.1,
5 epochs, word bigrams, 50k buckets) on the shipped positives against sample-site and general text.
"Per core" divides by the process CPU time (fastText predict is single-threaded), so a busy shared
machine lowers wall-clock throughput but not the per-core figure as much. Prints a table and writes
bench/out/classify_score.json. `--quick` uses fewer documents.

    .venv/bin/python bench/classify_score.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def real_documents() -> list[str]:
    from bench.run_all import sample_pages
    from goldpan.classify.reference import ReferenceSource, load_reference
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_documents

    pages = [dict(p, page_id=f"p{j}", batch_id="bench") for j, p in enumerate(sample_pages())]
    site = [d["text"] for d in extract_documents(pages, LanguageIdentifier()) if d["status"] == "kept"]
    shipped = load_reference([ReferenceSource("jsonl", f"shipped:{n}.jsonl") for n in
                              ("quality_en", "quality_zh", "math_seed", "code_seed", "general_seed")])
    return site + shipped


def measure(fn, n: int) -> dict:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return {"docs": n, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "docs_per_s_wall": round(n / wall), "docs_per_s_per_core": round(n / cpu) if cpu else None}


def run(quick: bool = False, n_docs: int | None = None, dim: int | None = None) -> dict:
    from goldpan.classify.model import FastTextParams, line_probability, positive_probability, train_binary
    from goldpan.classify.reference import ReferenceSource, load_reference
    from goldpan.classify.scores import LoadedModel, Scorer
    from goldpan.classify.text import fasttext_line
    from goldpan.recipe import FastTextSection

    base = real_documents()
    n = n_docs or (5_000 if quick else 50_000)
    docs = [base[i % len(base)] for i in range(n)]
    defaults = FastTextSection()
    params = FastTextParams(dim=dim or defaults.dim, epoch=defaults.epoch, lr=defaults.lr, word_ngrams=defaults.word_ngrams,
                            bucket=defaults.bucket, max_chars=defaults.max_chars)
    pos = load_reference([ReferenceSource("jsonl", "shipped:quality_en.jsonl"),
                          ReferenceSource("jsonl", "shipped:quality_zh.jsonl")])
    neg = load_reference([ReferenceSource("jsonl", "shipped:general_seed.jsonl"),
                          ReferenceSource("jsonl", "shipped:code_seed.jsonl")]) + base[:40]
    out: dict = {"documents": {"distinct": len(base), "scored": n,
                               "mean_chars": round(sum(map(len, docs)) / n)}, "params": params.as_dict()}
    t0 = time.perf_counter()
    model = train_binary(pos, neg, params)
    train_s = time.perf_counter() - t0
    out["train"] = {"examples": len(pos) + len(neg), "seconds": round(train_s, 3),
                    "examples_per_s": round((len(pos) + len(neg)) / train_s)}
    rows = {}
    lines: list[str] = []
    rows["preprocess only (fasttext_line, max_chars 10000)"] = measure(
        lambda: lines.extend(fasttext_line(d, 10_000) for d in docs), n)
    rows["fastText P(hq) only (pre-tokenised lines)"] = measure(lambda: line_probability(model, lines), n)
    for mc in (10_000, 2_000, 1_000):
        rows[f"P(hq) end to end, max_chars {mc}"] = measure(lambda mc=mc: positive_probability(model, docs, mc), n)
    lm = LoadedModel("bench", model)
    scorer = Scorer(quality=lm, math=lm, code=lm, max_chars=params.max_chars)
    recs = [{"doc_id": str(i), "batch_id": "b", "text": d} for i, d in enumerate(docs)]
    rows["doc_scores rows, 3 models (quality+math+code), max_chars 10000"] = measure(
        lambda: sum(b.num_rows for b in scorer.score_stream(recs)), n)
    out["scoring"] = rows
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs", type=int, default=None)
    ap.add_argument("--dim", type=int, default=None, help="fastText dimension (default: the recipe default, 100)")
    args = ap.parse_args()
    res = run(args.quick, args.docs, args.dim)
    d = res["documents"]
    print(f"documents: {d['scored']} scored ({d['distinct']} distinct real texts, mean {d['mean_chars']} chars)")
    t = res["train"]
    print(f"training (dim {res['params']['dim']}, bucket {res['params']['bucket']}, epoch {res['params']['epoch']}, "
          f"1 thread): {t['examples']} examples in {t['seconds']} s")
    print(f"{'step':<64} {'docs/s wall':>12} {'docs/s/core':>12}")
    for name, r in res["scoring"].items():
        print(f"{name:<64} {r['docs_per_s_wall']:>12,} {r['docs_per_s_per_core']:>12,}")
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    name = "classify_score.json" if args.dim is None else f"classify_score_dim{args.dim}.json"
    (out_dir / name).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
