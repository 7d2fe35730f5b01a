"""Cross-validation of the line classifier within the TRAIN halves of the gold sets (never the report halves).

Why: the report halves may be looked at once per idea; choosing features, capacity, smoothing or
thresholds needs a score that does not touch them. The train half is split into k folds by a hash of
the page id (within every set); each fold is scored by a model fitted on the other folds, and the
out-of-fold kept texts are scored per set by the benchmark's own rules (bench/extract_gold.py).

It reads the feature cache written by scripts/train_extract_model.py (run that once first).

    .venv/bin/python bench/extract_cv.py [--folds 4] [--seeds 16,17] [--hidden 32] [--epochs 400]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import glob
import hashlib
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def load_cache(path: str | None = None):
    import extract_gold as eg

    if path is None:
        files = sorted(glob.glob(str(eg.DATA / "line_examples-*.pkl")), key=os.path.getmtime)
        if not files:
            raise SystemExit("no feature cache: run scripts/train_extract_model.py first")
        path = files[-1]
    examples, golds = pickle.loads(Path(path).read_bytes())
    return examples["train"], golds["train"]


def fold_of(page_id: str, k: int) -> int:
    return int(hashlib.sha1(("cv:" + page_id).encode()).hexdigest()[:8], 16) % k


def oof_probs(pages, golds, k: int, seed: int, fit=None, **kw) -> list[np.ndarray]:
    """Out-of-fold P(content) for every page of `pages` (a model per fold, fitted on the others)."""
    from goldpan.extract.line_training import train_from_pages

    fit = fit or (lambda ps, seed: train_from_pages(ps, seed=seed, **kw))
    folds = [fold_of(g.page_id, k) for g in golds]
    probs: list[np.ndarray | None] = [None] * len(pages)
    for f in range(k):
        model = fit([p for p, q in zip(pages, folds) if q != f], seed)
        for i, q in enumerate(folds):
            if q == f:
                probs[i] = model.predict(pages[i].x)
    return probs


def score_oof(pages, golds, probs, thresholds=(0.4, 0.45, 0.5, 0.55, 0.6), mask_fn=None) -> dict:
    import extract_gold as eg

    from goldpan.extract.learned import join_kept, kept_mask

    mask_fn = mask_fn or (lambda p, pr, t: kept_mask(p.lines, p.x, pr, t))
    out = {}
    for t in thresholds:
        row = {}
        for s in ("aeb", "trafilatura", "docs"):
            idx = [i for i, p in enumerate(pages) if p.set_name == s]
            texts = [join_kept(pages[i].lines, pages[i].blank_before, mask_fn(pages[i], probs[i], t)) for i in idx]
            row[s] = {k: round(v, 4) for k, v in eg.score(s, texts, [golds[i] for i in idx]).items()}
        out[t] = row
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--seeds", default="16")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--neg-weight", type=float, default=1.0)
    ap.add_argument("--ensemble", type=int, default=1, help="networks per model (seeds seed..seed+k-1)")
    ap.add_argument("--save", help="pickle the out-of-fold probabilities here")
    ap.add_argument("--cache", help="feature cache (default: the newest bench/data/line_examples-*.pkl)")
    args = ap.parse_args()
    pages, golds = load_cache(args.cache)
    print(f"{len(pages)} train pages, {pages[0].x.shape[1]} features")
    for seed in [int(s) for s in args.seeds.split(",")]:
        t0 = time.time()
        probs = oof_probs(pages, golds, args.folds, seed, hidden=args.hidden, epochs=args.epochs, l2=args.l2,
                          neg_weight=args.neg_weight, ensemble=args.ensemble)
        res = score_oof(pages, golds, probs)
        print(f"seed {seed} ({time.time() - t0:.0f} s)")
        for t, row in res.items():
            print(f"  t={t:<5} " + "  ".join(f"{s} F1 {r['f1']:.4f} P {r['precision']:.4f} R {r['recall']:.4f}"
                                          for s, r in row.items()), flush=True)
        if args.save:
            Path(f"{args.save}.{seed}").write_bytes(pickle.dumps(probs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
