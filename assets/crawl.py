"""Crawl stage asset: one batch -> `pages` (every fetch outcome or WARC record a row).

A batch comes from one of two sources, recorded in the `batches` table:
- a crawl of the recipe's sites (frontier-driven, incremental, resumable: goldpan.crawl.batch);
- an import of WARC/WET files (goldpan.warc), named by the run config or, on a rerun, by the
  batch's registry row.
"""

import time
from collections.abc import Callable

import dagster as dg
from pydantic import Field

from assets.common import counts_markdown, engine_for, materialize_result, metered, per_worker_metadata
from assets.partitions import crawl_batches
from assets.step_load import HEAVY_STEP
from goldpan.crawl import stage as crawl_stage
from goldpan.crawl.addresses import PrivateNotOptedIn
from goldpan.crawl.batch_table import WARC, batch_info
from goldpan.crawl.crawler import CrawlStats
from goldpan.engine import prestart_in_background
from goldpan.lake import WriteResult, batch_predicate
from goldpan.lake.schemas import PAGES
from goldpan.warc import stage as warc_stage
from goldpan.warc.importer import WarcStats
from goldpan.warc.inputs import WarcInputError
from resources import LakeResource, RecipeResource

CODE_VERSION = "crawl-v3"
PROGRESS_EVERY_S = 10.0


class PagesConfig(dg.Config):
    """Run config of `pages`. Empty for a scheduled crawl; the WARC sensor fills `warc_files`."""

    warc_files: list[str] = Field(default_factory=list, description="WARC/WET files (paths, globs or URIs) to "
                                  "import as this batch instead of crawling.")
    restart: bool = Field(False, description="Delete the batch's stored pages first and crawl it again from "
                          "scratch (default: resume, never refetching what is stored).")


@dg.asset(
    key="pages",
    op_tags=HEAVY_STEP,
    group_name="crawl",
    partitions_def=crawl_batches,
    code_version=CODE_VERSION,
    kinds={"delta", "http"},
    description="Bronze: one row per fetch attempt of the batch (kept, rejected with a reason such as "
    "http_404, robots_disallowed or unchanged, or errored) or per WARC/WET record, with status, headers, "
    "body bytes and timings. Crawls update `crawl_frontier`; every batch is recorded in `batches`.",
)
@metered(unit="pages")
def pages(
    context: dg.AssetExecutionContext, config: PagesConfig, lake: LakeResource, recipe: RecipeResource
) -> dg.MaterializeResult:
    batch = context.partition_key
    # `dagster job execute --partition NEW` does not register NEW, and Dagster refuses the
    # materialization only after the crawl wrote rows: register it before anything is written.
    if not context.instance.has_dynamic_partition(crawl_batches.name, batch):
        context.instance.add_dynamic_partitions(crawl_batches.name, [batch])
        context.log.info(f"registered new batch {batch}")
    lk, rc = lake.lake(), recipe.load()
    info = batch_info(lk, batch)
    files = config.warc_files or (info["sources"] if info and info["kind"] == WARC else [])
    if files:
        if _goes_on_to_documents(context):  # the run's pooled stages share one pool: start it meanwhile
            prestart_in_background(engine_for(rc))
        return _import(context, lake, lk, rc, batch, files, config.restart)
    return _crawl(context, lake, lk, rc, batch, config.restart)


def _goes_on_to_documents(context: dg.AssetExecutionContext) -> bool:
    """Whether this run also extracts the batch (not an import-only run such as `warc_import_job`)."""
    keys = context.run.asset_selection or context.job_def.asset_layer.selected_asset_keys
    return dg.AssetKey("documents") in keys


def _progress(context, what: str, line: Callable) -> Callable:
    """A progress callback that logs `line(stats)` at most every PROGRESS_EVERY_S seconds."""
    last = [time.monotonic()]

    def progress(stats) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            context.log.info(f"{what}: {line(stats)}")

    return progress


def _crawl(context, lake, lk, rc, batch, restart) -> dg.MaterializeResult:
    from goldpan.audit.takedowns import TakedownMatcher

    matcher = TakedownMatcher.from_lake(lk)
    try:
        result = crawl_stage.run(lk, rc.crawl, batch, recipe_id=rc.recipe_id, run_id=context.run.run_id,
                                 takedowns=matcher.match if matcher else None, restart=restart,
                                 progress=_progress(context, f"crawl {batch}", CrawlStats.progress_line),
                                 commit_metadata=lake.commit_metadata(context, CODE_VERSION))  # fmt: skip
    except PrivateNotOptedIn as exc:
        raise dg.Failure(str(exc)) from None
    stats = result.stats
    context.log.info(f"crawl {batch} done: {stats.as_dict()}")
    return _result(lk, batch, stats.fetched, {**_crawl_metadata(stats), "recipe_id": rc.recipe_id})


def _crawl_metadata(stats: CrawlStats) -> dict:
    return {
        "source": "crawl",
        "fetched": dg.MetadataValue.int(stats.fetched),
        "stored_pages": dg.MetadataValue.int(stats.stored),
        "requests": dg.MetadataValue.int(stats.requests),
        "rows_per_s": dg.MetadataValue.float(stats.rows_per_s),
        "elapsed_s": dg.MetadataValue.float(stats.elapsed_s),
        "sitemap_urls": dg.MetadataValue.int(stats.sitemap_urls),
        "new": dg.MetadataValue.int(stats.new),
        "unchanged": dg.MetadataValue.int(stats.unchanged),
        "failed": dg.MetadataValue.int(stats.errored),
        "robots_blocked": dg.MetadataValue.int(stats.robots_blocked),
        "takedown_skipped": dg.MetadataValue.int(stats.takedown_skipped),
        "resumed_rows": dg.MetadataValue.int(stats.resumed_rows),
        "skipped_out_of_scope": dg.MetadataValue.int(stats.skipped_out_of_scope),
        "frontier_left": dg.MetadataValue.int(stats.frontier_left),
        "outcomes": dg.MetadataValue.md(counts_markdown(
            {"kept": stats.kept, "rejected": stats.rejected, "errored": stats.errored})),
        "crawl_stats": dg.MetadataValue.json(stats.as_dict()),
    }  # fmt: skip


def _import(context, lake, lk, rc, batch, files, restart) -> dg.MaterializeResult:
    from goldpan.audit.takedowns import TakedownMatcher

    matcher = TakedownMatcher.from_lake(lk)
    line = lambda s: f"{s.records} records, {s.rows} rows, {s.bytes_read / 1e6:.1f} MB"
    try:
        out = warc_stage.run(lk, rc.warc, batch, files, recipe_id=rc.recipe_id, run_id=context.run.run_id,
                             takedowns=matcher.match if matcher else None, restart=restart,
                             progress=_progress(context, f"import {batch}", line),
                             commit_metadata=lake.commit_metadata(context, CODE_VERSION),
                             engine=engine_for(rc))  # fmt: skip
    except WarcInputError as exc:
        raise dg.Failure(f"batch {batch}: {exc}") from None
    context.log.info(f"import {batch} done: {out.stats.as_dict()}")
    engine = {"engine_kind": out.engine, "engine_workers": dg.MetadataValue.int(out.workers), "lake_io": out.lake_io,
              **per_worker_metadata(out.per_worker, unit="pages")}
    return _result(lk, batch, out.stats.rows, {**_import_metadata(out.uris, out.stats), "recipe_id": rc.recipe_id,
                                               **engine})


def _import_metadata(uris: list[str], stats: WarcStats) -> dict:
    return {
        "source": "warc",
        "files": dg.MetadataValue.json(uris),
        "fetched": dg.MetadataValue.int(stats.rows),
        "new": dg.MetadataValue.int(stats.kept),
        "failed": dg.MetadataValue.int(stats.errored),
        "records": dg.MetadataValue.int(stats.records),
        "outcomes": dg.MetadataValue.md(counts_markdown(
            {"kept": stats.kept, "rejected": stats.rejected, "errored": stats.errored})),
        # every record by WARC-Type, and those that are not pages (request, metadata, warcinfo, ...)
        "record_types": dg.MetadataValue.json(dict(sorted(stats.record_types.items()))),
        "not_pages": dg.MetadataValue.json(dict(sorted(stats.skipped_types.items()))),
        "formats": dg.MetadataValue.json(dict(sorted(stats.formats.items()))),
        "warc_stats": dg.MetadataValue.json(stats.as_dict()),
    }  # fmt: skip


def _result(lk, batch: str, rows: int, extra: dict) -> dg.MaterializeResult:
    lk.ensure("pages", PAGES, partition_by=["batch_id"])
    written = WriteResult(table="pages", uri=lk.uri("pages"), version=lk.version("pages"), rows=rows)
    return materialize_result(
        lk,
        written,
        PAGES,
        preview_columns=["url", "status", "reason", "http_status", "content_type", "content_bytes", "source"],
        where=batch_predicate("batch_id", batch),
        extra=extra,
    )
