"""Takedown matching: the one function crawler, mixer and audit commands agree on."""

import pytest

from goldpan.audit.takedowns import Takedown, TakedownError, TakedownMatcher, canonical_value
from goldpan.lake import Lake
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import TAKEDOWNS


def _matcher():
    return TakedownMatcher.from_requests(
        [
            Takedown("r1", "url", "HTTP://Example.com:80/private/page.html#top"),
            Takedown("r2", "domain", "blog.example.org"),
            Takedown("r3", "pattern", "https://news.example.net/2024/*"),
        ]
    )


def test_url_takedown_matches_every_spelling_of_the_same_page():
    m = _matcher()
    assert m.match("http://example.com/private/page.html") == "r1"
    assert m.match("http://EXAMPLE.com/private/./page.html?utm_source=x") == "r1"
    assert m.match("http://example.com/private/other.html") is None


def test_domain_takedown_covers_subdomains_but_not_lookalikes():
    m = _matcher()
    assert m.match("https://blog.example.org/post/1") == "r2"
    assert m.match("https://cn.blog.example.org/文章") == "r2"
    assert m.match("https://example.org/") is None
    assert m.match("https://evilblog.example.org/") is None


def test_pattern_takedown_is_a_glob_over_the_normalised_url():
    m = _matcher()
    assert m.match("https://news.example.net/2024/05/story") == "r3"
    assert m.match("https://news.example.net/2025/05/story") is None


@pytest.mark.parametrize("kind,value", [("url", "mailto:a@b.c"), ("domain", ""), ("site", "x"), ("domain", "a/b")])
def test_bad_requests_are_refused_with_a_reason(kind, value):
    with pytest.raises(TakedownError):
        canonical_value(kind, value)


def test_matcher_reads_the_lake_and_is_empty_without_a_table(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    assert not TakedownMatcher.from_lake(lake)
    rows = [{"request_id": "r9", "kind": "domain", "value": "example.com", "reason": "owner request",
             "requested_by": "legal", "requested_at": None, "vacuum": False, "rows_deleted_json": "{}"}]
    lake.write("takedowns", rows_to_batches(rows, TAKEDOWNS), TAKEDOWNS, mode="append")
    assert TakedownMatcher.from_lake(lake).match("https://www.example.com/a") == "r9"
