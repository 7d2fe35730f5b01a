"""Release-stage throughput: GPT-2 token counting, 13-gram decontamination, budget allocation, export.

Texts are the bundled sample's articles (English and Chinese), replayed with distinct suffixes.
Prints a table and writes bench/out/release_throughput.json. `--quick` for development.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_texts() -> list[str]:
    from sample.server import default_site_root

    texts = []
    for p in sorted((default_site_root()).rglob("*.html")):
        raw = p.read_bytes()
        for enc in ("utf-8", "gbk", "big5"):
            try:
                html = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
        if len(text) > 400:
            texts.append(text)
    return texts


def timed(fn, n: int, unit: str) -> dict:
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    return {"items": n, "unit": unit, "seconds": round(dt, 3), "per_second": round(n / dt, 1) if dt else None, "out": out}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    repeat = 20 if args.quick else args.repeat

    import pyarrow as pa

    from goldpan.bpe.counter import TokenCounter
    from goldpan.decontam.index import DecontamIndex
    from goldpan.export.writer import export_release
    from goldpan.lake import Lake
    from goldpan.lake.schemas import CORPUS
    from goldpan.mix.budget import allocate
    from goldpan.release.promote import promote, record_gate_attempt

    base = sample_texts()
    texts = [f"{t} [{i}]" for i in range(repeat) for t in base]
    results: dict[str, dict] = {}

    counter = TokenCounter("gpt2")
    r = timed(lambda: counter.count_batch(texts), len(texts), "docs")
    counts = r.pop("out")
    r["tokens"] = sum(counts)
    r["tokens_per_second"] = round(sum(counts) / r["seconds"]) if r["seconds"] else None
    results["tokens: tiktoken GPT-2, encode_ordinary_batch 2 threads"] = r

    idx = DecontamIndex(n=13)
    evals = [f"question {i}: " + base[i % len(base)][200:600] for i in range(200)]
    r = timed(lambda: idx.add("bench", evals), len(evals), "eval items")
    r.pop("out")
    r["ngrams_indexed"] = len(idx.keys)
    results["decontam: index eval set (13-grams)"] = r
    r = timed(lambda: sum(idx.check(t) is not None for t in texts), len(texts), "docs")
    r["contaminated"] = r.pop("out")
    results["decontam: scan candidate docs"] = r

    groups = {"web": [(c, 1) for c in counts[: len(counts) * 3 // 4]], "books": [(c, 4) for c in counts[len(counts) * 3 // 4:]]}
    r = timed(lambda: allocate(groups, {"web": 0.6, "books": 0.4}, None), len(counts), "docs")
    r.pop("out")
    results["mix: budget allocation"] = r

    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp) / "lake")
        rows = [{"doc_id": f"d{i:07d}", "page_id": f"p{i}", "batch_id": "b", "url": f"http://x/{i}", "title": None,
                 "text": t, "lang": "en", "source": "web", "domain": "x", "n_words": len(t.split()), "repeat": 1,
                 "recipe_id": "bench", "n_tokens": c, "origin": "lake", "pii_json": None}
                for i, (t, c) in enumerate(zip(texts, counts))]
        v = lake.write("corpus_candidate", pa.Table.from_pylist(rows, schema=CORPUS), CORPUS).version
        record_gate_attempt(lake, passed=True, candidate_version=v, recipe_id="bench", recipe_sha1="0" * 40, gate={},
                            run_id="bench")
        promote(lake, candidate_version=v, run_id="bench")
        r = timed(lambda: export_release(lake, "v1", Path(tmp) / "out", shard_docs=2000), len(rows), "docs")
        m = r.pop("out").manifest
        r["shards"] = len(m["shards"])
        r["bytes"] = sum(f["bytes"] for s in m["shards"] for f in s["files"].values())
        results["export: JSONL.zst + Parquet, zstd 10"] = r

    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "release_throughput.json").write_text(json.dumps(results, indent=2))
    print(f"{'benchmark':<56}{'items':>9}{'seconds':>9}{'per second':>12}  extra")
    for name, r in results.items():
        extra = {k: v for k, v in r.items() if k not in ("items", "seconds", "per_second", "unit")}
        print(f"{name:<56}{r['items']:>9}{r['seconds']:>9}{r['per_second'] or 0:>12}  {r['unit']} {json.dumps(extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
