"""The crawl stage's entry point: one crawl batch of the recipe's sites into `pages`, recorded in `batches`.

`run` checks the section before anything is written (a refusal leaves no trace of the batch), marks
the batch running, crawls it (frontier-driven and resumable: goldpan.crawl.batch.run_crawl) and
marks it done with its counters. The caller passes the takedown lookup (the audit package sits
above the crawl) and a progress callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from goldpan.crawl import settings
from goldpan.crawl.batch import CrawlRunResult, ProgressFn, run_crawl
from goldpan.crawl.batch_table import CRAWL, record_batch
from goldpan.lake import Lake
from goldpan.recipe import CrawlSection

#: `pages.source` of crawled rows (WARC/WET imports: "warc" / "wet"); the recipe is in `batches`.
SOURCE = "crawl"


def run(
    lake: Lake,
    section: CrawlSection,
    batch_id: str,
    *,
    recipe_id: str,
    run_id: str | None = None,
    takedowns: Callable[[str], str | None] | None = None,
    progress: ProgressFn | None = None,
    commit_metadata: Mapping[str, str] | None = None,
    restart: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> CrawlRunResult:
    """Crawl `batch_id`; raises CrawlConfigError or PrivateNotOptedIn before the batch is recorded."""
    settings.check(section)
    settings.check_private_opt_in(section)
    seeds, started = settings.normalized_seeds(section), datetime.now(UTC)
    record_batch(lake, batch_id, kind=CRAWL, sources=seeds, recipe_id=recipe_id, state="running", run_id=run_id,
                 started_at=started)  # fmt: skip
    result = run_crawl(lake, section, batch_id, SOURCE, takedowns=takedowns, progress=progress,
                       commit_metadata=dict(commit_metadata or {}), restart=restart, sleep=sleep)  # fmt: skip
    record_batch(lake, batch_id, kind=CRAWL, sources=seeds, recipe_id=recipe_id, state="done",
                 stats=result.stats.as_dict(), run_id=run_id, started_at=started)  # fmt: skip
    return result
