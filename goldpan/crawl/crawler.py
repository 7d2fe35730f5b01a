"""Breadth-first crawl of one batch: seeds -> frontier -> one `pages` row per decided URL.

Design choices and why:

* **Deterministic.** BFS with links in document order, one fetch per normalised URL, no
  randomness and no timing-dependent ordering: rerunning a batch against an unchanged site
  yields the same page set in the same order, which the lake's idempotent writes rely on.
* **Every decision is a row.** Fetched pages (kept / rejected / error) and robots refusals
  (rejected, `robots_disallowed`, or `robots_unavailable` when robots.txt itself could not be
  read; no request made) are rows. Out-of-scope links are *not*
  rows -- they would swamp the table -- but are counted in `CrawlStats`.
* **Bounded.** `max_pages` caps rows (fetch attempts, including robots refusals), `max_depth`
  caps link distance from a seed, and the Fetcher bounds each request.
* **Polite.** robots.txt is honoured per origin; consecutive requests to one host are spaced by
  max(config delay, robots Crawl-delay). A Crawl-delay above `max_crawl_delay_s` is not
  shortened (that would be impolite): the host's URLs are rejected with `crawl_delay_too_long`.
* **Ready for a thread pool.** The loop is split into `_next_job` (frontier, pure state),
  `_execute` (all I/O: politeness wait, robots, fetch) and `_absorb` (state update, links).
  A concurrent version can run `_execute` on workers with per-host locks while keeping
  `_next_job`/`_absorb` on one thread, so the state needs no locking.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldpan.crawl.fetcher import (
    DEFAULT_MAX_BYTES,
    DEFAULT_USER_AGENT,
    HTML_CONTENT_TYPES,
    Fetcher,
    make_row,
)
from goldpan.crawl.links import extract_links
from goldpan.crawl.robots import RobotsCache
from goldpan.crawl.scope import TOO_DEEP, CrawlScope
from goldpan.crawl.urls import host_of, normalize_url
from goldpan.lake.schemas import ERROR, KEPT, REJECTED

ROBOTS_DISALLOWED = "robots_disallowed"
# robots.txt could not be read (5xx, 429, network error): the host is off-limits for this run.
ROBOTS_UNAVAILABLE = "robots_unavailable"


class CrawlConfigError(ValueError):
    """Bad crawl configuration. A ValueError (also for wrong types) so callers catch one thing."""


CRAWL_DELAY_TOO_LONG = "crawl_delay_too_long"


@dataclass
class CrawlConfig:
    """What one crawl batch may do. Construct via `from_dict` for config coming from YAML/JSON:
    it rejects unknown keys and wrong types, so a typo (`max_page: 10`) fails loudly instead
    of silently crawling 500 pages."""

    seeds: list[str]
    allowed_hosts: list[str]
    max_depth: int = 3
    max_pages: int = 500
    include_patterns: list[str] = field(default_factory=list)
    exclude_patterns: list[str] = field(default_factory=list)
    user_agent: str = DEFAULT_USER_AGENT
    per_host_delay_s: float = 0.0
    max_crawl_delay_s: float = 30.0
    allow_private: list[str] = field(default_factory=list)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    total_timeout_s: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    robots_ttl_s: float = 3600.0

    def __post_init__(self) -> None:
        self.allowed_hosts = [h.strip().lower().rstrip(".") for h in self.allowed_hosts]
        self.validate()

    def validate(self) -> None:
        """Raise CrawlConfigError (a ValueError) describing the first problem found."""
        if not self.allowed_hosts or any(not h for h in self.allowed_hosts):
            raise CrawlConfigError("allowed_hosts must be a non-empty list of host names")
        if not self.seeds:
            raise CrawlConfigError("seeds must contain at least one URL")
        for name in ("max_depth", "max_redirects"):
            if getattr(self, name) < 0:
                raise CrawlConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("max_pages", "max_bytes"):
            if getattr(self, name) < 1:
                raise CrawlConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("per_host_delay_s", "max_crawl_delay_s", "robots_ttl_s"):
            if getattr(self, name) < 0:
                raise CrawlConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("connect_timeout_s", "read_timeout_s", "total_timeout_s"):
            if getattr(self, name) <= 0:
                raise CrawlConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.user_agent.strip():
            raise CrawlConfigError("user_agent must not be empty")
        for name in ("include_patterns", "exclude_patterns"):
            for pattern in getattr(self, name):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise CrawlConfigError(f"{name}: invalid regex {pattern!r}: {exc}") from None
        scope = self.scope()
        for seed in self.seeds:
            norm = normalize_url(seed)
            if norm is None:
                raise CrawlConfigError(f"seed {seed!r} is not an absolute http(s) URL")
            why = scope.why_not(norm, 0)
            if why is not None:
                raise CrawlConfigError(f"seed {seed!r} is outside the crawl scope ({why})")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CrawlConfig:
        """Build and validate a config from plain data (parsed YAML/JSON)."""
        if not isinstance(d, Mapping):
            raise CrawlConfigError(f"crawl config must be a mapping, got {type(d).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise CrawlConfigError(f"unknown crawl config keys: {', '.join(map(str, unknown))}")
        for required in ("seeds", "allowed_hosts"):
            if required not in d:
                raise CrawlConfigError(f"crawl config is missing {required!r}")
        kwargs: dict[str, Any] = {}
        for key, value in d.items():
            f = fields[key]
            # The default's type is the field's type; list fields (and required seeds /
            # allowed_hosts, which have no default) are lists of strings.
            default = f.default if f.default is not dataclasses.MISSING else []
            kwargs[key] = _coerce(key, value, default)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def scope(self) -> CrawlScope:
        return CrawlScope(
            allowed_hosts=frozenset(self.allowed_hosts),
            include_patterns=tuple(self.include_patterns),
            exclude_patterns=tuple(self.exclude_patterns),
            max_depth=self.max_depth,
        )

    def make_fetcher(self) -> Fetcher:
        return Fetcher(
            user_agent=self.user_agent,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            total_timeout_s=self.total_timeout_s,
            max_bytes=self.max_bytes,
            max_redirects=self.max_redirects,
            allow_private=frozenset(self.allow_private),
        )


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Type-check one config value against its field's default type."""
    if isinstance(default, list):
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise CrawlConfigError(f"{key} must be a list of strings, got {type(value).__name__}")
        if not all(isinstance(v, str) for v in value):
            raise CrawlConfigError(f"{key} must be a list of strings")
        return list(value)
    if isinstance(default, bool) or isinstance(value, bool):
        if not isinstance(value, bool) or not isinstance(default, bool):
            raise CrawlConfigError(f"{key} must be a {type(default).__name__}, got {type(value).__name__}")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int):
            raise CrawlConfigError(f"{key} must be an integer, got {type(value).__name__}")
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)):
            raise CrawlConfigError(f"{key} must be a number, got {type(value).__name__}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise CrawlConfigError(f"{key} must be a string, got {type(value).__name__}")
        return value
    return value


@dataclass
class CrawlStats:
    """Counters of one crawl. `fetched` counts rows (attempts, robots refusals included), so
    fetched == kept + rejected + errored; `requests` counts rows for which an HTTP request was
    actually made. Skipped links are distinct URLs, each counted once."""

    fetched: int = 0
    requests: int = 0
    kept: int = 0
    rejected: int = 0
    errored: int = 0
    skipped_out_of_scope: int = 0
    skipped_too_deep: int = 0
    skipped_duplicate: int = 0  # dequeued URLs already downloaded as a redirect target
    robots_blocked: int = 0
    robots_fetches: int = 0
    bytes: int = 0
    frontier_left: int = 0  # URLs still queued when max_pages stopped the crawl
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["reasons"] = dict(sorted(self.reasons.items()))
        return d


ProgressCallback = Callable[[CrawlStats, dict[str, Any]], None]


_NO_REQUEST = frozenset({ROBOTS_DISALLOWED, ROBOTS_UNAVAILABLE, CRAWL_DELAY_TOO_LONG})


@dataclass(frozen=True)
class _Job:
    url: str
    depth: int
    parent: str | None


class BatchCrawler:
    """State of one batch crawl. Use `crawl_batch` unless you need to inspect the state."""

    def __init__(
        self,
        config: CrawlConfig,
        batch_id: str,
        source: str,
        fetcher: Fetcher | None = None,
        progress: ProgressCallback | None = None,
        *,
        stats: CrawlStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.batch_id = batch_id
        self.source = source
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher if fetcher is not None else config.make_fetcher()
        self.progress = progress
        self.stats = stats if stats is not None else CrawlStats()
        self.sleep = sleep
        self.clock = clock
        self.scope = config.scope()
        self.robots = RobotsCache(
            self.fetcher, config.user_agent, config.robots_ttl_s, scope=self.scope, clock=clock
        )
        self.frontier: deque[_Job] = deque()
        self.seen: set[str] = set()  # every URL enqueued or skipped: decided at most once
        self.fetched: set[str] = set()  # URLs whose response we already have (incl. redirect targets)
        self._last_request_end: dict[str, float] = {}
        for seed in config.seeds:
            norm = normalize_url(seed)
            if norm is not None and norm not in self.seen:
                self.seen.add(norm)
                self.frontier.append(_Job(norm, 0, None))

    def run(self) -> Generator[dict[str, Any], None, CrawlStats]:
        try:
            while (job := self._next_job()) is not None:
                row = self._execute(job)
                self._absorb(job, row)
                yield row
            self.stats.frontier_left = len(self.frontier)
            return self.stats
        finally:
            if self._own_fetcher:
                self.fetcher.close()

    # -- frontier --------------------------------------------------------------------------

    def _next_job(self) -> _Job | None:
        while self.frontier:
            if self.stats.fetched >= self.config.max_pages:
                return None
            job = self.frontier.popleft()
            if job.url in self.fetched:  # already obtained as some earlier redirect's target
                self.stats.skipped_duplicate += 1
                continue
            return job
        return None

    def _admit(self, url: str, depth: int, parent: str) -> None:
        if url in self.seen:
            return
        self.seen.add(url)
        why = self.scope.why_not(url, depth)
        if why == TOO_DEEP:
            self.stats.skipped_too_deep += 1
        elif why is not None:
            self.stats.skipped_out_of_scope += 1
        else:
            self.frontier.append(_Job(url, depth, parent))

    # -- I/O -------------------------------------------------------------------------------

    def _execute(self, job: _Job) -> dict[str, Any]:
        host = host_of(job.url) or ""
        robots_was_cached = self.robots.is_cached(job.url)
        entry = self.robots.entry(job.url)
        allowed = entry.parser.can_fetch(self.robots.user_agent, job.url)
        if not robots_was_cached:
            self.stats.robots_fetches += 1
            self._last_request_end[host] = self.clock()  # the robots request counts for politeness
        if not allowed:
            unavailable = entry.outcome.startswith("disallow_all")
            return self._no_request_row(job, ROBOTS_UNAVAILABLE if unavailable else ROBOTS_DISALLOWED)
        delay = max(self.config.per_host_delay_s, self.robots.crawl_delay(job.url) or 0.0)
        if delay > self.config.max_crawl_delay_s:
            return self._no_request_row(job, CRAWL_DELAY_TOO_LONG)
        last = self._last_request_end.get(host)
        if last is not None and delay > 0:
            wait = last + delay - self.clock()
            if wait > 0:
                self.sleep(wait)
        try:
            return self.fetcher.fetch(
                job.url,
                batch_id=self.batch_id,
                depth=job.depth,
                discovered_from=job.parent,
                source=self.source,
                scope=self.scope,
                already_fetched=self.fetched,
            )
        finally:
            self._last_request_end[host] = self.clock()

    def _no_request_row(self, job: _Job, reason: str) -> dict[str, Any]:
        return make_row(
            batch_id=self.batch_id,
            url=job.url,
            depth=job.depth,
            discovered_from=job.parent,
            source=self.source,
            status=REJECTED,
            reason=reason,
        )

    # -- results ---------------------------------------------------------------------------

    def _absorb(self, job: _Job, row: dict[str, Any]) -> None:
        s = self.stats
        s.fetched += 1
        status, reason = row["status"], row["reason"]
        if reason is not None:
            s.reasons[reason] += 1
        if status == KEPT:
            s.kept += 1
            s.bytes += row["content_bytes"] or 0
        elif status == ERROR:
            s.errored += 1
        else:
            s.rejected += 1
        if reason in (ROBOTS_DISALLOWED, ROBOTS_UNAVAILABLE):
            s.robots_blocked += 1
        if reason not in _NO_REQUEST:
            s.requests += 1
            self.fetched.add(job.url)
            # The final URL was actually requested (not just pointed at by a stopped redirect):
            # remember it so it is never downloaded a second time.
            if status == KEPT or (reason or "").startswith(("http_", "content_type:")):
                self.fetched.add(row["final_url"])
                self.seen.add(row["final_url"])
        if status == KEPT and row["content_type"] in HTML_CONTENT_TYPES and row["content"]:
            for link in extract_links(row["content"], row["final_url"], row["charset_declared"]):
                self._admit(link, job.depth + 1, job.url)
        if self.progress is not None:
            self.progress(s, row)


def crawl_batch(
    config: CrawlConfig,
    batch_id: str,
    source: str,
    fetcher: Fetcher | None = None,
    progress: ProgressCallback | None = None,
    *,
    stats: CrawlStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Generator[dict[str, Any], None, CrawlStats]:
    """Crawl one batch breadth-first and yield one `pages` row per decided URL.

    Pass `stats=CrawlStats()` to read the counters after (or during) iteration; they are also
    the generator's return value and are handed to `progress(stats, row)` after every row.
    A Fetcher built from `config` is created and closed here unless one is passed in.
    `sleep`/`clock` are injectable so tests can check politeness without waiting.
    """
    crawler = BatchCrawler(config, batch_id, source, fetcher, progress, stats=stats, sleep=sleep, clock=clock)
    return crawler.run()
