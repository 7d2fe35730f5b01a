"""Filter stage assets: signals computed once (`doc_signals`), decisions as data (`rejections`).

Signals and decisions are separate assets on purpose (dolma's taggers vs mixer): changing a
threshold in the recipe re-materializes `rejections` only, never the signal computation.
"""


from collections import Counter

import dagster as dg

from assets.common import counts_markdown, engine_for, materialize_result, metered, perf_metadata
from assets.partitions import crawl_batches
from assets.step_load import HEAVY_STEP, LIGHT_STEP
from goldpan.filter import stage as filter_stage
from goldpan.filter.rules import RuleSet, decide_batch, ruleset_from_section
from goldpan.filter.signals import SIGNALS_VERSION, signals_schema
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import REJECTIONS
from resources import LakeResource, RecipeResource

SIGNALS_CODE_VERSION = f"doc_signals-{SIGNALS_VERSION}"
DECISIONS_CODE_VERSION = "rejections-v2"


@dg.asset(
    key="doc_signals",
    op_tags=HEAVY_STEP,
    group_name="filter",
    partitions_def=crawl_batches,
    deps=["dedup_clusters"],
    code_version=SIGNALS_CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per document kept by dedup: Gopher quality and repetition, C4 and FineWeb statistics "
    "and PII counts, computed in one pass from the stored text (words for English, characters for Chinese).",
)
def doc_signals(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    schema = signals_schema()
    run = filter_stage.run(lk, batch, engine=engine_for(rc), batch_rows=rc.engine.batch_rows,
                           commit_metadata=lake.commit_metadata(context, SIGNALS_CODE_VERSION))
    return materialize_result(
        lk,
        run.written,
        schema,
        preview_columns=[c for c in ["doc_id", "lang", "status", "n_words", "mean_word_length", "alpha_words_ratio",
                                     "stop_words_count", "dup_line_frac", "c4_sentences", "fw_line_punct_ratio",
                                     "pii_email", "pii_phone"] if c in schema.names],
        where=batch_predicate("batch_id", batch),
        extra={"outcomes": dg.MetadataValue.md(counts_markdown(run.outcomes)), "signals_version": SIGNALS_VERSION,
               **perf_metadata(run)},
    )


def ruleset_for(recipe) -> RuleSet:
    return ruleset_from_section(recipe.filter)


@dg.asset(
    key="rejections",
    op_tags=LIGHT_STEP,
    group_name="filter",
    partitions_def=crawl_batches,
    deps=["doc_signals"],
    code_version=DECISIONS_CODE_VERSION,
    kinds={"delta", "duckdb"},
    description="One row per (document, failed rule) of the filter stage, with the signal value and the "
    "recipe threshold; a document with no row here passed every rule.",
)
@metered
def rejections(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    rules = ruleset_for(rc)
    signals = lk.iter_rows(
        "SELECT * FROM doc_signals WHERE batch_id = ? AND status = 'kept' ORDER BY doc_id",
        [batch],
        tables=["doc_signals"],
        batch_size=1024,
    )
    by_rule: Counter[str] = Counter()
    docs: set[str] = set()

    def counted(rows):
        for r in rows:
            by_rule[r["rule"]] += 1
            docs.add(r["doc_id"])
            yield r

    predicate = f"{batch_predicate('batch_id', batch)} AND {batch_predicate('stage', 'filter')}"
    written = lk.write(
        "rejections",
        rows_to_batches(counted(decide_batch(signals, rules, rc.recipe_id, stage="filter")), REJECTIONS),
        REJECTIONS,
        predicate=predicate,
        partition_by=["batch_id"],
        commit_metadata=lake.commit_metadata(context, DECISIONS_CODE_VERSION),
    )
    return materialize_result(
        lk,
        written,
        REJECTIONS,
        preview_columns=["doc_id", "rule", "value", "op", "threshold"],
        where=predicate,
        extra={
            "documents_rejected": dg.MetadataValue.int(len(docs)),
            "rejections_by_rule": dg.MetadataValue.md(counts_markdown(dict(by_rule.most_common()))),
            "recipe_id": rc.recipe_id,
        },
    )
