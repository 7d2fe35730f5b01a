"""The classify stage's cross-batch entry points: train the quality classifier and mine the math and
code classifiers over the whole lake, and record every attempt (trained or refused) in `models`.

Both read every batch the caller's lake shows (the caller hides batches still in flight), so a model
is what a run of the batches one after the other would have trained.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from goldpan.classify.config import mining_config, quality_training, sources
from goldpan.classify.mining import LabelledSets, MiningPool, mine_domain
from goldpan.classify.quality import train_quality
from goldpan.classify.reference import load_reference
from goldpan.classify.registry import ModelRecord, record_models
from goldpan.lake import Lake
from goldpan.recipe import ClassifySection

DOMAINS = ("math", "code")


@dataclass(frozen=True)
class Trained:
    """The attempts of one training step and the `models` version that records them."""

    records: list[ModelRecord]
    models_version: int

    def final(self, name: str) -> ModelRecord | None:
        """The last trained model of `name` (None when every round was refused)."""
        trained = [r for r in self.records if r.name == name and r.status == "trained"]
        return trained[-1] if trained else None

    def rounds(self, name: str) -> int:
        return sum(1 for r in self.records if r.name == name and r.status == "trained")


def train_quality_model(lake: Lake, section: ClassifySection, recipe_id: str, run_id: str | None,
                        commit_metadata: Mapping[str, str] | None = None) -> Trained:
    """DCLM-style quality classifier: the recipe's reference text against negatives from the lake."""
    rec = train_quality(lake, quality_training(section))
    return Trained([rec], record_models(lake, [rec], recipe_id, run_id, dict(commit_metadata or {})))


def train_domain_models(lake: Lake, section: ClassifySection, recipe_id: str, run_id: str | None,
                        commit_metadata: Mapping[str, str] | None = None,
                        observe: Callable[[ModelRecord], None] | None = None) -> Trained:
    """DeepSeekMath-style math and code classifiers: seed models from the shipped references, then
    rounds of recall over the crawled pool; `observe` sees every round's record."""
    d, cfg = section.domains, mining_config(section)
    texts = {name: load_reference(sources(getattr(d, name)), lake) for name in (*DOMAINS, "general")}
    pool = MiningPool.sample(lake, cfg)  # once for both domains: one copy of the texts, preprocessed once

    def mine(name: str, other: str) -> list[ModelRecord]:
        sets = LabelledSets(positives=texts[name], others=texts[other], general=texts["general"])
        srcs = [s.describe() for s in sources(getattr(d, name))]
        return mine_domain(lake, name, sets, cfg, srcs, pool=pool)

    # Math and code are independent and fastText training releases the GIL: two threads halve the
    # step's wall time on two cores, with the same models (each training is single-threaded, seeded).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="domain-mining") as workers:
        futures = [workers.submit(mine, "math", "code"), workers.submit(mine, "code", "math")]
        records = [rec for f in futures for rec in f.result()]
    for rec in records:
        if observe is not None:
            observe(rec)
    return Trained(records, record_models(lake, records, recipe_id, run_id, dict(commit_metadata or {})))
