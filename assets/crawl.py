"""Crawl stage asset: one crawl batch of the recipe's sites -> `pages` (every fetch outcome a row)."""


from collections import Counter

import dagster as dg

from assets.common import counts_markdown, materialize_result
from assets.partitions import crawl_batches
from goldpan.crawl.crawler import CrawlConfig, CrawlStats, crawl_batch
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import PAGES
from resources import LakeResource, RecipeResource

CODE_VERSION = "crawl-v1"


@dg.asset(
    key="pages",
    group_name="crawl",
    partitions_def=crawl_batches,
    code_version=CODE_VERSION,
    kinds={"delta", "http"},
    description="Bronze: one row per fetch attempt of the batch (kept, rejected with a reason such as "
    "http_404 or robots_disallowed, or errored), with status, headers, body bytes and timings.",
)
def pages(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    config = CrawlConfig.from_dict(rc.crawl.model_dump())
    stats = CrawlStats()
    source = f"crawl:{rc.name}"

    def progress(s: CrawlStats, row: dict) -> None:
        if s.fetched % 50 == 0:
            context.log.info(f"crawl {batch}: {s.fetched} fetched, {s.kept} kept, {s.rejected} rejected, {s.errored} errors")

    rows = crawl_batch(config, batch, source, progress=progress, stats=stats)
    written = lk.write(
        "pages",
        rows_to_batches(rows, PAGES, 64),
        PAGES,
        predicate=batch_predicate("batch_id", batch),
        partition_by=["batch_id"],
        commit_metadata=lake.commit_metadata(context, CODE_VERSION),
    )
    context.log.info(f"crawl {batch} done: {stats.as_dict()}")
    outcomes = Counter({"kept": stats.kept, "rejected": stats.rejected, "errored": stats.errored})
    return materialize_result(
        lk,
        written,
        PAGES,
        preview_columns=["url", "status", "reason", "http_status", "content_type", "content_bytes"],
        where=batch_predicate("batch_id", batch),
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "crawl_stats": dg.MetadataValue.json(stats.as_dict()),
            "robots_blocked": dg.MetadataValue.int(stats.robots_blocked),
            "skipped_out_of_scope": dg.MetadataValue.int(stats.skipped_out_of_scope),
            "recipe_id": rc.recipe_id,
        },
    )
