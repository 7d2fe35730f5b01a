"""Dedup stage asset: URL, exact, MinHash near-duplicate and paragraph dedup of a batch, against every
earlier batch through the Delta index (`dedup_index`, `dedup_paragraphs`).

Thin wiring: the decisions are `goldpan.dedup.clusters.BatchDeduplicator`; the index reads and
writes are `goldpan.dedup.store`. Only index rows sharing a key with the new batch are read back, so
the cost of a batch grows with the batch, and a re-run (which sees only earlier batches) gives the
same clusters.
"""


import dagster as dg

from assets.common import counts_markdown, engine_for, materialize_result, perf_metadata
from assets.ordering import OrderingResource, wait_for_earlier_batches
from assets.partitions import crawl_batches
from assets.step_load import HEAVY_STEP
from goldpan.dedup import stage as dedup_stage
from goldpan.dedup.report import summary_markdown
from goldpan.lake import batch_predicate
from goldpan.lake.schemas import DEDUP_CLUSTERS
from resources import LakeResource, RecipeResource

CODE_VERSION = "dedup-v4"  # v4: per-script shingles, OPH signatures, verified clusters, dedup_merges


@dg.asset(
    key="dedup_clusters",
    op_tags=HEAVY_STEP,
    group_name="dedup",
    partitions_def=crawl_batches,
    deps=["documents"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per document kept by extract: canonical URL, normalised-text SHA-1, MinHash "
    "signature and band keys, cluster id/size/representative, and the decision (url_duplicate, "
    "exact_duplicate, near_duplicate, paragraph-dedup rejections). `dedup_text` holds the text after "
    "paragraph dedup when paragraphs were removed. Also appends the batch to `dedup_index` and "
    "`dedup_paragraphs`; changes to earlier clusters (merges, new representatives) go to `dedup_merges`.",
)
def dedup_clusters(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "dedup_clusters", ordering)
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    run = dedup_stage.run(lk, rc.dedup, batch, engine=engine_for(rc), batch_rows=rc.engine.batch_rows,
                          commit_metadata=lake.commit_metadata(context, CODE_VERSION))
    return materialize_result(
        lk,
        run.written,
        DEDUP_CLUSTERS,
        preview_columns=["doc_id", "url", "status", "rule", "duplicate_of", "similarity", "cluster_size"],
        where=f"{batch_predicate('batch_id', batch)} AND status <> 'kept'",
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(run.outcomes)),
            "clusters": dg.MetadataValue.md(summary_markdown(lk, batch)),
            "paragraphs_removed": dg.MetadataValue.int(run.extra["paragraphs_removed"]),
            "prior_rows_read": dg.MetadataValue.json(run.extra["prior_rows_read"]),
            "match_stats": dg.MetadataValue.json(run.extra["stats"]),
            "minhash_config": run.extra["config_id"],
            "cluster_merges": dg.MetadataValue.int(run.extra["cluster_merges"]),
            "phase_seconds": dg.MetadataValue.json(run.extra["seconds"]),
            **{k: dg.MetadataValue.int(v) for k, v in run.extra["index"].items()},
            **perf_metadata(run),
        },
    )
