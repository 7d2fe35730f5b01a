"""Fetcher, RobotsCache and BatchCrawler against a real local HTTP server on 127.0.0.1.

One ThreadingHTTPServer per "site" (robots.txt is per origin, so robots variants need their own
port). Nothing here talks to anything but 127.0.0.1: addresses like 10.0.0.1 are refused by the
fetcher before any connection, which is exactly what those tests assert.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any

import pyarrow as pa
import pytest

from goldpan.crawl.crawler import BatchCrawler, CrawlStats
from goldpan.crawl.fetcher import ROW_KEYS, Fetcher
from goldpan.crawl.robots import RobotsCache
from goldpan.crawl.scope import CrawlScope
from goldpan.lake.schemas import PAGES
from goldpan.recipe import CrawlSection
from tests.fixtures.http_site import BIG, GZ_HTML, SITE, LocalServer, Route, html_page, redirect_to

LOCAL = frozenset({"127.0.0.1"})
SCOPE = CrawlScope(allowed_hosts=LOCAL)

@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def make_server() -> Iterator[Callable[..., LocalServer]]:
    made: list[LocalServer] = []

    def make(routes: dict[str, Route] | None = None) -> LocalServer:
        made.append(LocalServer(routes))
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    # Timeouts generous enough for a loaded 2-core CI machine; /slow sleeps well past them.
    f = Fetcher(allow_private=LOCAL, read_timeout_s=2.0, connect_timeout_s=2.0, max_bytes=100_000)
    yield f
    f.close()


def _get(fetcher: Fetcher, url: str, scope: CrawlScope = SCOPE, **kw: Any) -> dict[str, Any]:
    return fetcher.fetch(url, batch_id="b1", depth=0, discovered_from=None, source="test", scope=scope, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- fetcher: happy path and row contract -----------------------------------------------------


def test_kept_row_matches_pages_schema(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/a#frag")
    assert tuple(row) == ROW_KEYS
    assert set(row) == set(PAGES.names)
    assert row["status"] == "kept" and row["reason"] is None
    assert row["url"] == row["final_url"] == server.base + "/a"
    assert row["host"] == "127.0.0.1" and row["http_status"] == 200
    assert row["content_type"] == "text/html" and row["charset_declared"] == "utf-8"
    assert row["content"] == SITE["/a"] and row["content_bytes"] == len(SITE["/a"])
    assert row["fetched_at"].utcoffset() == timedelta(0)
    assert row["elapsed_ms"] >= 0 and row["truncated"] is False
    pa.Table.from_pylist([row, _get(fetcher, server.base + "/404")], schema=PAGES)  # writable


def test_sends_user_agent_and_host(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/echo")
    assert row["content"] == f"host=127.0.0.1:{server.port} ua={fetcher.user_agent}".encode()
    assert fetcher.user_agent.startswith("goldpan/")


def test_headers_json_lowercase_without_cookies(server: LocalServer, fetcher: Fetcher) -> None:
    import json

    headers = json.loads(_get(fetcher, server.base + "/cookie")["headers_json"])
    assert headers["x-custom"] == "Yes" and "content-type" in headers
    assert "set-cookie" not in headers


def test_charset_declared(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/latin")
    assert (row["content_type"], row["charset_declared"]) == ("text/html", "iso-8859-1")


# -- fetcher: rejections ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason", "http_status"),
    [
        ("/404", "http_404", 404),
        ("/server-error", "http_503", 503),
        ("/pdf", "content_type:application/pdf", 200),
        ("/no-type", "content_type:missing", 200),
        ("/loop1", "redirect_loop", 302),
        ("/chain/1", "too_many_redirects", 301),
        ("/redirect-out", "redirect_out_of_scope", 301),
    ],
)
def test_rejections(server: LocalServer, fetcher: Fetcher, path: str, reason: str, http_status: int) -> None:
    row = _get(fetcher, server.base + path)
    assert (row["status"], row["reason"], row["http_status"]) == ("rejected", reason, http_status)
    assert row["content"] is None and row["content_sha1"] is None


def test_redirect_followed_and_limits(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/redirect-to-b")
    assert row["status"] == "kept"
    assert row["url"] == server.base + "/redirect-to-b" and row["final_url"] == server.base + "/b"
    before = server.hits["/chain/7"]
    _get(fetcher, server.base + "/chain/1")  # 5 redirects followed: /chain/1..6 requested
    assert server.hits["/chain/6"] >= 1 and server.hits["/chain/7"] == before
    row = _get(fetcher, server.base + "/loop1")
    assert row["final_url"] == server.base + "/loop1"


def test_redirect_to_already_fetched_is_not_downloaded(server: LocalServer, fetcher: Fetcher) -> None:
    before = server.hits["/b"]
    row = _get(fetcher, server.base + "/redirect-to-b", already_fetched={server.base + "/b"})
    assert (row["status"], row["reason"]) == ("rejected", "redirect_to_fetched")
    assert row["final_url"] == server.base + "/b" and row["content"] is None
    assert server.hits["/b"] == before


def test_host_not_allowed(make_server: Callable[..., LocalServer], fetcher: Fetcher) -> None:
    site = make_server()
    row = _get(fetcher, site.base + "/a", scope=CrawlScope(allowed_hosts=frozenset({"example.com"})))
    assert (row["status"], row["reason"]) == ("rejected", "host_not_allowed")
    assert site.hits["/a"] == 0
    row = _get(fetcher, "ftp://127.0.0.1/file")
    assert (row["status"], row["reason"]) == ("rejected", "scheme_not_allowed")


# -- fetcher: safety --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/",
    ],
)
def test_internal_addresses_refused_without_connecting(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_connection(*a: Any, **k: Any) -> None:
        raise AssertionError("must not open a connection")

    monkeypatch.setattr(Fetcher, "_pool", no_connection)
    scope = CrawlScope(
        allowed_hosts=frozenset(
            {
                "10.0.0.1",
                "169.254.169.254",
                "192.168.1.1",
                "0.0.0.0",
                "224.0.0.1",
                "::1",
                "::ffff:10.0.0.1",
                "fe80::1",
            }
        )
    )
    with Fetcher(allow_private=LOCAL) as f:
        row = _get(f, url, scope=scope)
    assert (row["status"], row["reason"]) == ("error", "address_not_allowed")


def test_loopback_needs_allow_private(make_server: Callable[..., LocalServer]) -> None:
    site = make_server()
    with Fetcher() as f:
        row = _get(f, site.base + "/a")
    assert (row["status"], row["reason"]) == ("error", "address_not_allowed")
    assert site.hits["/a"] == 0
    with Fetcher(allow_private={"127.0.0.1"}) as f:
        assert _get(f, site.base + "/a")["status"] == "kept"
    with Fetcher(allow_private={"127.0.0.0/8"}) as f:  # CIDR entries work too
        assert _get(f, site.base + "/a")["status"] == "kept"
    assert site.hits["/a"] == 2


def test_redirect_to_internal_address_refused(server: LocalServer) -> None:
    scope = CrawlScope(allowed_hosts=frozenset({"127.0.0.1", "10.0.0.1"}))
    with Fetcher(allow_private=LOCAL) as f:
        row = _get(f, server.base + "/redirect-internal", scope=scope)
    assert (row["status"], row["reason"]) == ("error", "address_not_allowed")
    assert row["final_url"] == "http://10.0.0.1/admin"


def test_dns_is_pinned_to_the_checked_address(server: LocalServer) -> None:
    """The name resolves once; we connect to that IP and send the name as Host."""
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return {"pinned.test": ["127.0.0.1"], "rebind.test": ["127.0.0.1", "10.0.0.1"]}[host]

    scope = CrawlScope(allowed_hosts=frozenset({"pinned.test", "rebind.test"}))
    with Fetcher(allow_private=LOCAL, resolver=resolver) as f:
        row = _get(f, f"http://pinned.test:{server.port}/echo", scope=scope)
        assert row["status"] == "kept"
        assert row["content"].startswith(f"host=pinned.test:{server.port} ".encode())
        # one address in the answer is internal -> the whole name is refused
        row = _get(f, f"http://rebind.test:{server.port}/echo", scope=scope)
        assert row["reason"] == "address_not_allowed"
        # the checked answer is reused for a minute: no lookup per request
        assert _get(f, f"http://pinned.test:{server.port}/echo?again", scope=scope)["status"] == "kept"
    assert calls == ["pinned.test", "rebind.test"]
    with pytest.raises(ValueError, match="addresses, not host names"):  # names are no opt-in (issue 20)
        Fetcher(allow_private={"rebind.test"}, resolver=resolver)
    with Fetcher(allow_private={"127.0.0.1", "10.0.0.0/8"}, resolver=resolver) as f:  # both addresses allowed
        assert _get(f, f"http://rebind.test:{server.port}/echo", scope=scope)["status"] == "kept"


# -- fetcher: errors and bounds ---------------------------------------------------------------


def test_read_timeout(server: LocalServer, fetcher: Fetcher) -> None:
    t0 = time.monotonic()
    row = _get(fetcher, server.base + "/slow")
    assert (row["status"], row["reason"]) == ("error", "timeout")
    assert time.monotonic() - t0 < 5.0  # read timeout 2 s, server sleeps 6 s
    assert row["content"] is None


def test_connection_refused() -> None:
    with Fetcher(allow_private=LOCAL, connect_timeout_s=0.5) as f:
        row = _get(f, f"http://127.0.0.1:{_free_port()}/")
    assert (row["status"], row["reason"]) == ("error", "connection_error")


def test_truncation(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/big")
    assert (row["status"], row["reason"], row["truncated"]) == ("kept", None, True)
    assert row["content_bytes"] == 100_000 == len(row["content"])
    assert row["content"] == BIG[:100_000]
    assert _get(fetcher, server.base + "/a")["status"] == "kept"  # pool still usable


def test_gzip_decoded(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/gzip")
    assert row["content"] == GZ_HTML and row["truncated"] is False
    assert "gzip" in row["headers_json"]


def test_gzip_bomb_bounded(server: LocalServer, fetcher: Fetcher) -> None:
    row = _get(fetcher, server.base + "/bomb")
    assert (row["status"], row["truncated"], row["content_bytes"]) == ("kept", True, 100_000)


# -- robots -----------------------------------------------------------------------------------


def test_robots_rules_and_crawl_delay(server: LocalServer, fetcher: Fetcher) -> None:
    robots = RobotsCache(fetcher, fetcher.user_agent, scope=SCOPE)
    assert robots.allowed(server.base + "/a")
    assert not robots.allowed(server.base + "/private/secret")
    assert robots.crawl_delay(server.base + "/") == 1.0
    assert robots.crawl_delay("127.0.0.1") == 1.0
    assert robots.fetches == 1  # cached per origin


def test_robots_404_allows_all_and_5xx_disallows(
    make_server: Callable[..., LocalServer], fetcher: Fetcher
) -> None:
    missing = make_server({"/robots.txt": lambda h: (404, {}, b"")})
    broken = make_server({"/robots.txt": lambda h: (500, {}, b"oops")})
    robots = RobotsCache(fetcher, fetcher.user_agent, scope=SCOPE)
    assert robots.allowed(missing.base + "/private/x")
    assert robots.crawl_delay(missing.base + "/") is None
    assert not robots.allowed(broken.base + "/a")
    assert not robots.allowed(f"http://127.0.0.1:{_free_port()}/a")  # unreachable: conservative
    assert robots.entry(missing.base + "/").outcome == "allow_all:http_404"
    assert robots.entry(broken.base + "/").outcome == "disallow_all:http_500"


def test_robots_ttl(make_server: Callable[..., LocalServer], fetcher: Fetcher) -> None:
    site = make_server()
    now = [0.0]
    robots = RobotsCache(fetcher, fetcher.user_agent, ttl_seconds=10, scope=SCOPE, clock=lambda: now[0])
    robots.allowed(site.base + "/a")
    now[0] = 5.0
    robots.allowed(site.base + "/a")
    assert site.hits["/robots.txt"] == 1
    now[0] = 11.0
    assert not robots.is_cached(site.base + "/a")
    robots.allowed(site.base + "/a")
    assert site.hits["/robots.txt"] == 2


# -- crawler end to end -----------------------------------------------------------------------


def _config(base: str, **kw: Any) -> CrawlSection:
    return CrawlSection.model_validate(
        {"seeds": [base + "/"], "allowed_hosts": ["127.0.0.1"], "allow_private": ["127.0.0.1"],
         "max_depth": 3, "read_timeout_s": 2.0, "per_host_delay_s": 0.0, **kw}
    )  # fmt: skip


class FakeTime:
    """Clock that only moves when the crawler sleeps, so politeness is checked without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def _crawl(cfg: CrawlSection, **kw: Any) -> tuple[list[dict[str, Any]], CrawlStats, FakeTime]:
    t = FakeTime()
    stats = CrawlStats()
    rows = list(BatchCrawler(cfg, "batch-1", "crawl:test", stats=stats, sleep=t.sleep, clock=t.clock, **kw).run())
    return rows, stats, t


def test_crawl_bfs_end_to_end(make_server: Callable[..., LocalServer]) -> None:
    site = make_server()
    b = site.base
    seen_progress: list[str] = []
    rows, stats, t = _crawl(_config(b), progress=lambda s, row: seen_progress.append(row["url"]))

    outcome = [(r["url"].removeprefix(b), r["depth"], r["status"], r["reason"]) for r in rows]
    assert outcome == [
        ("/", 0, "kept", None),
        ("/a", 1, "kept", None),
        # decided from the cached robots.txt while /b is in flight: no request, no politeness wait
        ("/private/secret", 1, "rejected", "robots_disallowed"),
        ("/b", 1, "kept", None),
        ("/pdf", 1, "rejected", "content_type:application/pdf"),
        ("/404", 1, "rejected", "http_404"),
        ("/c", 2, "kept", None),
        ("/redirect-to-b", 2, "rejected", "redirect_to_fetched"),
        ("/d", 3, "kept", None),
    ]
    by_url = {r["url"].removeprefix(b): r for r in rows}
    assert by_url["/a"]["discovered_from"] == b + "/"
    assert by_url["/redirect-to-b"]["final_url"] == b + "/b"
    assert by_url["/private/secret"]["http_status"] is None
    # each page requested once; robots-disallowed and too-deep pages never requested
    assert site.hits["/a"] == site.hits["/b"] == site.hits["/robots.txt"] == 1
    assert site.hits["/private/secret"] == site.hits["/e"] == 0
    assert len({r["page_id"] for r in rows}) == len(rows)
    assert seen_progress == [r["url"] for r in rows]

    assert (stats.fetched, stats.kept, stats.rejected, stats.errored) == (9, 5, 4, 0)
    assert (stats.requests, stats.robots_blocked, stats.robots_fetches) == (8, 1, 1)
    assert (stats.skipped_out_of_scope, stats.skipped_too_deep) == (1, 1)  # other.example, /e
    assert stats.bytes == sum(r["content_bytes"] for r in rows if r["status"] == "kept")
    # Crawl-delay: 1 from robots.txt spaces every request, including after the robots fetch
    # (and the origin's /.well-known/tdmrep.json, read right after robots.txt, gets its own wait)
    assert site.hits["/.well-known/tdmrep.json"] == 1
    assert t.sleeps == [pytest.approx(1.0)] * (stats.requests + 1)
    pa.Table.from_pylist(rows, schema=PAGES)

    # deterministic: a rerun gives the same page set in the same order
    rows2, _, _ = _crawl(_config(b))
    assert [r["page_id"] for r in rows2] == [r["page_id"] for r in rows]


def test_crawl_limits(make_server: Callable[..., LocalServer]) -> None:
    site = make_server()
    rows, stats, _ = _crawl(_config(site.base, max_pages=3))
    assert len(rows) == 3 and stats.frontier_left > 0
    rows, stats, _ = _crawl(_config(site.base, max_depth=0))
    assert [r["url"] for r in rows] == [site.base + "/"]
    assert stats.skipped_too_deep >= 1
    rows, _, _ = _crawl(_config(site.base, exclude_patterns=["/pdf$", "/404"]))
    assert not any(r["url"].endswith(("/pdf", "/404")) for r in rows)


def test_crawl_delay_policy(make_server: Callable[..., LocalServer]) -> None:
    site = make_server({"/robots.txt": lambda h: (404, {}, b"")})
    _, stats, t = _crawl(_config(site.base, per_host_delay_s=0.25))
    assert stats.robots_blocked == 0
    assert t.sleeps and all(s == pytest.approx(0.25) for s in t.sleeps)
    slow = make_server()  # robots says Crawl-delay: 1
    rows, stats, _ = _crawl(_config(slow.base, max_crawl_delay_s=0.5))
    assert [(r["status"], r["reason"]) for r in rows] == [("rejected", "crawl_delay_too_long")]
    assert slow.hits["/"] == 0


def test_crawl_with_unreadable_robots_fetches_nothing(make_server: Callable[..., LocalServer]) -> None:
    site = make_server({"/robots.txt": lambda h: (503, {}, b"busy")})
    rows, stats, _ = _crawl(_config(site.base))
    assert [(r["status"], r["reason"]) for r in rows] == [("rejected", "robots_unavailable")]
    assert (stats.robots_blocked, stats.requests, site.hits["/"]) == (1, 0, 0)


def test_bodiless_answers_keep_the_connection(make_server: Callable[..., LocalServer], fetcher: Fetcher) -> None:
    """304s, 404s, redirects and refused content types do not cost a new TCP connection each:
    a recrawl answered by 304s used to open one connection per URL (on both sides)."""
    etag = '"v1"'

    def validated(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if h.headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return html_page("<p>Grüße aus dem Archiv, 来自档案馆的问候</p>".encode(), ETag=etag)

    srv = make_server({"/page": validated, "/moved": lambda h: redirect_to("/page", 302),
                       "/pdf": lambda h: html_page(b"%PDF-1.4 small", "application/pdf")})  # fmt: skip
    first = _get(fetcher, srv.base + "/page")
    assert first["status"] == "kept"
    rows = [_get(fetcher, srv.base + "/page", conditional={"If-None-Match": etag}) for _ in range(3)]
    rows += [_get(fetcher, srv.base + p) for p in ("/missing", "/moved", "/pdf")]
    assert [r["reason"] for r in rows] == ["unchanged"] * 3 + ["http_404", None, "content_type:application/pdf"]
    assert srv.hits["/page"] == 5 and len(srv.connections) == 1
