"""What a recipe's `crawl` section means to the crawler: its scope, URL normalisation, revisit policy,
request cap and fetcher, and the checks that need the crawler's own code.

The section (`goldpan.recipe.CrawlSection`) is the only crawl config model: pydantic checks types,
ranges and unknown keys when a recipe is read. What it cannot check without the crawler (a seed
outside the crawl scope, an address entry that is a host name) is checked here, by `check`, when a
crawl starts and (addresses) when the recipe is loaded. These are functions of the section so that
no second config class repeats its fields and defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

from goldpan.crawl.addresses import AddressPolicy, parse_connect_to, require_private_opt_in
from goldpan.crawl.fetcher import Fetcher
from goldpan.crawl.revisit import RevisitPolicy
from goldpan.crawl.scope import CrawlScope
from goldpan.crawl.urls import normalize_url
from goldpan.recipe import CrawlSection


class CrawlConfigError(ValueError):
    """A crawl section the crawler cannot use. A ValueError, like pydantic's, so callers catch one thing."""


def check_addresses(section: CrawlSection) -> None:
    """`allow_private` holds IP addresses or networks (never names) and `connect_to` HOST:PORT -> IP:PORT."""
    for key, parse in (("allow_private", AddressPolicy.from_entries), ("connect_to", parse_connect_to)):
        try:
            parse(getattr(section, key))
        except ValueError as exc:
            raise CrawlConfigError(f"crawl.{key}: {exc}") from None


def check(section: CrawlSection) -> None:
    """Raise CrawlConfigError naming the first problem pydantic cannot see: the addresses, and every
    seed an absolute http(s) URL inside the crawl scope."""
    check_addresses(section)
    within = scope(section)
    for seed in section.seeds:
        norm = normalize(section, seed)
        if norm is None:
            raise CrawlConfigError(f"seed {seed!r} is not an absolute http(s) URL")
        why = within.why_not(norm, 0)
        if why is not None:
            raise CrawlConfigError(f"seed {seed!r} is outside the crawl scope ({why})")


def normalize(section: CrawlSection, url: str | None, base: str | None = None) -> str | None:
    """The recipe's URL normalisation (its tracking-parameter list): one page, one frontier row."""
    return normalize_url(url, base, frozenset(section.strip_params))


def normalized_seeds(section: CrawlSection) -> list[str]:
    return list(dict.fromkeys(u for u in (normalize(section, s) for s in section.seeds) if u is not None))


def revisit_policy(section: CrawlSection) -> RevisitPolicy:
    return RevisitPolicy(section.revisit_interval_s, section.retry_backoff_s, section.max_retries,
                         section.revisit_gone_s, section.revisit_redirect_s)  # fmt: skip


def request_cap(section: CrawlSection) -> int:
    """HTTP requests one batch may make (`max_requests`, or 4 x max_pages when 0)."""
    return section.max_requests or 4 * section.max_pages


def scope(section: CrawlSection) -> CrawlScope:
    return CrawlScope(
        allowed_hosts=frozenset(section.allowed_hosts),
        include_patterns=tuple(section.include_patterns),
        exclude_patterns=tuple(section.exclude_patterns),
        max_depth=section.max_depth,
    )


def check_private_opt_in(section: CrawlSection, env: Mapping[str, str] | None = None) -> None:
    """Refuse to crawl with `allow_private` unless GOLDPAN_ALLOW_PRIVATE=1 (addresses module)."""
    require_private_opt_in(section.allow_private, env)


def make_fetcher(section: CrawlSection) -> Fetcher:
    """The section's HTTP client (after the private-address opt-in check)."""
    check_private_opt_in(section)
    return Fetcher(
        user_agent=section.user_agent,
        connect_timeout_s=section.connect_timeout_s,
        read_timeout_s=section.read_timeout_s,
        total_timeout_s=section.total_timeout_s,
        max_bytes=section.max_bytes,
        max_redirects=section.max_redirects,
        allowed_content_types=section.allowed_content_types,
        allow_private=frozenset(section.allow_private),
        connect_to=dict(section.connect_to),
        max_pools=max(64, section.concurrency * 2),
        pool_maxsize=max(4, section.per_host_concurrency),
    )
