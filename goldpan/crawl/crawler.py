"""Crawl of one batch: frontier -> one `pages` row per decided URL, concurrently and politely.

Design choices and why:

* **Frontier-driven and incremental.** A batch starts from the URLs the frontier says are due
  (plus the seeds, and links discovered on the way), sends the stored validators as a
  conditional GET, and records a 304 -- or a 200 whose sha1 equals the stored one -- as
  `rejected`/`unchanged`, so an unchanged page produces no document downstream. Every decision
  also produces a frontier update (state, next_fetch_at, validators), drained by the caller.
* **Breadth-first and deterministic per host.** Each host has a heap ordered by (depth, seq);
  with one request per host at a time (the default) a rerun against an unchanged site fetches the
  same pages in the same order.
* **Every decision is a row.** Fetched pages (kept / rejected / error) and robots refusals
  (rejected, `robots_disallowed`, or `robots_unavailable` when robots.txt itself could not be
  read; no request made) are rows. Out-of-scope links are *not* rows -- they would swamp the
  table -- but are counted in `CrawlStats`. Taken-down URLs are neither fetched nor stored: the
  frontier marks them `takedown`.
* **Bounded.** `max_pages` caps *stored pages*: rows whose response was a page (kept, or
  unchanged: a 304 or a 200 with the stored sha1). 404s, robots refusals, redirects to an
  already fetched URL and errors do not count, so a cap of 6,000 crawls a 6,000-page site.
  `max_requests` caps HTTP requests (every row that made one; 0 = 4 x max_pages), so a site
  of dead links still ends. `max_depth` caps link distance from a seed, the Fetcher bounds
  each request and `parse_cpu_budget_s` bounds link discovery per page (an error row
  `parse_budget_exceeded` when exceeded).
* **Redirects.** A row keeps its whole chain (`redirect_chain_json`: each hop's URL and
  status); every hop is marked fetched for the batch (never requested twice) and gets its own
  frontier row (state `redirect`, `redirect_to` = next hop), the final URL gets the outcome.
* **Stoppable.** Workers are daemon threads (goldpan.crawl.workers): a terminate raised in the
  scheduling thread leaves at once, even with a worker stuck on a huge page.
* **Polite.** robots.txt is honoured per origin; requests to one host are spaced by
  max(config delay, robots Crawl-delay) and at most `per_host_concurrency` run at once; at most
  `concurrency` run overall. A Crawl-delay above `max_crawl_delay_s` is not shortened (that
  would be impolite): the host's URLs are rejected with `crawl_delay_too_long`.
* **One thread owns the state.** Worker threads only do I/O and link extraction (`_execute`);
  the scheduling thread picks jobs (`_dispatchable`) and applies results (`_absorb`), so the
  frontier state needs no locks.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from goldpan.crawl import settings
from goldpan.crawl.fetcher import HTML_CONTENT_TYPES, UNCHANGED, Fetcher, make_row
from goldpan.crawl.frontier import FrontierEntry, FrontierSnapshot
from goldpan.crawl.frontier import url_key as _key
from goldpan.crawl.links import LinkBudgetExceeded, extract_links
from goldpan.crawl.parse_pool import ParsePool
from goldpan.crawl.revisit import QUEUED, TAKEDOWN
from goldpan.crawl.robots import RobotsCache, RobotsEntry
from goldpan.crawl.scope import TOO_DEEP
from goldpan.crawl.sitemaps import read_sitemaps, robots_sitemaps
from goldpan.crawl.urls import host_of, origin_of
from goldpan.crawl.workers import DaemonPool
from goldpan.lake.schemas import ERROR, KEPT, REJECTED
from goldpan.recipe import CrawlSection

log = logging.getLogger(__name__)

ROBOTS_DISALLOWED = "robots_disallowed"
# robots.txt could not be read (5xx, 429, network error): the host is off-limits for this run.
ROBOTS_UNAVAILABLE = "robots_unavailable"
# robots.txt was not requested because its host resolves to a refused address: the page would be too.
ADDRESS_NOT_ALLOWED = "address_not_allowed"


CRAWL_DELAY_TOO_LONG = "crawl_delay_too_long"
PARSE_BUDGET_EXCEEDED = "parse_budget_exceeded"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass
class CrawlStats:
    """Counters of one crawl. `fetched` counts rows (attempts, robots refusals included), so
    fetched == kept + rejected + errored; `requests` counts rows for which an HTTP request was
    actually made; `stored` counts page rows (kept or unchanged), what `max_pages` caps.
    `queued`, `pages_per_s` and `eta_s` are refreshed while the crawl runs (progress). Skipped links are distinct URLs, each counted once. A resumed batch counts
    the rows stored by the interrupted run too (`resumed_rows` of them)."""

    fetched: int = 0
    requests: int = 0
    stored: int = 0
    kept: int = 0
    rejected: int = 0
    errored: int = 0
    skipped_out_of_scope: int = 0
    skipped_too_deep: int = 0
    skipped_duplicate: int = 0  # dequeued URLs already downloaded as a redirect target
    robots_blocked: int = 0
    robots_fetches: int = 0
    new: int = 0  # kept rows: new or changed content (what extract will read)
    unchanged: int = 0  # 304, or 200 with the stored sha1
    takedown_skipped: int = 0  # due or discovered URLs a takedown covers: no request, no row
    resumed_rows: int = 0  # rows already stored for this batch by an interrupted earlier run
    discovered: int = 0  # URLs new to the frontier
    bytes: int = 0
    frontier_left: int = 0  # URLs still queued when max_pages stopped the crawl
    parse_budget_exceeded: int = 0
    sitemaps_read: int = 0
    sitemap_urls: int = 0  # URLs listed by the sitemaps read
    sitemap_skipped_unchanged: int = 0  # due URLs whose <lastmod> predates their last fetch
    parse_process_cpu_s: float = 0.0  # CPU seconds used by link discovery in parse processes
    queued: int = 0
    elapsed_s: float = 0.0
    rows_per_s: float = 0.0
    eta_s: float | None = None  # None: unknown (no rate yet)
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["reasons"] = dict(sorted(self.reasons.items()))
        return d

    def progress_line(self) -> str:
        """One human line for run logs: counts, rate and ETA."""
        eta = "unknown" if self.eta_s is None else f"{self.eta_s:.0f}s"
        return (f"{self.fetched} rows ({self.stored} pages stored: {self.new} new, {self.unchanged} unchanged; "
                f"{self.errored} failed, {self.robots_blocked} robots-blocked), {self.requests} requests, "
                f"{self.queued} queued, {self.discovered} discovered, {self.rows_per_s:.1f} rows/s, ETA {eta}")


ProgressCallback = Callable[[CrawlStats, dict[str, Any]], None]
FrontierLookup = Callable[[list[str]], "dict[str, FrontierEntry]"]
TakedownLookup = Callable[[str], "str | None"]

_NO_REQUEST = frozenset({ROBOTS_DISALLOWED, ROBOTS_UNAVAILABLE, ADDRESS_NOT_ALLOWED, CRAWL_DELAY_TOO_LONG})


def robots_refusal(outcome: str) -> str:
    """The `pages.reason` of a URL its robots.txt entry refuses: a refused address is named as
    such (it is no robots problem, and waiting will not fix it), then unavailable vs disallowed."""
    if outcome == f"disallow_all:{ADDRESS_NOT_ALLOWED}":
        return ADDRESS_NOT_ALLOWED
    return ROBOTS_UNAVAILABLE if outcome.startswith("disallow_all") else ROBOTS_DISALLOWED


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Host:
    """Scheduling state of one host: its queue in (depth, seq) order and its politeness clock."""

    heap: list[tuple[int, int, FrontierEntry]] = field(default_factory=list)
    next_allowed: float = 0.0
    inflight: int = 0
    delay: float | None = None  # max(per-host delay, Crawl-delay), known after robots was read


class BatchCrawler:
    """State of one batch crawl; `BatchCrawler(section, batch_id, source).run()` crawls without a lake
    (seeds only, nothing remembered), `goldpan.crawl.batch.run_crawl` with one (frontier, chunks, resume).
    `sleep`/`clock` are injectable so tests check politeness without waiting; a Fetcher built from
    the section is created and closed by `run` unless one is passed in.

    `frontier` is the snapshot loaded from `crawl_frontier` (None: seeds only, nothing known).
    `done_urls` are URLs this batch already stored (a resumed run): they are not requested again.
    `takedowns(url)` returns the request id of a takedown covering `url`, or None.
    Frontier changes accumulate in `updates` / `inserts` until `drain_frontier()`.
    """

    def __init__(
        self,
        config: CrawlSection,
        batch_id: str,
        source: str,
        fetcher: Fetcher | None = None,
        progress: ProgressCallback | None = None,
        *,
        stats: CrawlStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        frontier: FrontierSnapshot | None = None,
        takedowns: TakedownLookup | None = None,
        done_urls: Iterable[str] = (),
        now: Callable[[], datetime] = utcnow,
        frontier_lookup: FrontierLookup | None = None,
    ) -> None:
        settings.check(config)
        self.config = config
        self.batch_id = batch_id
        self.source = source
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher if fetcher is not None else settings.make_fetcher(config)
        self.progress = progress
        self.stats = stats if stats is not None else CrawlStats()
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.scope = settings.scope(config)
        self.policy = settings.revisit_policy(config)
        self.takedowns = takedowns
        self.frontier_lookup = frontier_lookup
        self.robots = RobotsCache(
            self.fetcher, config.user_agent, config.robots_ttl_s, scope=self.scope, clock=clock,
            tdmrep=config.fetch_tdmrep, min_delay_s=config.per_host_delay_s, max_delay_s=config.max_crawl_delay_s,
            sleep=sleep,
        )
        self.snapshot = frontier if frontier is not None else FrontierSnapshot()
        # link discovery off the GIL once the batch proves big enough (goldpan.crawl.parse_pool)
        self.parsers = ParsePool(config.parse_processes, config.parse_processes_after) if config.parse_processes else None
        self._strip_params = frozenset(config.strip_params)
        self.hosts: dict[str, _Host] = {}
        self.active: set[str] = set()  # hosts with queued entries
        # URLs whose response this batch already has (incl. redirect targets): never requested twice.
        self.fetched: set[str] = set(done_urls)
        self.updates: list[dict[str, Any]] = []
        self.inserts: list[dict[str, Any]] = []
        self._token = 0
        self._t0 = self._rate_at = clock()
        started = self.started = self.now()
        self._due = {e.url: e for e in self.snapshot.due}  # for <lastmod> decisions
        self._skip: set[str] = set()  # due URLs a sitemap <lastmod> says are unchanged
        for entry in self.snapshot.due:
            if entry.url in self.fetched:
                continue
            why = self.scope.why_not(entry.url, entry.depth)
            if why is not None:  # the recipe's scope changed since the URL was found
                self.stats.skipped_out_of_scope += 1
                continue
            if not self._taken_down(entry):
                self._enqueue(entry)
        for seed in settings.normalized_seeds(config):
            if self.snapshot.add_known(seed):
                entry = FrontierEntry(seed, host_of(seed) or "", 0, self._next_seq(), first_seen_at=started,
                                      is_seed=True)  # fmt: skip
                self.inserts.append(self._frontier_row(entry, QUEUED, started))
                if not self._taken_down(entry) and seed not in self.fetched:
                    self._enqueue(entry)

    # -- main loop -------------------------------------------------------------------------

    def run(self) -> Generator[dict[str, Any], None, CrawlStats]:
        cfg = self.config
        pool = DaemonPool(cfg.concurrency)
        inflight: dict[int, FrontierEntry] = {}
        cap_requests = settings.request_cap(cfg)
        self._t0 = self.clock()
        try:
            self._read_sitemaps()
            while True:
                while (len(inflight) < cfg.concurrency and self.stats.stored + len(inflight) < cfg.max_pages
                       and self.stats.requests + len(inflight) < cap_requests):  # fmt: skip
                    picked = self._pick(self.clock())
                    if picked is None:
                        break
                    entry, immediate = picked
                    if immediate is not None:  # decided without a request (robots, Crawl-delay)
                        self._absorb(entry, immediate, [])
                        yield immediate
                        continue
                    hs = self.hosts[entry.host]
                    hs.inflight += 1
                    hs.next_allowed = self.clock() + (hs.delay or 0.0)  # spacing between starts
                    token = self._next_token()
                    inflight[token] = entry
                    pool.submit(token, self._execute, entry)
                if not inflight:
                    if self._capped() or not self.active:
                        break
                    pause = self._earliest_ready() - self.clock()
                    if pause > 0:
                        self.sleep(pause)
                    continue
                timeout = 0.5  # bounded: the scheduling thread stays responsive to a terminate
                ready_at = self._earliest_ready(None)  # None: every host with work is at its limit
                if ready_at is not None and len(inflight) < cfg.concurrency and not self._capped():
                    timeout = min(timeout, max(0.0, ready_at - self.clock()))
                done = [r for r in [pool.next_result(timeout)] if r is not None]
                while done and (more := pool.next_result(0)) is not None:
                    done.append(more)
                for token, result, exc in sorted(done, key=lambda d: (inflight[d[0]].depth, inflight[d[0]].seq)):
                    entry = inflight.pop(token)
                    if exc is not None:
                        raise exc
                    row, links, delay, robots_fetched = result
                    hs = self.hosts[entry.host]
                    hs.inflight -= 1
                    hs.delay = delay
                    if robots_fetched:
                        self.stats.robots_fetches += 1
                    if row["reason"] not in _NO_REQUEST:  # spacing between one's end and the next start
                        hs.next_allowed = max(hs.next_allowed, self.clock() + delay)
                    self._absorb(entry, row, links)
                    yield row
            self.stats.frontier_left = sum(len(self.hosts[h].heap) for h in self.active)
            self._refresh_rate(force=True)
            return self.stats
        finally:
            pool.close()  # never waits: a worker stuck on a page must not hold a terminated run
            if self.parsers is not None:
                self.stats.parse_process_cpu_s = round(self.parsers.cpu_seconds(), 3)
                self.parsers.close()  # kills the parse processes, busy or not
            if self._own_fetcher:
                self.fetcher.close()

    def _capped(self) -> bool:
        return self.stats.stored >= self.config.max_pages or self.stats.requests >= settings.request_cap(self.config)

    def _next_token(self) -> int:
        self._token += 1
        return self._token

    def _refresh_rate(self, force: bool = False) -> None:
        """Queued count, rows/s and ETA for progress logs (at most once a second)."""
        now = self.clock()
        if not force and now - self._rate_at < 1.0:
            return
        self._rate_at = now
        s = self.stats
        s.queued = sum(len(self.hosts[h].heap) for h in self.active)
        s.elapsed_s = round(now - self._t0, 3)
        session_rows = s.fetched - s.resumed_rows
        s.rows_per_s = round(session_rows / s.elapsed_s, 2) if s.elapsed_s > 0 else 0.0
        left = min(s.queued, max(self.config.max_pages - s.stored, 0))
        # a politeness delay bounds the rate: each host serves per_host_concurrency requests per delay
        bound = max((len(self.hosts[h].heap) * (self.hosts[h].delay or self.config.per_host_delay_s)
                     / self.config.per_host_concurrency for h in self.active), default=0.0)  # fmt: skip
        by_rate = left / s.rows_per_s if s.rows_per_s > 0 else None
        s.eta_s = None if by_rate is None and bound == 0 else round(max(by_rate or 0.0, bound), 1)

    def drain_frontier(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Frontier (updates, inserts) accumulated since the last drain."""
        updates, inserts = self.updates, self.inserts
        self.updates, self.inserts = [], []
        return updates, inserts

    # -- sitemaps --------------------------------------------------------------------------

    def _sitemap_roots(self) -> list[str]:
        cfg, roots = self.config, list(self.config.sitemap_urls)
        origins = list(dict.fromkeys(o for o in (origin_of(u) for u in settings.normalized_seeds(cfg)) if o))
        for origin in origins:
            if cfg.sitemaps_from_robots:
                home = origin + "/"
                was_cached = self.robots.is_cached(home)
                entry = self.robots.entry(home)
                if not was_cached:  # the robots request counts for politeness, as in _execute
                    self.stats.robots_fetches += 1
                    hs = self.hosts.setdefault(host_of(home) or "", _Host())
                    hs.next_allowed = self.clock() + self._delay(home)
                roots.extend(robots_sitemaps(entry.text or ""))
            if cfg.sitemap_xml:
                roots.append(origin + "/sitemap.xml")
        return roots

    def _fetch_sitemap(self, url: str) -> tuple[bytes | None, str | None]:
        """One sitemap file through the crawl's fetcher, scope, robots and takedown checks."""
        if self.scope.why_not(url, 0) is not None:
            return None, "out_of_scope"
        if self.takedowns is not None and self.takedowns(url) is not None:
            return None, "takedown"
        if not self.robots.allowed(url):
            return None, ROBOTS_DISALLOWED
        host = host_of(url) or ""
        hs = self.hosts.setdefault(host, _Host())
        delay = self._delay(url)
        wait = hs.next_allowed - self.clock()
        if wait > 0:
            self.sleep(wait)
        res = self.fetcher.get(url, self.scope, check_content_type=False, blocked=self.takedowns)
        hs.next_allowed = self.clock() + delay
        self.stats.sitemaps_read += 1
        if res.status != KEPT or res.content is None:
            return None, res.reason or res.status
        return res.content, None

    def _read_sitemaps(self) -> None:
        """Admit the URLs of the seed hosts' sitemaps (newest <lastmod> first) and use <lastmod>
        to skip due revisits of pages unchanged since their last fetch, or to make changed
        pages due early."""
        cfg = self.config
        roots = self._sitemap_roots()
        if not roots:
            return
        found = read_sitemaps(roots, self._fetch_sitemap, normalize=partial(settings.normalize, cfg), max_files=cfg.max_sitemaps,
                              max_urls=cfg.max_sitemap_urls, max_bytes=cfg.max_bytes)  # fmt: skip
        for url, why in found.errors.items():
            log.info("sitemap %s not read: %s", url, why)
        self.stats.sitemap_urls += len(found.urls)
        oldest = datetime.min.replace(tzinfo=UTC)
        ordered = sorted(found.urls, key=lambda u: u.lastmod or oldest, reverse=True)
        changed: dict[str, datetime] = {}
        for item in ordered:
            url = settings.normalize(cfg, item.url)
            if url is None:
                continue
            due = self._due.get(url)
            if due is not None:
                if (item.lastmod is not None and due.last_fetched_at is not None and due.content_sha1 is not None
                        and item.lastmod <= due.last_fetched_at and not due.is_seed):  # fmt: skip
                    self._skip_unchanged(due)
                continue
            if not self.snapshot.add_known(url):
                if item.lastmod is not None:
                    changed[url] = item.lastmod
                continue
            self.snapshot.known.discard(_key(url))  # _admit records it
            self._admit(url, 1, item.sitemap)
        if changed and self.frontier_lookup is not None:
            for entry in self.frontier_lookup(list(changed)).values():
                last = entry.last_fetched_at
                if last is not None and changed[entry.url] > last and entry.url not in self.fetched:
                    self._enqueue(entry)  # changed since our last fetch: due now

    def _skip_unchanged(self, entry: FrontierEntry) -> None:
        self._skip.add(entry.url)
        self.stats.sitemap_skipped_unchanged += 1
        out = self._frontier_row(entry, "fetched", self.now() + timedelta(seconds=self.config.revisit_interval_s))
        out["last_reason"] = "sitemap_lastmod_unchanged"
        self.updates.append(out)

    # -- frontier --------------------------------------------------------------------------

    def _next_seq(self) -> int:
        seq = self.snapshot.next_seq
        self.snapshot.next_seq += 1
        return seq

    def _enqueue(self, entry: FrontierEntry) -> None:
        hs = self.hosts.get(entry.host)
        if hs is None:
            hs = self.hosts[entry.host] = _Host()
        heapq.heappush(hs.heap, (entry.depth, entry.seq, entry))
        self.active.add(entry.host)

    def _taken_down(self, entry: FrontierEntry) -> bool:
        """True (and the frontier row marked) if a takedown covers the URL: it is never requested."""
        rid = self.takedowns(entry.url) if self.takedowns is not None else None
        if rid is None:
            return False
        self.stats.takedown_skipped += 1
        self.updates.append(self._frontier_row(entry, TAKEDOWN, None, takedown_request_id=rid))
        return True

    def _pick(self, now: float) -> tuple[FrontierEntry, dict[str, Any] | None] | None:
        """The next job: a (depth, seq)-first entry of a host that may be contacted now, or an
        entry decidable without a request (cached robots refusal) regardless of politeness."""
        best: tuple[tuple[int, int], str] | None = None
        for host in list(self.active):
            hs = self.hosts[host]
            while hs.heap:
                entry = hs.heap[0][2]
                if entry.url in self.fetched:  # already obtained as an earlier redirect's target
                    heapq.heappop(hs.heap)
                    self.stats.skipped_duplicate += 1
                    continue
                if entry.url in self._skip:  # its sitemap <lastmod> predates our last fetch
                    heapq.heappop(hs.heap)
                    continue
                row = self._decide_without_request(entry)
                if row is not None:
                    heapq.heappop(hs.heap)
                    self._deactivate_if_empty(host)
                    return entry, row
                break
            if not hs.heap:
                self._deactivate_if_empty(host)
                continue
            if hs.inflight >= self._host_limit(hs) or now < hs.next_allowed:
                continue
            key = (hs.heap[0][0], hs.heap[0][1])
            if best is None or key < best[0]:
                best = (key, host)
        if best is None:
            return None
        hs = self.hosts[best[1]]
        entry = heapq.heappop(hs.heap)[2]
        self._deactivate_if_empty(best[1])
        return entry, None

    def _host_limit(self, hs: _Host) -> int:
        """Concurrent requests allowed to a host: one until its robots.txt (and so its
        Crawl-delay) is known, then `per_host_concurrency`."""
        return self.config.per_host_concurrency if hs.delay is not None else 1

    def _deactivate_if_empty(self, host: str) -> None:
        if not self.hosts[host].heap:
            self.active.discard(host)

    def _earliest_ready(self, default: float | None = -1.0) -> float | None:
        """When the next host may be contacted; `default` (the clock when -1) if none can."""
        times = [
            self.hosts[h].next_allowed
            for h in self.active
            if self.hosts[h].inflight < self._host_limit(self.hosts[h])
        ]
        if times:
            return min(times)
        return self.clock() if default == -1.0 else default

    def _decide_without_request(self, entry: FrontierEntry) -> dict[str, Any] | None:
        if not self.robots.is_cached(entry.url):
            return None
        robots = self.robots.entry(entry.url)
        if not robots.parser.can_fetch(self.robots.user_agent, entry.url):
            return _evidence(self._no_request_row(entry, robots_refusal(robots.outcome)), robots)
        if self._delay(entry.url) > self.config.max_crawl_delay_s:
            return _evidence(self._no_request_row(entry, CRAWL_DELAY_TOO_LONG), robots)
        return None

    def _admit(self, url: str, depth: int, parent: str) -> None:
        if not self.snapshot.add_known(url):
            return
        why = self.scope.why_not(url, depth)
        if why == TOO_DEEP:
            self.stats.skipped_too_deep += 1
            return
        if why is not None:
            self.stats.skipped_out_of_scope += 1
            return
        # One host string and one timestamp shared by all entries: the queued entries are most of
        # the crawl's memory once the frontier holds ~100k URLs.
        entry = FrontierEntry(url, sys.intern(host_of(url) or ""), depth, self._next_seq(), discovered_from=parent,
                              first_seen_at=self.started)  # fmt: skip
        self.stats.discovered += 1
        rid = self.takedowns(url) if self.takedowns is not None else None
        if rid is not None:
            self.stats.takedown_skipped += 1
            self.inserts.append(self._frontier_row(entry, TAKEDOWN, None, takedown_request_id=rid))
            return
        self.inserts.append(self._frontier_row(entry, QUEUED, entry.first_seen_at))
        if url not in self.fetched:
            self._enqueue(entry)

    # -- I/O (worker threads) ----------------------------------------------------------------

    def _delay(self, url: str) -> float:
        return max(self.config.per_host_delay_s, self.robots.crawl_delay(url) or 0.0)

    def _execute(self, entry: FrontierEntry) -> tuple[dict[str, Any], list[str], float, bool]:
        """Robots check, fetch, unchanged check and link extraction for one entry (no shared
        state is written here). Returns (row, links, host delay, whether robots.txt was fetched)."""
        robots_was_cached = self.robots.is_cached(entry.url)
        robots = self.robots.entry(entry.url)
        delay = self._delay(entry.url)
        robots_fetched = not robots_was_cached
        if not robots.parser.can_fetch(self.robots.user_agent, entry.url):
            row = self._no_request_row(entry, robots_refusal(robots.outcome))
            return _evidence(row, robots), [], delay, robots_fetched
        if delay > self.config.max_crawl_delay_s:
            return _evidence(self._no_request_row(entry, CRAWL_DELAY_TOO_LONG), robots), [], delay, robots_fetched
        if robots_fetched and delay > 0:
            self.sleep(delay)  # the robots request counts for politeness
        row = self.fetcher.fetch(
            entry.url,
            batch_id=self.batch_id,
            depth=entry.depth,
            discovered_from=entry.discovered_from,
            source=self.source,
            scope=self.scope,
            already_fetched=self.fetched,
            conditional=entry.conditional_headers(),
            blocked=self.takedowns,
        )
        _evidence(row, robots)
        links: list[str] = []
        if row["reason"] == UNCHANGED:  # 304: point at the content stored earlier
            row["content_sha1"] = entry.content_sha1
        elif row["status"] == KEPT and entry.content_sha1 is not None and row["content_sha1"] == entry.content_sha1:
            row["status"], row["reason"], row["content"] = REJECTED, UNCHANGED, None
        elif row["status"] == KEPT and row["content_type"] in HTML_CONTENT_TYPES and row["content"]:
            try:
                links = self._links(row)
            except LinkBudgetExceeded as exc:  # a pathological page: an error row, not a stuck batch
                row.update(status=ERROR, reason=PARSE_BUDGET_EXCEEDED, content=None)
                headers = json.loads(row["headers_json"] or "{}")
                headers["x-goldpan-parse"] = str(exc)
                row["headers_json"] = json.dumps(headers, sort_keys=True)
        return row, links, delay, robots_fetched

    def _links(self, row: Mapping[str, Any], *, in_thread: bool = False) -> list[str]:
        """Normalised outgoing links of a stored HTML row, within the recipe's CPU budget: in a
        parse process once the batch is big enough, else in this thread."""
        args = (row["content"], row["final_url"], row.get("charset_declared"))
        if not in_thread and self.parsers is not None and self.parsers.wants():
            return self.parsers.extract(*args, self._strip_params, self.config.parse_cpu_budget_s)
        return extract_links(*args, strip_params=self._strip_params, cpu_budget_s=self.config.parse_cpu_budget_s)

    def _no_request_row(self, entry: FrontierEntry, reason: str) -> dict[str, Any]:
        return make_row(
            batch_id=self.batch_id,
            url=entry.url,
            depth=entry.depth,
            discovered_from=entry.discovered_from,
            source=self.source,
            status=REJECTED,
            reason=reason,
        )

    # -- results (scheduling thread) ---------------------------------------------------------

    def _absorb(self, entry: FrontierEntry, row: dict[str, Any], links: list[str], *, count: bool = True) -> None:
        status, reason = row["status"], row["reason"]
        if count:
            self.stats_for_row(self.stats, row)
        hops = _hops(row)
        if reason not in _NO_REQUEST:
            self.fetched.add(entry.url)
            # Every URL of the redirect chain was actually requested: remember them so none is
            # downloaded a second time in this batch, and give each its own frontier row.
            for url, _ in hops:
                self.fetched.add(url)
            if status == KEPT or reason == UNCHANGED or (reason or "").startswith(("http_", "content_type:")):
                self.fetched.add(row["final_url"])
            self._record_hops(entry, row, hops)
        self.updates.append(self._update_row(entry, row, redirect_to=hops[1][0] if len(hops) > 1 else None))
        for link in links:
            self._admit(link, entry.depth + 1, entry.url)
        if count:
            self._refresh_rate()
            if self.progress is not None:
                self.progress(self.stats, row)

    def _record_hops(self, entry: FrontierEntry, row: Mapping[str, Any], hops: list[tuple[str, int]]) -> None:
        """Frontier rows for the other URLs of a redirect chain: each intermediate hop is a
        `redirect` to the next one; the last requested URL (the target) gets the row's outcome,
        so a redirect to a 404 leaves the target `gone`, not `queued` forever."""
        for i, (url, http_status) in enumerate(hops):
            if url == entry.url:
                continue
            hop = self._hop_entry(url, entry)
            nxt = hops[i + 1][0] if i + 1 < len(hops) else row["final_url"]
            if http_status in _REDIRECT_STATUSES and nxt != url:
                state, _, when = self.policy.outcome(REJECTED, None, http_status, 0, row["fetched_at"], redirected=True)
                out = self._frontier_row(hop, state, when)
                out.update(redirect_to=nxt, last_fetched_at=row["fetched_at"], last_batch_id=self.batch_id,
                           last_page_id=row["page_id"], last_status=REJECTED, last_reason=f"http_{http_status}",
                           last_http_status=http_status, fetch_count=1)  # fmt: skip
                self.updates.append(out)
            else:
                target_row = dict(row, redirect_chain_json=None, final_url=url)
                self.updates.append(self._update_row(hop, target_row))

    def _hop_entry(self, url: str, parent: FrontierEntry) -> FrontierEntry:
        """A frontier entry for a URL met as a redirect hop (new to the frontier or not: the
        merge keeps an existing row's seq, first sighting and smaller depth)."""
        if self.snapshot.add_known(url):
            self.stats.discovered += 1
        return FrontierEntry(url, sys.intern(host_of(url) or ""), parent.depth, self._next_seq(),
                             discovered_from=parent.url, first_seen_at=self.started)  # fmt: skip

    @staticmethod
    def stats_for_row(s: CrawlStats, row: Mapping[str, Any]) -> None:
        """Count one pages row (also used for rows a resumed batch finds already stored)."""
        s.fetched += 1
        status, reason = row["status"], row["reason"]
        if reason is not None:
            s.reasons[reason] += 1
        if status == KEPT or reason == UNCHANGED:
            s.stored += 1
        if reason == PARSE_BUDGET_EXCEEDED:
            s.parse_budget_exceeded += 1
        if status == KEPT:
            s.kept += 1
            s.new += 1
            s.bytes += row["content_bytes"] or 0
        elif status == ERROR:
            s.errored += 1
        else:
            s.rejected += 1
        if reason == UNCHANGED:
            s.unchanged += 1
        if reason in (ROBOTS_DISALLOWED, ROBOTS_UNAVAILABLE):
            s.robots_blocked += 1
        if reason not in _NO_REQUEST:
            s.requests += 1

    def replay(self, entry: FrontierEntry, row: dict[str, Any]) -> None:
        """Apply a row an interrupted run stored but whose frontier update was lost: the
        frontier update and the links of its content, without counting or yielding it again."""
        links: list[str] = []
        if row["status"] == KEPT and row.get("content_type") in HTML_CONTENT_TYPES and row.get("content"):
            try:
                links = self._links(row, in_thread=True)  # before run(): no parse processes yet
            except LinkBudgetExceeded:
                links = []
        self._absorb(entry, row, links, count=False)

    def _frontier_row(
        self,
        entry: FrontierEntry,
        state: str,
        next_fetch_at: datetime | None,
        *,
        takedown_request_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "url": entry.url,
            "host": entry.host,
            "depth": entry.depth,
            "seq": entry.seq,
            "state": state,
            "discovered_from": entry.discovered_from,
            "first_seen_at": entry.first_seen_at or self.now(),
            "next_fetch_at": next_fetch_at,
            "last_fetched_at": entry.last_fetched_at,
            "last_batch_id": None,
            "last_page_id": None,
            "last_status": None,
            "last_reason": None,
            "last_http_status": None,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "content_sha1": entry.content_sha1,
            "failure_count": entry.failure_count,
            "fetch_count": entry.fetch_count,
            "takedown_request_id": takedown_request_id,
            "redirect_to": None,
        }

    def _update_row(self, entry: FrontierEntry, row: Mapping[str, Any], redirect_to: str | None = None
                    ) -> dict[str, Any]:  # fmt: skip
        """The frontier row after `row`: revisit policy, validators and content hash."""
        status, reason = row["status"], row["reason"]
        fetched_at = row["fetched_at"]
        redirected = reason not in _NO_REQUEST and row["final_url"] != entry.url
        state, failures, nxt = self.policy.outcome(status, reason, row["http_status"], entry.failure_count, fetched_at,
                                                   redirected=redirected)  # fmt: skip
        out = self._frontier_row(entry, state, nxt)
        if redirected:
            out["redirect_to"] = redirect_to or row["final_url"]
        headers = json.loads(row["headers_json"]) if row.get("headers_json") else {}
        if status == KEPT:
            out["etag"], out["last_modified"] = headers.get("etag"), headers.get("last-modified")
            out["content_sha1"] = row["content_sha1"]
        elif reason == UNCHANGED:
            out["etag"] = headers.get("etag") or entry.etag
            out["last_modified"] = headers.get("last-modified") or entry.last_modified
        request_made = reason not in _NO_REQUEST
        out.update(
            failure_count=failures,
            fetch_count=entry.fetch_count + (1 if request_made else 0),
            last_fetched_at=fetched_at if request_made else entry.last_fetched_at,
            last_batch_id=self.batch_id,
            last_page_id=row["page_id"],
            last_status=status,
            last_reason=reason,
            last_http_status=row["http_status"],
        )
        return out


def _evidence(row: dict[str, Any], robots: RobotsEntry) -> dict[str, Any]:
    """Name on the pages row the robots.txt / tdmrep.json versions in force for its fetch (consent)."""
    row["robots_version"], row["tdmrep_version"] = robots.version_id, robots.tdmrep_version_id
    return row


def _hops(row: Mapping[str, Any]) -> list[tuple[str, int]]:
    """[(url, http status), ...] of a row's redirect chain; [] when it did not redirect."""
    chain = row.get("redirect_chain_json")
    if not chain:
        return []
    try:
        return [(h["url"], int(h["status"])) for h in json.loads(chain)]
    except (ValueError, KeyError, TypeError):
        return []
