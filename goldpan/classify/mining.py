"""DeepSeekMath-style domain mining: a seed classifier, then rounds of recall over the pool.

Round r trains math-vs-rest (or code-vs-rest) on the seed positives plus every pool document an
earlier round scored at least `mine_threshold`, against labelled general text, the other domains'
seeds and a seeded sample of crawled documents (not already mined). Each round is evaluated on the
same held-out labelled set (seed positives vs general/other-domain text, never trained on), so the
rounds' precision/recall are comparable. Mining stops early when a round finds nothing new, or
fewer new documents than `min_new_share` of the positives it trained on: the next round would train
on nearly the same data (one more document among 166, measured on 6,000 documentation pages, where
it cost two more fastText trainings and two more passes over the pool, ~45 % of the step). DeepSeekMath
stopped its own collection the same way, when a round added little that the last had not found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from goldpan.classify.model import (
    FastTextParams,
    TrainingError,
    evaluate,
    line_probability,
    train_binary_lines,
)
from goldpan.classify.registry import ModelRecord, store_model
from goldpan.classify.sampling import sample_documents, split
from goldpan.classify.text import fasttext_line


@dataclass(frozen=True)
class MiningConfig:
    params: FastTextParams
    rounds: int = 3
    mine_threshold: float = 0.9
    heldout_fraction: float = 0.25
    eval_threshold: float = 0.5
    pool_negatives: int = 2000
    max_pool: int = 200_000
    max_mined_per_round: int = 50_000
    min_new_share: float = 0.02


@dataclass(frozen=True)
class LabelledSets:
    """Seed texts of the domain, of the other domains, and of general (neither) text."""

    positives: list[str]
    others: list[str]
    general: list[str]


@dataclass(frozen=True)
class MiningPool:
    """The crawled documents every domain mines from, with their fastText lines computed once.

    Why: each round of each domain scores the whole pool and trains on part of it; preprocessing the
    texts once (instead of per round and per domain) and sampling the pool once for all domains saves
    that CPU and keeps one copy of the texts in memory, not one per domain thread."""

    doc_ids: list[str]
    lines: list[str]

    @classmethod
    def sample(cls, lake, cfg: MiningConfig) -> MiningPool:
        pool = sample_documents(lake, cfg.max_pool, cfg.params.seed)
        return cls([d for d, _ in pool], [fasttext_line(t, cfg.params.max_chars) for _, t in pool])


def mine_domain(
    lake, name: str, sets: LabelledSets, cfg: MiningConfig, sources: list[str],
    on_round: Callable[[ModelRecord], None] | None = None, pool: MiningPool | None = None,
) -> list[ModelRecord]:
    """Run the rounds; returns one ModelRecord per round (the last trained one is the domain model).
    `pool`: the sampled pool when several domains share it (default: sampled here)."""
    seed = cfg.params.seed
    pos_train, pos_held = split(sets.positives, cfg.heldout_fraction, seed)
    rest = sets.general + sets.others
    neg_train, neg_held = split(rest, cfg.heldout_fraction, seed + 1)
    pool = pool if pool is not None else MiningPool.sample(lake, cfg)
    line = lambda t: fasttext_line(t, cfg.params.max_chars)
    pos_train_lines, neg_train_lines = [line(t) for t in pos_train], [line(t) for t in neg_train]
    config = {**cfg.params.as_dict(), "mine_threshold": cfg.mine_threshold, "pool": len(pool.doc_ids),
              "pool_negatives": cfg.pool_negatives, "heldout_fraction": cfg.heldout_fraction,
              "min_new_share": cfg.min_new_share}
    mined: dict[str, str] = {}  # doc_id -> its fastText line
    records: list[ModelRecord] = []
    for rnd in range(1, cfg.rounds + 1):
        pool_neg = [ln for d, ln in zip(pool.doc_ids, pool.lines, strict=True) if d not in mined][: cfg.pool_negatives]
        positives = pos_train_lines + list(mined.values())
        negatives = neg_train_lines + pool_neg
        t0 = time.perf_counter()
        try:
            model = train_binary_lines(positives, negatives, cfg.params)
        except TrainingError as exc:
            rec = ModelRecord(name=name, kind="domain", status="refused", reason=str(exc), round=rnd,
                              n_train_pos=len(positives), n_train_neg=len(negatives), config=config, sources=sources)
            records.append(rec)
            if on_round:
                on_round(rec)
            break
        seconds = time.perf_counter() - t0
        metrics = evaluate(model, pos_held, neg_held, cfg.eval_threshold, cfg.params.max_chars)
        sha1, path = store_model(lake, name, model)
        last = rnd == cfg.rounds
        # The last allowed round does not score the pool: nothing would train on what it mined, and the
        # pool is up to `max_pool` documents (one pass of fastText over all of them per domain).
        new = [] if last else _newly_mined(model, pool, mined, cfg)
        # The round's model is stored; drop it before the next round trains another, or every domain
        # thread holds two at once (~20 MB each at the default size, ~100 MB at DCLM's dim 100 x 200k buckets).
        del model
        # converged: nothing new, or too little to change the next round's training data
        converged = None if last else len(new) == 0 or len(new) < cfg.min_new_share * len(positives)
        rec = ModelRecord(name=name, kind="domain", status="trained", round=rnd, sha1=sha1, path=path,
                          n_train_pos=len(positives), n_train_neg=len(negatives), n_mined=len(mined),
                          metrics=metrics, train_seconds=seconds,
                          config={**config, "newly_mined": None if last else len(new), "converged": converged},
                          sources=sources)
        records.append(rec)
        if on_round:
            on_round(rec)
        if last or converged:
            break
        mined.update(new)
    return records


def _newly_mined(model, pool: MiningPool, mined: dict[str, str], cfg: MiningConfig) -> list[tuple[str, str]]:
    """(doc_id, fastText line) of the pool documents the model scores at least `mine_threshold` that no
    earlier round mined, most confident first (ties by doc_id), at most `max_mined_per_round`."""
    scores = line_probability(model, pool.lines)
    confident = sorted(
        ((float(s), d, t) for s, d, t in zip(scores, pool.doc_ids, pool.lines, strict=True)
         if s >= cfg.mine_threshold),
        key=lambda x: (-x[0], x[1]),
    )[: cfg.max_mined_per_round]
    return [(d, t) for _, d, t in confident if d not in mined]
