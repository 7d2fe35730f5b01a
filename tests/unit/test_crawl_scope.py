"""CrawlScope: exact host matching, regex include/exclude, depth."""

from __future__ import annotations

import pytest

from goldpan.crawl.scope import CrawlScope


def test_hosts_are_exact() -> None:
    scope = CrawlScope(allowed_hosts=frozenset({"Example.com"}))
    assert scope.allows("http://example.com/x")
    assert scope.allows("https://example.com:8443/x")  # host, not origin
    assert scope.why_not("http://evil.example.com/") == "host_not_allowed"
    assert scope.why_not("http://example.com.evil.net/") == "host_not_allowed"
    assert scope.why_not("not a url") == "invalid_url"


def test_patterns_and_depth() -> None:
    scope = CrawlScope(
        allowed_hosts=frozenset({"e.com"}),
        include_patterns=(r"/docs/",),
        exclude_patterns=(r"\.zip$", r"/docs/private"),
        max_depth=2,
    )
    assert scope.allows("http://e.com/docs/a", depth=2)
    assert scope.why_not("http://e.com/blog/a") == "not_included"
    assert scope.why_not("http://e.com/docs/a.zip") == "excluded_pattern"
    assert scope.why_not("http://e.com/docs/private/x") == "excluded_pattern"  # exclude wins
    assert scope.why_not("http://e.com/docs/a", depth=3) == "too_deep"
    assert scope.why_not("http://e.com/docs/a", depth=None) is None
    assert scope.hosts_only().allows("http://e.com/robots.txt")


def test_negative_depth_rejected() -> None:
    with pytest.raises(ValueError):
        CrawlScope(allowed_hosts=frozenset({"e.com"}), max_depth=-1)
