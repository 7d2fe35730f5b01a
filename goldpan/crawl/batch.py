"""One crawl batch into the lake: frontier in, `pages` chunks and frontier updates out, resumable.

The order of writes is what makes a killed crawl resumable without refetching:

1. every `chunk_rows` rows (a row without a body counts 1/8), or `chunk_bytes` of bodies, or `chunk_seconds`, the chunk is *appended* to `pages` (one Delta
   commit, atomic), on a committer thread (goldpan.crawl.committer) so fetching goes on meanwhile; the frontier updates are merged into `crawl_frontier` in large batches
   (every `frontier_merge_rows` pages rows, when 10x that many frontier changes wait, and at
   the end), because a merge costs far more than an append;
2. a rerun of the same batch first reads what the batch already stored: those URLs are "done"
   (never requested again) and count toward `max_pages`; rows whose frontier merge was lost
   (killed between 1's two commits) are replayed into the frontier, links included;
3. the frontier then yields only URLs not yet decided by this batch.

A finished batch rerun is therefore a no-op that reports the same counts, and `restart=True`
deletes the batch's rows first for a genuine recrawl of it. A terminate (SIGTERM, a Dagster
run termination) raised while crawling appends the rows already fetched, then propagates:
the crawler's workers are daemon threads, so nothing waits for a busy worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from goldpan.crawl import policy_files, settings
from goldpan.crawl.committer import Committer
from goldpan.crawl.crawler import BatchCrawler, CrawlStats
from goldpan.crawl.fetcher import UNCHANGED
from goldpan.crawl.frontier import TABLE as FRONTIER
from goldpan.crawl.frontier import FrontierEntry, FrontierStore
from goldpan.crawl.urls import host_of
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import KEPT, PAGES
from goldpan.recipe import CrawlSection

log = logging.getLogger(__name__)

ProgressFn = Callable[[CrawlStats], None]
COMPACT_AFTER_CHUNKS = 8
# A row without a body (304, 404, redirect, robots refusal) counts as this fraction of a row toward
# `chunk_rows`: it is small, and cheap to redo after a kill, while every commit has a fixed cost and
# more than COMPACT_AFTER_CHUNKS commits cost a compaction (seconds): a recrawl answered by 304s
# made 28 commits and a compaction for 7,000 rows, with this 4.
BODYLESS_ROW_WEIGHT = 0.125
STOP_COMMIT_TIMEOUT_S = 7.0  # a terminate must end the run within 10 s


@dataclass
class CrawlRunResult:
    stats: CrawlStats
    pages_version: int | None
    chunks: int
    frontier_rows: int


def _batch_has_pages(lake, batch_id: str) -> bool:
    """Whether `pages` holds files of `batch_id`, from the Delta log alone (a new batch then
    skips two DuckDB scans of the table: seconds on a recrawl of a small site)."""
    dt = lake.table("pages")
    if dt is None:
        return False
    try:
        return bool(dt.file_uris(file_pruning_predicate=[("batch_id", "=", batch_id)]))
    except Exception:  # noqa: BLE001 - an unpartitioned or odd table: scan to be sure
        return True


def _stored_rows(lake, batch_id: str):
    if not _batch_has_pages(lake, batch_id):
        return iter(())
    return lake.iter_rows(
        "SELECT page_id, url, final_url, status, reason, content_bytes FROM pages WHERE batch_id = ?",
        [batch_id], tables=["pages"], batch_size=4096,
    )  # fmt: skip


def _unmerged_rows(lake, batch_id: str):
    """Stored rows of the batch whose frontier update never landed (killed between commits)."""
    if not lake.exists(FRONTIER) or not _batch_has_pages(lake, batch_id):
        return iter(())
    return lake.iter_rows(
        "SELECT p.*, f.depth AS f_depth, f.seq AS f_seq, f.etag AS f_etag, f.last_modified AS f_last_modified, "
        "f.content_sha1 AS f_content_sha1, f.failure_count AS f_failure_count, f.fetch_count AS f_fetch_count, "
        "f.first_seen_at AS f_first_seen_at, f.last_fetched_at AS f_last_fetched_at, f.url IS NOT NULL AS f_known "
        f"FROM pages p LEFT JOIN {FRONTIER} f ON f.url = p.url "
        "WHERE p.batch_id = ? AND f.last_page_id IS DISTINCT FROM p.page_id "
        # a later batch's newer state of the URL must not be overwritten by an old resumed one
        "AND (f.last_batch_id IS NULL OR f.last_batch_id <= p.batch_id) ORDER BY p.fetched_at",
        [batch_id], tables=["pages", FRONTIER], batch_size=256,
    )  # fmt: skip


def run_crawl(
    lake,
    config: CrawlSection,
    batch_id: str,
    source: str,
    *,
    takedowns: Callable[[str], str | None] | None = None,
    progress: ProgressFn | None = None,
    commit_metadata: dict[str, str] | None = None,
    restart: bool = False,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CrawlRunResult:
    """Crawl `batch_id` into `lake` (tables `pages` and `crawl_frontier`); resumes by default."""
    batch_predicate("batch_id", batch_id)  # refuse an unsafe id before touching anything
    now = now or datetime.now(UTC)
    store = FrontierStore(lake)
    if restart and lake.exists("pages"):
        lake.table("pages").delete(batch_predicate("batch_id", batch_id))

    stats = CrawlStats()
    done: set[str] = set()
    for r in _stored_rows(lake, batch_id):
        BatchCrawler.stats_for_row(stats, r)
        stats.resumed_rows += 1
        done.add(r["url"])
        if r["status"] == KEPT or r["reason"] == UNCHANGED or (r["reason"] or "").startswith(("http_", "content_type:")):
            done.add(r["final_url"])
    if stats.resumed_rows:
        log.info("batch %s: resuming after %d stored rows", batch_id, stats.resumed_rows)

    snapshot = store.load(batch_id, now, seeds=settings.normalized_seeds(config),
                          revisit_seeds=config.revisit_seeds_every_batch, include_batch=restart)  # fmt: skip
    crawler = BatchCrawler(config, batch_id, source, stats=stats, sleep=sleep, clock=clock, frontier=snapshot,
                           takedowns=takedowns, done_urls=done, frontier_lookup=store.lookup)  # fmt: skip
    for r in _unmerged_rows(lake, batch_id):
        entry = FrontierEntry(
            url=r["url"], host=r["host"] or host_of(r["url"]) or "", depth=r["f_depth"] if r["f_known"] else r["depth"],
            seq=r["f_seq"] if r["f_known"] else crawler._next_seq(), discovered_from=r["discovered_from"],
            etag=r["f_etag"], last_modified=r["f_last_modified"], content_sha1=r["f_content_sha1"],
            failure_count=r["f_failure_count"] or 0, fetch_count=r["f_fetch_count"] or 0,
            first_seen_at=r["f_first_seen_at"], last_fetched_at=r["f_last_fetched_at"],
        )  # fmt: skip
        snapshot.add_known(entry.url)
        crawler.replay(entry, r)

    result = CrawlRunResult(stats=stats, pages_version=lake.version("pages"), chunks=0, frontier_rows=0)
    committer = Committer()
    buf: list[dict[str, Any]] = []
    buf_bytes = 0
    buf_weight = 0.0
    last_flush = clock()
    since_merge = 0.0  # weighted rows (BODYLESS_ROW_WEIGHT) appended since the last frontier merge
    submitted = 0
    flushing = False

    def flush(merge: bool) -> None:
        """Hand the buffered rows (and, with `merge`, the frontier changes) to the committer.
        Draining the crawler's frontier buffers happens here, on the scheduling thread."""
        nonlocal buf, buf_bytes, buf_weight, last_flush, since_merge, submitted, flushing
        flushing = True
        rows, weight, buf, buf_bytes, buf_weight = buf, buf_weight, [], 0, 0.0
        updates, inserts = crawler.drain_frontier() if merge else ([], [])
        files = crawler.robots.drain_files()
        since_merge = 0.0 if merge else since_merge + weight
        submitted += 1 if rows else 0

        def commit() -> None:
            # robots.txt / tdmrep.json versions first: every pages row below names one of them
            policy_files.store(lake, files, batch_id)
            if rows:
                written = lake.write("pages", rows_to_batches(rows, PAGES, 512), PAGES, mode="append",
                                     partition_by=["batch_id"], commit_metadata=commit_metadata,
                                     writer_properties=pages_writer_properties())  # fmt: skip
                result.pages_version = written.version
                result.chunks += 1
            if merge:
                result.frontier_rows += store.merge(updates, inserts)

        committer.submit(commit)
        last_flush = clock()
        flushing = False
        if progress is not None:
            progress(stats)

    flush(True)  # replayed rows, seeds and takedowns reach the frontier before any new request
    committer.drain()
    if stats.resumed_rows and not restart:
        # the interrupted run read the sitemaps (their URLs reached the frontier with its first
        # chunk); a rerun of a finished batch must make no request at all
        config = config.model_copy(update={"sitemaps_from_robots": False, "sitemap_xml": False, "sitemap_urls": []})
        crawler.config = config
    try:
        for row in crawler.run():
            buf.append(row)
            buf_bytes += row["content_bytes"] or 0
            buf_weight += 1.0 if row["content"] is not None else BODYLESS_ROW_WEIGHT
            if (buf_weight >= config.chunk_rows or buf_bytes >= config.chunk_bytes
                    or clock() - last_flush >= config.chunk_seconds):  # fmt: skip
                pending = len(crawler.updates) + len(crawler.inserts)
                # the first chunk also merges: the seeds' links and sitemap URLs reach the frontier early
                # (not when it has nothing to add: a recrawl answered by 304s merges once, at the end)
                flush((submitted == 0 and bool(crawler.inserts))
                      or since_merge + buf_weight >= config.frontier_merge_rows
                      or pending >= 10 * config.frontier_merge_rows)  # fmt: skip
    except BaseException:
        # Interrupted (terminate, SIGTERM) or failed: keep the rows already fetched -- one quick
        # append after the commits already handed over; their frontier updates are replayed by the
        # next run. Not when the interrupt arrived while handing over (the resume sorts it out).
        try:
            if buf and not flushing:
                flush(False)
            if not committer.drain(timeout=STOP_COMMIT_TIMEOUT_S):
                log.warning("batch %s: commits still running at stop; the next run resumes", batch_id)
        except BaseException:  # noqa: BLE001 - re-raised below; the interrupt wins
            log.warning("batch %s: could not store %d fetched rows on interrupt", batch_id, len(buf))
        raise
    flush(True)
    committer.drain()
    if result.chunks > COMPACT_AFTER_CHUNKS:  # a few files are fine; hundreds slow every reader
        compact_batch(lake, batch_id)
        store.compact()
    return result


def pages_writer_properties():
    """Parquet settings for crawled pages, as the WARC importer writes them: zstd level 1 (less
    CPU than deltalake's default snappy for a better ratio on HTML) and no dictionary for the
    body and header columns (every body is unique: building a dictionary only to drop it cost
    the crawl ~200 MB of peak memory per chunk)."""
    from deltalake import ColumnProperties, WriterProperties

    no_dict = ColumnProperties(dictionary_enabled=False)
    return WriterProperties(compression="ZSTD", compression_level=1,
                            column_properties={c: no_dict for c in ("content", "headers_json", "redirect_chain_json")})


def compact_batch(lake, batch_id: str) -> None:
    """Merge the batch's chunk files into few (best effort: a concurrent writer may win)."""
    dt = lake.table("pages")
    if dt is None:
        return
    try:
        dt.optimize.compact(partition_filters=[("batch_id", "=", batch_id)])
    except Exception:
        log.info("pages compaction of %s skipped", batch_id, exc_info=True)
