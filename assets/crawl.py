"""Crawl stage asset: one batch -> `pages` (every fetch outcome or WARC record a row).

A batch comes from one of two sources, recorded in the `batches` table:
- a crawl of the recipe's sites (frontier-driven, incremental, resumable: goldpan.crawl.batch);
- an import of WARC/WET files (goldpan.warc), named by the run config or, on a rerun, by the
  batch's registry row.
"""

import time
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from assets.common import counts_markdown, materialize_result, metered
from assets.partitions import crawl_batches
from goldpan.crawl import settings
from goldpan.crawl.addresses import PrivateNotOptedIn
from goldpan.crawl.batch import run_crawl
from goldpan.crawl.batch_table import CRAWL, WARC, batch_info, record_batch
from goldpan.crawl.crawler import CrawlStats
from goldpan.lake import WriteResult, batch_predicate
from goldpan.lake.schemas import PAGES
from goldpan.warc.importer import WarcImportConfig, WarcStats, import_warc_batch
from goldpan.warc.inputs import WarcInputError, check_sources
from goldpan.warc.sources import expand_sources
from resources import LakeResource, RecipeResource

CODE_VERSION = "crawl-v3"
PROGRESS_EVERY_S = 10.0
CRAWL_SOURCE = "crawl"  # pages.source of crawled rows (WARC/WET imports: "warc" / "wet"); the recipe is in `batches`


class PagesConfig(dg.Config):
    """Run config of `pages`. Empty for a scheduled crawl; the WARC sensor fills `warc_files`."""

    warc_files: list[str] = Field(default_factory=list, description="WARC/WET files (paths, globs or URIs) to "
                                  "import as this batch instead of crawling.")
    restart: bool = Field(False, description="Delete the batch's stored pages first and crawl it again from "
                          "scratch (default: resume, never refetching what is stored).")


@dg.asset(
    key="pages",
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
        return _import(context, lake, lk, rc, batch, files, config.restart)
    return _crawl(context, lake, lk, rc, batch, config.restart)


def _crawl(context, lake, lk, rc, batch, restart) -> dg.MaterializeResult:
    from goldpan.audit.takedowns import TakedownMatcher

    cfg = rc.crawl
    settings.check(cfg)  # before the batch is recorded: nothing is written on refusal
    try:
        settings.check_private_opt_in(cfg)
    except PrivateNotOptedIn as exc:
        raise dg.Failure(str(exc)) from None
    matcher = TakedownMatcher.from_lake(lk)
    run_id, started = context.run.run_id, datetime.now(UTC)
    record_batch(lk, batch, kind=CRAWL, sources=settings.normalized_seeds(cfg), recipe_id=rc.recipe_id,
                 state="running", run_id=run_id, started_at=started)  # fmt: skip
    last = [time.monotonic()]

    def progress(s: CrawlStats) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            context.log.info(f"crawl {batch}: {s.progress_line()}")

    result = run_crawl(lk, cfg, batch, CRAWL_SOURCE, takedowns=matcher.match if matcher else None,
                       progress=progress, commit_metadata=lake.commit_metadata(context, CODE_VERSION),
                       restart=restart)  # fmt: skip
    stats = result.stats
    record_batch(lk, batch, kind=CRAWL, sources=settings.normalized_seeds(cfg), recipe_id=rc.recipe_id, state="done",
                 stats=stats.as_dict(), run_id=run_id, started_at=started)  # fmt: skip
    context.log.info(f"crawl {batch} done: {stats.as_dict()}")
    return _result(lk, batch, stats.fetched, {
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
        "recipe_id": rc.recipe_id,
    })  # fmt: skip


def _import(context, lake, lk, rc, batch, files, restart) -> dg.MaterializeResult:
    from goldpan.audit.takedowns import TakedownMatcher

    storage = dict(rc.warc.storage_options) or lk.storage_options or {}
    uris = expand_sources(files, storage)
    if not uris:
        raise dg.Failure(f"batch {batch}: no WARC/WET file matches {files}")
    try:
        check_sources(uris, storage)  # before the batch is recorded: a refusal writes nothing
    except WarcInputError as exc:
        raise dg.Failure(f"batch {batch}: {exc}") from None
    run_id, started = context.run.run_id, datetime.now(UTC)
    record_batch(lk, batch, kind=WARC, sources=uris, recipe_id=rc.recipe_id, state="running", run_id=run_id,
                 started_at=started)  # fmt: skip
    cfg = WarcImportConfig(max_bytes=rc.warc.max_bytes, verify_digests=rc.warc.verify_digests,
                           digest=rc.warc.digest, allowed_content_types=tuple(rc.warc.allowed_content_types),
                           storage_options=storage, chunk_rows=rc.warc.chunk_rows,
                           parquet_compression=rc.warc.parquet_compression,
                           parquet_compression_level=rc.warc.parquet_compression_level)  # fmt: skip
    last = [time.monotonic()]

    def progress(s: WarcStats) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            context.log.info(f"import {batch}: {s.records} records, {s.rows} rows, {s.bytes_read / 1e6:.1f} MB")

    matcher = TakedownMatcher.from_lake(lk)
    stats = import_warc_batch(lk, uris, batch, cfg, takedowns=matcher.match if matcher else None,
                              progress=progress, commit_metadata=lake.commit_metadata(context, CODE_VERSION),
                              restart=restart)  # fmt: skip
    record_batch(lk, batch, kind=WARC, sources=uris, recipe_id=rc.recipe_id, state="done", stats=stats.as_dict(),
                 run_id=run_id, started_at=started)  # fmt: skip
    context.log.info(f"import {batch} done: {stats.as_dict()}")
    return _result(lk, batch, stats.rows, {
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
        "recipe_id": rc.recipe_id,
    })  # fmt: skip


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
