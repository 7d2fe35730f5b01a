"""What a crawl is allowed to touch.

The scope is the crawler's contract with the operator: hosts are matched exactly (no implicit
subdomains, so `example.com` does not let the crawl wander into `evil.example.com`), and
include/exclude regexes narrow further. `why_not` returns a reason string rather than a bare
bool so that skipped URLs can be counted and reported by cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from goldpan.crawl.urls import host_of

HOST_NOT_ALLOWED = "host_not_allowed"
EXCLUDED_PATTERN = "excluded_pattern"
NOT_INCLUDED = "not_included"
TOO_DEEP = "too_deep"
INVALID_URL = "invalid_url"


def _compile(patterns: Iterable[str | re.Pattern[str]]) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        out.append(p if isinstance(p, re.Pattern) else re.compile(p))
    return tuple(out)


@dataclass(frozen=True)
class CrawlScope:
    """Allowed hosts plus optional URL regexes (searched, not anchored) and a depth limit.

    A URL is in scope when its host is allowed, it matches no exclude pattern and, if any
    include patterns are given, at least one of them. Excludes win over includes so an
    operator can always carve something out.
    """

    allowed_hosts: frozenset[str]
    include_patterns: tuple[str | re.Pattern[str], ...] = ()
    exclude_patterns: tuple[str | re.Pattern[str], ...] = ()
    max_depth: int = 3
    _include: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _exclude: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "allowed_hosts", frozenset(h.lower().rstrip(".") for h in self.allowed_hosts)
        )
        object.__setattr__(self, "include_patterns", tuple(self.include_patterns))
        object.__setattr__(self, "exclude_patterns", tuple(self.exclude_patterns))
        object.__setattr__(self, "_include", _compile(self.include_patterns))
        object.__setattr__(self, "_exclude", _compile(self.exclude_patterns))
        if self.max_depth < 0:
            raise ValueError(f"max_depth must be >= 0, got {self.max_depth}")

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.lower().rstrip(".") in self.allowed_hosts

    def why_not(self, url: str, depth: int | None = None) -> str | None:
        """Reason `url` is out of scope, or None if it is in scope.

        `depth=None` skips the depth check: redirect hops and robots.txt are not "deeper"
        pages, they are part of fetching the page that was already admitted.
        """
        host = host_of(url)
        if host is None:
            return INVALID_URL
        if not self.host_allowed(host):
            return HOST_NOT_ALLOWED
        if any(p.search(url) for p in self._exclude):
            return EXCLUDED_PATTERN
        if self._include and not any(p.search(url) for p in self._include):
            return NOT_INCLUDED
        if depth is not None and depth > self.max_depth:
            return TOO_DEEP
        return None

    def allows(self, url: str, depth: int | None = None) -> bool:
        return self.why_not(url, depth) is None

    def hosts_only(self) -> CrawlScope:
        """Same hosts, no patterns: used for robots.txt, which must be readable even when an
        include pattern would never match `/robots.txt`."""
        return CrawlScope(allowed_hosts=self.allowed_hosts, max_depth=self.max_depth)
