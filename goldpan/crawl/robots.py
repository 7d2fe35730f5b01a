"""robots.txt, fetched once per origin and cached, with the file kept as evidence.

Policy (RFC 9309 plus one deliberate deviation towards caution):

* 2xx: parse it with `goldpan.crawl.robotstxt` (RFC 9309 matching: longest match, `*` and `$`,
  Allow wins ties, groups merged per agent; checked against Google's reference suite).
* 4xx (robots.txt "unavailable", e.g. 404/403/410): allow everything, as RFC 9309 says.
  Redirect problems (out-of-scope target, loops, too many hops) are treated the same way,
  which the RFC also permits.
* 429, 5xx and any network error (timeout, refused connection, DNS failure, refused address):
  disallow everything on that origin *for this run*. The RFC suggests this for 5xx; we extend
  it to transport errors because a server we cannot reach reliably is not one we should be
  hammering with page requests either. The entry still expires after `ttl_seconds`.

Every load yields a `PolicyFile` (text, sha1, HTTP status, outcome, fetched_at) that the crawl
stores in `policy_files` and names on each pages row (`robots_version`). With `tdmrep=True` the
origin's `/.well-known/tdmrep.json` (TDMRep) is read in the same load -- only if robots.txt lets
us fetch that path, and after the same politeness delay as a page -- and kept the same way.

The cache key is the origin (scheme://host[:port]) because that is what a robots.txt governs;
`http://x/` and `https://x/` can legitimately have different files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from goldpan.crawl.fetcher import Fetcher
from goldpan.crawl.policy_files import ROBOTS_PATH, TDMREP_PATH, PolicyFile
from goldpan.crawl.robotstxt import AllowAll, DisallowAll, RobotsTxt, product_token
from goldpan.crawl.scope import CrawlScope
from goldpan.crawl.urls import host_of, origin_of
from goldpan.lake.schemas import KEPT

_REDIRECT_TROUBLE = frozenset(
    {
        "redirect_loop",
        "too_many_redirects",
        "redirect_out_of_scope",
        "redirect_invalid_location",
        "redirect_without_location",
        "redirect_to_fetched",
    }
)

# robots.txt files are small; RFC 9309 requires parsing at least 500 KiB. We read at most the
# fetcher's max_bytes and parse whatever arrived.


@dataclass
class RobotsEntry:
    """Parsed rules of one origin plus how we got them (the evidence stored in `policy_files`).

    `parser.can_fetch(user_agent, url)` keeps the `urllib.robotparser` call shape."""

    parser: RobotsTxt
    fetched_at: float  # cache clock (monotonic), for the TTL
    outcome: str  # "parsed" | "allow_all:<reason>" | "disallow_all:<reason>"
    text: str = ""
    version: PolicyFile | None = None
    tdmrep: PolicyFile | None = None  # the origin's tdmrep.json, when the cache reads it

    @property
    def version_id(self) -> str | None:
        return self.version.version_id if self.version is not None else None

    @property
    def tdmrep_version_id(self) -> str | None:
        return self.tdmrep.version_id if self.tdmrep is not None else None


class RobotsCache:
    """Per-origin robots.txt rules for one user agent, fetched lazily through the Fetcher
    (so robots requests get the same SSRF checks, timeouts and size limits as pages)."""

    def __init__(
        self,
        fetcher: Fetcher,
        user_agent: str,
        ttl_seconds: float = 3600.0,
        *,
        scope: CrawlScope | None = None,
        clock: Callable[[], float] = time.monotonic,
        tdmrep: bool = False,
        min_delay_s: float = 0.0,
        max_delay_s: float = float("inf"),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.token = product_token(user_agent)
        self.ttl_seconds = ttl_seconds
        # tdmrep.json: read per origin right after robots.txt, spaced by max(min_delay_s,
        # Crawl-delay); skipped when that delay exceeds max_delay_s (the crawl refuses the host then).
        self.tdmrep = tdmrep
        self.min_delay_s = min_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        # Robots must be readable even if include patterns would never match /robots.txt,
        # so only the host allow-list applies. Without a scope, the origin's own host is
        # allowed (the fetcher still performs its address checks).
        self.scope = scope.hosts_only() if scope is not None else None
        self.clock = clock
        self._entries: dict[str, RobotsEntry] = {}
        self._lock = threading.Lock()
        # One loader per origin at a time: concurrent workers wait for the first fetch instead of
        # each requesting robots.txt.
        self._origin_locks: dict[str, threading.Lock] = {}
        self.fetches = 0
        self.tdmrep_fetches = 0
        # Versions loaded since the last drain_files(): the crawl stores them before its pages.
        self._new_files: dict[str, PolicyFile] = {}
        self._seen_files: set[str] = set()

    def is_cached(self, url: str) -> bool:
        """True if rules for `url`'s origin are cached and fresh (no request would be made)."""
        origin = origin_of(url)
        with self._lock:
            entry = self._entries.get(origin) if origin else None
        return entry is not None and self.clock() - entry.fetched_at < self.ttl_seconds

    def entry(self, url: str) -> RobotsEntry:
        origin = origin_of(url)
        if origin is None:
            raise ValueError(f"not an absolute URL: {url!r}")
        with self._lock:
            entry = self._entries.get(origin)
        if entry is not None and self.clock() - entry.fetched_at < self.ttl_seconds:
            return entry
        with self._lock:
            origin_lock = self._origin_locks.setdefault(origin, threading.Lock())
        with origin_lock:
            with self._lock:
                entry = self._entries.get(origin)
            if entry is not None and self.clock() - entry.fetched_at < self.ttl_seconds:
                return entry  # loaded by another worker while we waited
            entry = self._load(origin)
            with self._lock:
                self._entries[origin] = entry
                for f in (entry.version, entry.tdmrep):
                    if f is not None and f.version_id not in self._seen_files:
                        self._seen_files.add(f.version_id)
                        self._new_files[f.version_id] = f
        return entry

    def drain_files(self) -> list[PolicyFile]:
        """robots.txt / tdmrep.json versions first seen since the last call (to store as evidence)."""
        with self._lock:
            files, self._new_files = list(self._new_files.values()), {}
        return files

    def allowed(self, url: str) -> bool:
        """Whether our user agent may fetch `url` according to its origin's robots.txt."""
        return self.entry(url).parser.allowed(self.token, url)

    def crawl_delay(self, host_or_url: str) -> float | None:
        """Crawl-delay (seconds) for our agent. Given a URL, uses its origin (fetching robots
        if needed); given a bare host, the largest delay among cached origins of that host."""
        if "://" in host_or_url:
            return self._delay(self.entry(host_or_url))
        host = host_or_url.lower()
        with self._lock:
            entries = [e for o, e in self._entries.items() if host_of(o) == host]
        delays = [d for d in (self._delay(e) for e in entries) if d is not None]
        return max(delays) if delays else None

    def _delay(self, entry: RobotsEntry) -> float | None:
        # Fractional delays ("0.5") are common in the wild and kept (the stdlib parser dropped them).
        return entry.parser.crawl_delay(self.token)

    def _load(self, origin: str) -> RobotsEntry:
        url = origin + ROBOTS_PATH
        scope = self.scope or CrawlScope(allowed_hosts=frozenset({host_of(origin) or ""}))
        self.fetches += 1
        res = self.fetcher.get(url, scope, check_content_type=False)
        now = self.clock()
        code = res.http_status
        body = None
        if res.status == KEPT:
            body = res.content or b""
            parser, outcome = RobotsTxt.parse(body), "parsed"
        elif res.reason in _REDIRECT_TROUBLE:
            parser, outcome = AllowAll(), f"allow_all:{res.reason}"
        elif code is not None and 400 <= code < 500 and code != 429:
            parser, outcome = AllowAll(), f"allow_all:http_{code}"
        else:
            parser, outcome = DisallowAll(), f"disallow_all:{res.reason}"
        version = PolicyFile.build(origin, ROBOTS_PATH, final_url=res.final_url, http_status=code, outcome=outcome,
                                   body=body, fetched_at=res.fetched_at)  # fmt: skip
        text = body.decode("utf-8", errors="replace") if body is not None else ""
        entry = RobotsEntry(parser, now, outcome, text, version)
        if self.tdmrep:
            entry.tdmrep = self._load_tdmrep(origin, scope, parser)
        return entry

    def _load_tdmrep(self, origin: str, scope: CrawlScope, parser: RobotsTxt) -> PolicyFile | None:
        """The origin's tdmrep.json, read like a page: only if robots.txt allows it, after the delay."""
        url = origin + TDMREP_PATH
        if not parser.allowed(self.token, url):
            return None  # robots refuses it (or robots.txt is unreachable): tdmrep stays unknown
        delay = max(self.min_delay_s, parser.crawl_delay(self.token) or 0.0)
        if delay > self.max_delay_s:
            return None
        if delay > 0:
            self.sleep(delay)  # the robots.txt request counts for politeness
        self.tdmrep_fetches += 1
        res = self.fetcher.get(url, scope, check_content_type=False)
        code = res.http_status
        body = None
        if res.status == KEPT:
            body = res.content or b""
            outcome = "fetched"
        elif code is not None and 400 <= code < 500 and code != 429:
            outcome = f"absent:http_{code}"
        else:
            outcome = f"unavailable:{res.reason}"
        return PolicyFile.build(origin, TDMREP_PATH, final_url=res.final_url, http_status=code, outcome=outcome,
                                body=body, fetched_at=res.fetched_at)  # fmt: skip


def crawl_delay_from_text(text: str, user_agent: str) -> float | None:
    """Crawl-delay (seconds, fractions allowed) of the groups that apply to `user_agent`'s product
    token (those naming it win over `*`)."""
    return RobotsTxt.parse(text).crawl_delay(product_token(user_agent))
