"""DCLM-style quality classifier: reference text (positives) against crawled documents (negatives).

The trainer refuses honestly when the lake holds too few documents to sample negatives from (or the
reference set is too small): a classifier trained on a handful of pages would score noise, and the
refusal is recorded in `models` with its reason so nothing downstream mistakes it for a model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from goldpan.classify.model import FastTextParams, TrainingError, evaluate, train_binary
from goldpan.classify.reference import ReferenceSource, load_reference
from goldpan.classify.registry import ModelRecord, store_model
from goldpan.classify.sampling import sample_documents, split, subsample


@dataclass(frozen=True)
class QualityTraining:
    """What one training needs; built from the recipe's `classify` section by the asset."""

    positives: list[ReferenceSource]
    params: FastTextParams
    max_positives: int = 200_000
    negatives_per_positive: float = 1.0
    balance: bool = True
    min_positives: int = 100
    min_negatives: int = 100
    heldout_fraction: float = 0.2
    eval_threshold: float = 0.5


def train_quality(lake, cfg: QualityTraining, name: str = "quality") -> ModelRecord:
    """Train, evaluate on a held-out split of both classes, and store the model in the lake."""
    seed = cfg.params.seed
    sources = [s.describe() for s in cfg.positives]
    config = {**cfg.params.as_dict(), "negatives_per_positive": cfg.negatives_per_positive,
              "balance": cfg.balance, "heldout_fraction": cfg.heldout_fraction}
    positives = load_reference(cfg.positives, lake, limit=cfg.max_positives)
    want_neg = max(1, math.ceil(len(positives) * cfg.negatives_per_positive))
    negatives = [t for _, t in sample_documents(lake, want_neg, seed)]

    def refused(reason: str) -> ModelRecord:
        return ModelRecord(name=name, kind="quality", status="refused", reason=reason,
                           n_train_pos=len(positives), n_train_neg=len(negatives), config=config, sources=sources)

    if len(positives) < cfg.min_positives:
        return refused(f"only {len(positives)} reference texts (min_positives={cfg.min_positives})")
    if len(negatives) < cfg.min_negatives:
        return refused(f"only {len(negatives)} crawled documents to sample negatives from "
                       f"(min_negatives={cfg.min_negatives}); crawl more or lower classify.quality.min_negatives")
    if cfg.balance:
        n = min(len(positives), len(negatives))
        positives, negatives = subsample(positives, n, seed), subsample(negatives, n, seed + 1)
    pos_train, pos_held = split(positives, cfg.heldout_fraction, seed)
    neg_train, neg_held = split(negatives, cfg.heldout_fraction, seed + 1)
    t0 = time.perf_counter()
    try:
        model = train_binary(pos_train, neg_train, cfg.params)
    except TrainingError as exc:
        return refused(str(exc))
    seconds = time.perf_counter() - t0
    metrics = evaluate(model, pos_held, neg_held, cfg.eval_threshold, cfg.params.max_chars)
    sha1, path = store_model(lake, name, model)
    return ModelRecord(name=name, kind="quality", status="trained", sha1=sha1, path=path,
                       n_train_pos=len(pos_train), n_train_neg=len(neg_train), metrics=metrics,
                       train_seconds=seconds, config=config, sources=sources)
