"""Classify stage assets: fastText models trained in the lake, per-batch scores, and the keep decision.

`quality_model` and `domain_models` train across all batches (negatives and the mining pool are the
whole lake); `doc_scores` scores one batch with the latest models; `quality_decisions` applies the
recipe's keep rule to stored scores (a threshold change re-runs only this cheap step).
"""

import json

import dagster as dg

from assets.common import counts_markdown, engine_for, materialize_result, metered, perf_metadata
from assets.ordering import OrderingResource, batches_in_flight, wait_for_earlier_batches
from assets.partitions import crawl_batches
from assets.step_load import HEAVY_STEP, LIGHT_STEP
from goldpan.classify import stage as classify_stage
from goldpan.classify import training
from goldpan.lake import batch_predicate
from goldpan.lake.schemas import DOC_SCORES, REJECTIONS
from resources import LakeResource, RecipeResource

QUALITY_CODE_VERSION = "quality_model-v1"
DOMAIN_CODE_VERSION = "domain_models-v2"  # v2: mining stops when a round adds < min_new_share
SCORES_CODE_VERSION = "doc_scores-v2"  # v2: carries the perplexity step's values
DECISIONS_CODE_VERSION = "quality_decisions-v2"


def _record_md(recs) -> str:
    lines = ["| model | round | status | train pos/neg | mined | precision | recall | F1 | sha1 |", "|" + "---|" * 9]
    for r in recs:
        m = r.metrics
        fmt = lambda v: "" if v is None else f"{v:.3f}"
        lines.append(f"| {r.name} | {r.round} | {r.status} | {r.n_train_pos}/{r.n_train_neg} | {r.n_mined} | "
                     f"{fmt(m.precision if m else None)} | {fmt(m.recall if m else None)} | "
                     f"{fmt(m.f1 if m else None)} | {(r.sha1 or r.reason or '')[:80]} |")
    return "\n".join(lines)


@dg.asset(
    key="quality_model",
    op_tags=HEAVY_STEP,
    group_name="classify",
    deps=["documents", "dedup_clusters"],
    code_version=QUALITY_CODE_VERSION,
    kinds={"fasttext", "delta"},
    description="DCLM-style fastText quality classifier: the recipe's reference text against seeded "
    "negatives sampled from every crawled document; file in <lake>/models/quality/<sha1>.bin, "
    "attempt (or refusal) in the `models` table with held-out precision/recall.",
)
@metered
def quality_model(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "quality_model", ordering)
    # Train on what a run of the batches one after the other would see: not later or unfinished batches.
    lk, rc = lake.lake().excluding(batches_in_flight(context, needs="dedup_clusters")), recipe.load()
    if not rc.classify.quality.enabled:
        return dg.MaterializeResult(metadata={"status": "disabled"}, data_version=dg.DataVersion("disabled"))
    out = training.train_quality_model(lk, rc.classify, rc.recipe_id, context.run.run_id,
                                       lake.commit_metadata(context, QUALITY_CODE_VERSION))
    rec = out.records[0]
    if rec.status != "trained":
        context.log.warning(f"quality model not trained: {rec.reason}")
    meta = {**_quality_metadata(rec), "models_delta_version": out.models_version, "recipe_id": rc.recipe_id}
    return dg.MaterializeResult(metadata=meta, data_version=dg.DataVersion(rec.sha1 or f"refused@{out.models_version}"))


def _quality_metadata(rec) -> dict:
    m = rec.metrics
    return {
        "status": rec.status,
        "reason": rec.reason or "",
        "model_sha1": rec.sha1 or "",
        "model_path": dg.MetadataValue.path(rec.path or ""),
        "n_train_pos": rec.n_train_pos,
        "n_train_neg": rec.n_train_neg,
        "heldout_precision": dg.MetadataValue.float(m.precision if m else float("nan")),
        "heldout_recall": dg.MetadataValue.float(m.recall if m else float("nan")),
        "heldout_f1": dg.MetadataValue.float(m.f1 if m else float("nan")),
        "heldout": dg.MetadataValue.json(m.as_dict() if m else {}),
        "train_seconds": dg.MetadataValue.float(round(rec.train_seconds, 3)),
        "config": dg.MetadataValue.json(rec.config),
        "positive_sources": dg.MetadataValue.json(rec.sources),
    }


@dg.asset(
    key="domain_models",
    op_tags=HEAVY_STEP,
    group_name="classify",
    deps=["documents", "dedup_clusters"],
    code_version=DOMAIN_CODE_VERSION,
    kinds={"fasttext", "delta"},
    description="DeepSeekMath-style math and code classifiers: trained from shipped seeds, then rounds of "
    "recall over the crawled pool (confident documents join the positives, retrain). Each round is an "
    "AssetObservation with its held-out precision/recall and a `models` row.",
)
@metered
def domain_models(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "domain_models", ordering)
    # Train on what a run of the batches one after the other would see: not later or unfinished batches.
    lk, rc = lake.lake().excluding(batches_in_flight(context, needs="dedup_clusters")), recipe.load()
    if not rc.classify.domains.enabled:
        return dg.MaterializeResult(metadata={"status": "disabled"}, data_version=dg.DataVersion("disabled"))
    out = training.train_domain_models(lk, rc.classify, rc.recipe_id, context.run.run_id,
                                       lake.commit_metadata(context, DOMAIN_CODE_VERSION),
                                       observe=lambda rec: _observe_round(context, rec))
    final = {n: out.final(n) for n in training.DOMAINS}
    return dg.MaterializeResult(
        metadata={
            "rounds": dg.MetadataValue.md(_record_md(out.records)),
            **{f"{n}_model_sha1": (final[n].sha1 if final[n] else "") for n in training.DOMAINS},
            **{f"{n}_rounds": out.rounds(n) for n in training.DOMAINS},
            "models_delta_version": out.models_version,
            "recipe_id": rc.recipe_id,
        },
        data_version=dg.DataVersion("+".join((f.sha1 or "") if f else "none" for f in final.values())),
    )


def _observe_round(context: dg.AssetExecutionContext, rec) -> None:
    """One mining round as a log line and an AssetObservation (its held-out precision/recall)."""
    context.log.info(f"{rec.name} round {rec.round}: {rec.status} "
                     f"{json.dumps(rec.metrics.as_dict()) if rec.metrics else rec.reason}")
    context.log_event(dg.AssetObservation(
        asset_key="domain_models",
        metadata={"model": rec.name, "round": rec.round, "status": rec.status,
                  "train_pos": rec.n_train_pos, "train_neg": rec.n_train_neg, "mined_before_round": rec.n_mined,
                  # null in the last allowed round: it does not score the pool (goldpan.classify.mining)
                  "newly_mined": rec.config.get("newly_mined", 0),
                  "heldout": dg.MetadataValue.json(rec.metrics.as_dict() if rec.metrics else {}),
                  "sha1": rec.sha1 or "", "reason": rec.reason or ""},
    ))


@dg.asset(
    key="doc_scores",
    op_tags=HEAVY_STEP,
    group_name="classify",
    partitions_def=crawl_batches,
    # doc_perplexity: the recipe's perplexity step (opt-in) scores before this asset, which copies its
    # values into doc_scores (its one writer) for the sweep and mix.max_perplexity.
    deps=["doc_signals", "quality_model", "domain_models", "doc_perplexity"],
    code_version=SCORES_CODE_VERSION,
    kinds={"delta", "fasttext"},
    description="One row per document with computed signals: P(high quality), math and code scores, the "
    "domain label, the perplexity when the recipe scores it, and the sha1 of each model that produced them "
    "(signals only; no decision).",
)
def doc_scores(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    # The models this run trained (quality_model, domain_models) when it trained them: not a model a
    # concurrent run of a later batch trained meanwhile on both batches.
    run = classify_stage.run(lk, rc.classify, batch, engine=engine_for(rc), batch_rows=rc.engine.batch_rows * 4,
                             commit_metadata=lake.commit_metadata(context, SCORES_CODE_VERSION),
                             run_id=context.run.run_id)
    return materialize_result(
        lk, run.written, DOC_SCORES,
        preview_columns=["doc_id", "quality_score", "math_score", "code_score", "domain"],
        where=batch_predicate("batch_id", batch),
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(run.outcomes)),
            "domains": dg.MetadataValue.json(run.extra["domains"]),
            "quality_model": run.extra["quality_model"],
            "domain_model": run.extra["domain_model"],
            **perf_metadata(run),
        },
    )


@dg.asset(
    key="quality_decisions",
    op_tags=LIGHT_STEP,
    group_name="classify",
    partitions_def=crawl_batches,
    deps=["doc_scores", "rejections"],
    code_version=DECISIONS_CODE_VERSION,
    kinds={"delta", "duckdb"},
    description="The recipe's keep rule (threshold or per-batch top fraction) over stored quality scores of "
    "the documents that passed the filter: one row (stage 'classify', the `rejections` columns) per "
    "document below it.",
)
@metered
def quality_decisions(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    written, summary = classify_stage.decide(lk, rc.classify, batch, rc.recipe_id,
                                             lake.commit_metadata(context, DECISIONS_CODE_VERSION))
    return materialize_result(
        lk, written, REJECTIONS,
        preview_columns=["doc_id", "rule", "value", "op", "threshold"],
        where=batch_predicate("batch_id", batch),
        extra={"decision": dg.MetadataValue.json(summary), "recipe_id": rc.recipe_id},
    )
