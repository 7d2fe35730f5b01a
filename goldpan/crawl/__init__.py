"""Polite, safe, bounded crawling of one batch into `pages` rows.

Plain Python (no Dagster): the `pages` asset calls `crawl_batch` and writes the rows.

    config = CrawlConfig.from_dict(yaml.safe_load(...))
    stats = CrawlStats()
    for row in crawl_batch(config, batch_id, source="crawl:demo", stats=stats):
        ...
"""

from goldpan.crawl.crawler import BatchCrawler, CrawlConfig, CrawlConfigError, CrawlStats, crawl_batch
from goldpan.crawl.fetcher import DEFAULT_USER_AGENT, ROW_KEYS, Fetcher, FetchResult, make_row
from goldpan.crawl.links import extract_links
from goldpan.crawl.robots import RobotsCache
from goldpan.crawl.scope import CrawlScope
from goldpan.crawl.urls import host_of, normalize_url, page_id

__all__ = [
    "DEFAULT_USER_AGENT",
    "ROW_KEYS",
    "BatchCrawler",
    "CrawlConfig",
    "CrawlConfigError",
    "CrawlScope",
    "CrawlStats",
    "FetchResult",
    "Fetcher",
    "RobotsCache",
    "crawl_batch",
    "extract_links",
    "host_of",
    "make_row",
    "normalize_url",
    "page_id",
]
