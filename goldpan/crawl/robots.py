"""robots.txt, fetched once per origin and cached.

Policy (RFC 9309 plus one deliberate deviation towards caution):

* 2xx: parse it with the stdlib `urllib.robotparser`.
* 4xx (robots.txt "unavailable", e.g. 404/403/410): allow everything, as RFC 9309 says.
  Redirect problems (out-of-scope target, loops, too many hops) are treated the same way,
  which the RFC also permits.
* 429, 5xx and any network error (timeout, refused connection, DNS failure, refused address):
  disallow everything on that origin *for this run*. The RFC suggests this for 5xx; we extend
  it to transport errors because a server we cannot reach reliably is not one we should be
  hammering with page requests either. The entry still expires after `ttl_seconds`.

The cache key is the origin (scheme://host[:port]) because that is what a robots.txt governs;
`http://x/` and `https://x/` can legitimately have different files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

from goldpan.crawl.fetcher import Fetcher
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
    """Parsed rules of one origin plus how we got them (for stats and debugging)."""

    parser: RobotFileParser
    fetched_at: float
    outcome: str  # "parsed" | "allow_all:<reason>" | "disallow_all:<reason>"
    text: str = ""


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
    ) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.ttl_seconds = ttl_seconds
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
        return entry

    def allowed(self, url: str) -> bool:
        """Whether our user agent may fetch `url` according to its origin's robots.txt."""
        return self.entry(url).parser.can_fetch(self.user_agent, url)

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
        # The stdlib parser only accepts integer Crawl-delay values ("0.5" is silently ignored),
        # while fractional delays are common in the wild: parse the value ourselves.
        if entry.text:
            return crawl_delay_from_text(entry.text, self.user_agent)
        try:
            delay = entry.parser.crawl_delay(self.user_agent)
        except (TypeError, ValueError):
            return None
        return float(delay) if delay is not None else None


    def _load(self, origin: str) -> RobotsEntry:
        url = origin + "/robots.txt"
        scope = self.scope or CrawlScope(allowed_hosts=frozenset({host_of(origin) or ""}))
        self.fetches += 1
        res = self.fetcher.get(url, scope, check_content_type=False)
        parser = RobotFileParser(url)
        now = self.clock()
        if res.status == KEPT:
            text = (res.content or b"").decode("utf-8", errors="replace")
            parser.parse(text.splitlines())
            return RobotsEntry(parser, now, "parsed", text)
        code = res.http_status
        if res.reason in _REDIRECT_TROUBLE:
            parser.allow_all = True
            return RobotsEntry(parser, now, f"allow_all:{res.reason}")
        if code is not None and 400 <= code < 500 and code != 429:
            parser.allow_all = True
            return RobotsEntry(parser, now, f"allow_all:http_{code}")
        parser.disallow_all = True
        return RobotsEntry(parser, now, f"disallow_all:{res.reason}")


def crawl_delay_from_text(text: str, user_agent: str) -> float | None:
    """Crawl-delay (seconds, fractions allowed) of the group that applies to `user_agent`: the
    group naming our product token (the UA up to the first "/" or space) wins over `*`."""
    token = user_agent.split("/", 1)[0].split()[0].lower() if user_agent.strip() else ""
    groups: dict[str, float] = {}
    agents: list[str] = []
    in_rules = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            continue
        in_rules = True
        if key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0:
                for a in agents:
                    groups.setdefault(a, delay)
    for agent, delay in groups.items():
        if agent != "*" and token and agent in token:
            return delay
    return groups.get("*")
