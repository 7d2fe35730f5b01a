"""Classifier size against held-out quality: the recipe's quality, math and code fastText models trained at
several (dim, bucket) sizes on the same data, over several seeds.

Why: the recipe's fastText size was DCLM's (dim 100, 200k buckets: ~100 MB per model), chosen for 200k
training examples per class, while goldpan trains on the reference sets a recipe ships (hundreds to a few
thousand examples per class). Every model is held by the run process while it trains (both domains train at
once) and loaded by every worker that scores, so its size was the graph's peak memory and `domain_models`
one of its longest serial steps. This measures what a smaller model costs in quality.

Data: a lake the graph has already run over (documents are the negatives and the mining pool), e.g. the one
`bench/end_to_end.py` leaves, or `goldpan run --warc ...`'s. Each model is trained as the stages train it
(goldpan.classify: same sampling, balance, held-out split and preprocessing; the domain models' first round
with the pool's negatives) and scored on its held-out split: ROC AUC (threshold-free) and F1 at the recipe's
threshold, mean and standard deviation over the seeds, and the training seconds.

    .venv/bin/python bench/classify_size.py --lake LAKE [--recipe recipes/warc.yaml] [--seeds 42,7,1234]
        [--sizes 100x200000,64x50000,32x20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SIZES = "100x200000,100x50000,64x50000,32x50000,32x20000,16x20000"


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def f1_at(pos: np.ndarray, neg: np.ndarray, threshold: float) -> float:
    tp, fp = int((pos >= threshold).sum()), int((neg >= threshold).sum())
    return 2 * tp / max(1, 2 * tp + fp + (len(pos) - tp))


def main(argv: list[str] | None = None) -> int:
    from goldpan.classify.config import fasttext_params, mining_config, quality_training, sources
    from goldpan.classify.mining import MiningPool
    from goldpan.classify.model import line_probability, train_binary_lines
    from goldpan.classify.reference import load_reference
    from goldpan.classify.sampling import sample_documents, split, subsample
    from goldpan.classify.text import fasttext_line
    from goldpan.lake import Lake
    from goldpan.recipe_loader import load_recipe

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True, help="a lake the whole graph has run over")
    ap.add_argument("--recipe", default=str(ROOT / "recipes" / "warc.yaml"))
    ap.add_argument("--seeds", default="42,7,1234")
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="dim x bucket, comma-separated")
    args = ap.parse_args(argv)

    lake = Lake(args.lake)
    section = load_recipe(args.recipe).classify
    qt, mc = quality_training(section), mining_config(section)
    texts = {n: load_reference(sources(getattr(section.domains, n)), lake) for n in ("math", "code", "general")}
    quality_pos = load_reference(qt.positives, lake, limit=qt.max_positives)
    pool = MiningPool.sample(lake, mc)
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]

    def trial(params, pos_train, pos_held, neg_train_lines, neg_held, threshold):
        line = lambda t: fasttext_line(t, params.max_chars)
        t0 = time.perf_counter()
        model = train_binary_lines([line(t) for t in pos_train], neg_train_lines, params)
        seconds = time.perf_counter() - t0
        ps = line_probability(model, [line(t) for t in pos_held])
        ns = line_probability(model, [line(t) for t in neg_held])
        return roc_auc(ps, ns), f1_at(ps, ns, threshold), seconds

    results: list[dict] = []
    print(f"{'dim':>4} {'bucket':>8} {'model':8} {'AUC':>15} {'F1':>15} {'train s':>8}")
    for dim, bucket in sizes:
        rows: dict[str, list[tuple[float, float, float]]] = {}
        for seed in seeds:
            params = dataclasses.replace(fasttext_params(section), dim=dim, bucket=bucket, seed=seed)
            line = lambda t, p=params: fasttext_line(t, p.max_chars)
            neg = [t for _, t in sample_documents(lake, len(quality_pos), seed)]
            n = min(len(quality_pos), len(neg))
            pos, neg = subsample(quality_pos, n, seed), subsample(neg, n, seed + 1)
            pt, ph = split(pos, qt.heldout_fraction, seed)
            nt, nh = split(neg, qt.heldout_fraction, seed + 1)
            rows.setdefault("quality", []).append(trial(params, pt, ph, [line(t) for t in nt], nh, qt.eval_threshold))
            for name, other in (("math", "code"), ("code", "math")):
                pt, ph = split(texts[name], mc.heldout_fraction, seed)
                nt, nh = split(texts["general"] + texts[other], mc.heldout_fraction, seed + 1)
                negs = [line(t) for t in nt] + pool.lines[: mc.pool_negatives]
                rows.setdefault(name, []).append(trial(params, pt, ph, negs, nh, mc.eval_threshold))
        for name, vals in rows.items():
            v = np.array(vals)
            rec = {"dim": dim, "bucket": bucket, "model": name, "auc": round(v[:, 0].mean(), 4),
                   "auc_sd": round(v[:, 0].std(), 4), "f1": round(v[:, 1].mean(), 4),
                   "f1_sd": round(v[:, 1].std(), 4), "train_s": round(v[:, 2].mean(), 2), "seeds": seeds}
            results.append(rec)
            print(f"{dim:>4} {bucket:>8} {name:8} {rec['auc']:.4f} ±{rec['auc_sd']:.4f} {rec['f1']:.4f} "
                  f"±{rec['f1_sd']:.4f} {rec['train_s']:>8.2f}", flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "classify_size.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
