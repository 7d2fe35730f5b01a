"""One crawl batch into the lake: frontier in, `pages` chunks and frontier updates out, resumable.

The order of writes is what makes a killed crawl resumable without refetching:

1. every `chunk_rows` rows (or `chunk_seconds`), the chunk is *appended* to `pages` (one Delta
   commit, atomic), then the frontier updates of those rows are merged into `crawl_frontier`;
2. a rerun of the same batch first reads what the batch already stored: those URLs are "done"
   (never requested again) and count toward `max_pages`; rows whose frontier merge was lost
   (killed between 1's two commits) are replayed into the frontier, links included;
3. the frontier then yields only URLs not yet decided by this batch.

A finished batch rerun is therefore a no-op that reports the same counts, and `restart=True`
deletes the batch's rows first for a genuine recrawl of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from goldpan.crawl import policy_files
from goldpan.crawl.crawler import BatchCrawler, CrawlConfig, CrawlStats
from goldpan.crawl.fetcher import UNCHANGED
from goldpan.crawl.frontier import TABLE as FRONTIER
from goldpan.crawl.frontier import FrontierEntry, FrontierStore
from goldpan.crawl.urls import host_of
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import KEPT, PAGES

log = logging.getLogger(__name__)

ProgressFn = Callable[[CrawlStats], None]
COMPACT_AFTER_CHUNKS = 8


@dataclass
class CrawlRunResult:
    stats: CrawlStats
    pages_version: int | None
    chunks: int
    frontier_rows: int


def _stored_rows(lake, batch_id: str):
    if not lake.exists("pages"):
        return iter(())
    return lake.iter_rows(
        "SELECT page_id, url, final_url, status, reason, content_bytes FROM pages WHERE batch_id = ?",
        [batch_id], tables=["pages"], batch_size=4096,
    )  # fmt: skip


def _unmerged_rows(lake, batch_id: str):
    """Stored rows of the batch whose frontier update never landed (killed between commits)."""
    if not lake.exists("pages") or not lake.exists(FRONTIER):
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
    config: CrawlConfig,
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

    snapshot = store.load(batch_id, now, seeds=config.normalized_seeds(),
                          revisit_seeds=config.revisit_seeds_every_batch, include_batch=restart)  # fmt: skip
    crawler = BatchCrawler(config, batch_id, source, stats=stats, sleep=sleep, clock=clock, frontier=snapshot,
                           takedowns=takedowns, done_urls=done)  # fmt: skip
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
    buf: list[dict[str, Any]] = []
    last_flush = clock()

    def flush() -> None:
        nonlocal buf, last_flush
        # robots.txt / tdmrep.json versions first: every pages row below names one of them
        policy_files.store(lake, crawler.robots.drain_files(), batch_id)
        if buf:
            written = lake.write("pages", rows_to_batches(buf, PAGES, 512), PAGES, mode="append",
                                 partition_by=["batch_id"], commit_metadata=commit_metadata)  # fmt: skip
            result.pages_version = written.version
            result.chunks += 1
        updates, inserts = crawler.drain_frontier()
        result.frontier_rows += store.merge(updates, inserts)
        buf = []
        last_flush = clock()
        if progress is not None:
            progress(stats)

    flush()  # replayed rows, seeds and takedowns reach the frontier before any new request
    for row in crawler.run():
        buf.append(row)
        if len(buf) >= config.chunk_rows or clock() - last_flush >= config.chunk_seconds:
            flush()
    flush()
    if result.chunks > COMPACT_AFTER_CHUNKS:  # a few files are fine; hundreds slow every reader
        compact_batch(lake, batch_id)
        store.compact()
    return result


def compact_batch(lake, batch_id: str) -> None:
    """Merge the batch's chunk files into few (best effort: a concurrent writer may win)."""
    dt = lake.table("pages")
    if dt is None:
        return
    try:
        dt.optimize.compact(partition_filters=[("batch_id", "=", batch_id)])
    except Exception:
        log.info("pages compaction of %s skipped", batch_id, exc_info=True)
