"""Revisit policy arithmetic and the Delta-backed frontier store (real Delta tables in tmp)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from goldpan.crawl.frontier import FrontierEntry, FrontierStore, url_key
from goldpan.crawl.revisit import FAILED, FETCHED, GONE, REDIRECT, REJECTED_STATE, RevisitPolicy, is_transient
from goldpan.lake import Lake

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = RevisitPolicy(revisit_interval_s=86400, retry_backoff_s=600, max_retries=3)


@pytest.mark.parametrize(
    ("status", "reason", "http", "transient"),
    [
        ("error", "timeout", None, True),
        ("error", "connection_error", None, True),
        ("error", "address_not_allowed", None, False),  # waiting will not make it public
        ("rejected", "http_503", 503, True),
        ("rejected", "http_429", 429, True),
        ("rejected", "http_404", 404, False),
        ("rejected", "robots_disallowed", None, False),
        ("rejected", "robots_unavailable", None, True),
        ("rejected", "unchanged", 304, False),
        ("kept", None, 200, False),
    ],
)
def test_transient_outcomes(status, reason, http, transient):
    assert is_transient(status, reason, http) is transient


def test_success_and_unchanged_wait_a_full_interval_and_reset_failures():
    assert POLICY.outcome("kept", None, 200, 2, NOW) == (FETCHED, 0, NOW + timedelta(days=1))
    assert POLICY.outcome("rejected", "unchanged", 304, 1, NOW) == (FETCHED, 0, NOW + timedelta(days=1))
    assert POLICY.outcome("rejected", "http_403", 403, 0, NOW) == (REJECTED_STATE, 0, NOW + timedelta(days=1))


def test_gone_pages_back_off_and_redirects_wait_their_own_class():
    policy = RevisitPolicy(revisit_interval_s=0, revisit_gone_s=86400, revisit_redirect_s=7 * 86400)
    assert policy.outcome("rejected", "http_404", 404, 0, NOW) == (GONE, 1, NOW + timedelta(days=1))
    assert policy.outcome("rejected", "http_410", 410, 1, NOW) == (GONE, 2, NOW + timedelta(days=2))
    assert policy.outcome("rejected", "http_404", 404, 9, NOW)[2] == NOW + timedelta(days=16)  # capped doubling
    assert policy.outcome("kept", None, 200, 0, NOW, redirected=True) == (REDIRECT, 0, NOW + timedelta(days=7))
    # a redirect whose target is gone: the source is a redirect, the target (its own row) is gone
    assert policy.outcome("rejected", "http_404", 404, 0, NOW, redirected=True)[0] == REDIRECT


def test_failures_back_off_exponentially_then_wait_an_interval():
    waits = []
    failures = 0
    for _ in range(5):
        state, failures, nxt = POLICY.outcome("error", "timeout", None, failures, NOW)
        assert state == FAILED
        waits.append((nxt - NOW).total_seconds())
    assert waits == [600, 1200, 2400, 86400, 86400]
    assert failures == 5
    every_batch = RevisitPolicy(revisit_interval_s=0, retry_backoff_s=600, max_retries=3)
    assert [(every_batch.outcome("error", "timeout", None, f, NOW)[2] - NOW).total_seconds() for f in range(5)] == [
        600, 1200, 2400, 2400, 2400]  # revisiting every batch must not mean hammering a failing server


def test_conditional_headers_only_with_a_stored_hash():
    e = FrontierEntry("http://a.test/", "a.test", 0, 0, etag='"x"', last_modified="Sun, 01 Mar 2026 00:00:00 GMT")
    assert e.conditional_headers() == {}  # a 304 could not be trusted to mean "what we stored"
    e.content_sha1 = "ab" * 20
    assert e.conditional_headers() == {"If-None-Match": '"x"', "If-Modified-Since": "Sun, 01 Mar 2026 00:00:00 GMT"}


def _row(url: str, state: str = "queued", nxt: datetime | None = NOW, **kw) -> dict:
    base = {c: None for c in ("discovered_from", "last_fetched_at", "last_batch_id", "last_page_id", "last_status",
                              "last_reason", "last_http_status", "etag", "last_modified", "content_sha1",
                              "takedown_request_id")}  # fmt: skip
    base.update(url=url, host="a.test", depth=kw.pop("depth", 1), seq=kw.pop("seq", 0), state=state,
                first_seen_at=NOW, next_fetch_at=nxt, failure_count=0, fetch_count=0)  # fmt: skip
    base.update(kw)
    return base


def test_store_merge_updates_win_and_discoveries_never_reset(tmp_path):
    store = FrontierStore(Lake(tmp_path))
    assert store.load("b1", NOW).due == []
    store.merge([], [_row("http://a.test/1", seq=0), _row("http://a.test/2", seq=1)])
    # /1 fetched (update), /2 rediscovered (insert: ignored), /3 new
    fetched = _row("http://a.test/1", "fetched", NOW + timedelta(days=1), seq=0, etag='"e"', content_sha1="s",
                   last_batch_id="b1", fetch_count=1)  # fmt: skip
    store.merge([fetched], [_row("http://a.test/2", depth=9, seq=7), _row("http://a.test/3", seq=2)])
    rows = {r["url"]: r for r in Lake(tmp_path).iter_rows("SELECT * FROM crawl_frontier", tables=["crawl_frontier"])}
    assert set(rows) == {"http://a.test/1", "http://a.test/2", "http://a.test/3"}
    assert (rows["http://a.test/1"]["state"], rows["http://a.test/1"]["etag"]) == ("fetched", '"e"')
    assert (rows["http://a.test/2"]["depth"], rows["http://a.test/2"]["seq"]) == (1, 1)

    snap = store.load("b2", NOW + timedelta(hours=1))
    assert [e.url for e in snap.due] == ["http://a.test/2", "http://a.test/3"]  # /1 not due yet
    assert snap.next_seq == 3 and snap.total == 3 and url_key("http://a.test/1") in snap.known
    # seeds are due every batch; what this batch already decided is not (resume)
    assert next(e.url for e in store.load("b2", NOW, seeds=["http://a.test/1"]).due) == "http://a.test/1"
    assert "http://a.test/1" not in [e.url for e in store.load("b1", NOW, seeds=["http://a.test/1"]).due]
    assert "http://a.test/1" in [e.url for e in store.load("b1", NOW, include_batch=True).due]


def test_takedown_rows_are_never_due(tmp_path):
    store = FrontierStore(Lake(tmp_path))
    store.merge([], [_row("http://a.test/gone", "takedown", None, takedown_request_id="td-1")])
    assert store.load("b1", NOW, seeds=["http://a.test/gone"]).due == []
