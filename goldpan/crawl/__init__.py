"""Polite, safe, incremental crawling of one batch into `pages` rows.

Plain Python (no Dagster): the `pages` asset calls `run_crawl`, which loads the Delta frontier,
crawls what is due and writes pages and frontier updates in resumable chunks.

    result = run_crawl(lake, recipe.crawl, batch_id, source="crawl")
    result.stats.as_dict()

`BatchCrawler(recipe.crawl, batch_id, source).run()` is the same crawl without a lake (seeds only,
nothing remembered). The recipe's `crawl` section is the config; `goldpan.crawl.settings` derives
the scope, fetcher and revisit policy from it.
"""

from goldpan.crawl.batch import CrawlRunResult, run_crawl
from goldpan.crawl.crawler import BatchCrawler, CrawlStats
from goldpan.crawl.fetcher import DEFAULT_USER_AGENT, ROW_KEYS, UNCHANGED, Fetcher, FetchResult, make_row
from goldpan.crawl.frontier import FrontierEntry, FrontierSnapshot, FrontierStore
from goldpan.crawl.links import extract_links
from goldpan.crawl.revisit import RevisitPolicy
from goldpan.crawl.robots import RobotsCache
from goldpan.crawl.scope import CrawlScope
from goldpan.crawl.settings import CrawlConfigError
from goldpan.crawl.urls import host_of, normalize_url, page_id

__all__ = [
    "DEFAULT_USER_AGENT",
    "ROW_KEYS",
    "UNCHANGED",
    "BatchCrawler",
    "CrawlConfigError",
    "CrawlRunResult",
    "CrawlScope",
    "CrawlStats",
    "FetchResult",
    "Fetcher",
    "FrontierEntry",
    "FrontierSnapshot",
    "FrontierStore",
    "RevisitPolicy",
    "RobotsCache",
    "extract_links",
    "host_of",
    "make_row",
    "normalize_url",
    "page_id",
    "run_crawl",
]
