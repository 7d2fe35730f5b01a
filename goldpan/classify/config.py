"""Recipe `classify` section → the plain dataclasses the classify library takes."""

from __future__ import annotations

from goldpan.classify.decide import KeepRule
from goldpan.classify.mining import MiningConfig
from goldpan.classify.model import FastTextParams
from goldpan.classify.quality import QualityTraining
from goldpan.classify.reference import ReferenceSource


def fasttext_params(section) -> FastTextParams:
    f = section.fasttext
    return FastTextParams(dim=f.dim, epoch=f.epoch, lr=f.lr, word_ngrams=f.word_ngrams, min_count=f.min_count,
                          bucket=f.bucket, max_chars=f.max_chars, seed=section.seed)


def sources(specs) -> list[ReferenceSource]:
    return [ReferenceSource(kind=s.kind, path=s.path, field=s.field, min_chars=s.min_chars) for s in specs]


def quality_training(section) -> QualityTraining:
    q = section.quality
    return QualityTraining(positives=sources(q.positives), params=fasttext_params(section),
                           max_positives=q.max_positives, negatives_per_positive=q.negatives_per_positive,
                           balance=q.balance, min_positives=q.min_positives, min_negatives=q.min_negatives,
                           heldout_fraction=q.heldout_fraction, eval_threshold=q.eval_threshold)


def mining_config(section) -> MiningConfig:
    d = section.domains
    return MiningConfig(params=fasttext_params(section), rounds=d.rounds, mine_threshold=d.mine_threshold,
                        heldout_fraction=d.heldout_fraction, eval_threshold=d.eval_threshold,
                        pool_negatives=d.pool_negatives, max_pool=d.max_pool,
                        max_mined_per_round=d.max_mined_per_round, min_new_share=d.min_new_share)


def keep_rule(section) -> KeepRule:
    k = section.quality.keep
    return KeepRule(mode=k.mode, top_fraction=k.top_fraction, threshold=k.threshold)
