"""Incremental, resumable, polite crawling into a real Delta lake, against real HTTP servers on 127.0.0.1.

The site is a small tree of files served by `SampleSite` (ETag + Last-Modified, conditional GET,
per-path hit counts), so a test can change a page between two crawls and see exactly which
requests were made.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from goldpan.audit.takedowns import TakedownMatcher
from goldpan.crawl.batch import run_crawl
from goldpan.lake import Lake
from goldpan.lake.schemas import TAKEDOWNS
from goldpan.recipe import CrawlSection
from sample.server import SampleSite
from tests.fixtures.file_site import config, frontier, make_site, pages_of
from tests.fixtures.http_site import LocalServer

REPO = Path(__file__).resolve().parents[2]
def test_second_crawl_revisits_with_conditional_get_and_stores_only_unchanged(tmp_path):
    root = make_site(tmp_path / "site")
    lake = Lake(tmp_path / "lake")
    with SampleSite(root) as site:
        cfg = config(site.base_url)
        first = run_crawl(lake, cfg, "b1", "crawl:test").stats
        p1 = pages_of(lake, "b1")
        assert {k: (r["status"], r["reason"]) for k, r in p1.items()} == {
            "index.html": ("kept", None), "a.html": ("kept", None), "b.html": ("kept", None),
            "down.html": ("rejected", "http_503")}  # fmt: skip
        assert (first.new, first.unchanged) == (3, 0)
        f1 = frontier(lake)
        assert f1["a.html"]["etag"] and f1["a.html"]["last_modified"] and f1["a.html"]["content_sha1"]
        assert f1["a.html"]["state"] == "fetched" and f1["down.html"]["state"] == "failed"

        hits_before = dict(site.hits)
        second = run_crawl(lake, cfg, "b2", "crawl:test").stats
        p2 = pages_of(lake, "b2")
        for name in ("index.html", "a.html", "b.html"):
            r = p2[name]
            assert (r["status"], r["reason"], r["http_status"]) == ("rejected", "unchanged", 304), name
            assert r["content"] is None and r["content_sha1"] == p1[name]["content_sha1"]
            assert site.hits[f"/{name}"] == hits_before[f"/{name}"] + 1
        assert "down.html" not in p2  # failed once: backing off (retry_backoff_s 3600 s), not requested
        assert site.hits["/down.html"] == hits_before["/down.html"]
        assert (second.new, second.unchanged, second.kept) == (0, 3, 0)

        # a page changes and links to a new one: only those two are new content
        (root / "a.html").write_text("<html><body><p>Alpha, rewritten.</p><a href='c.html'>c</a></body></html>")
        (root / "c.html").write_text("<html><body><p>Gamma: a new page.</p></body></html>")
        run_crawl(lake, cfg, "b3", "crawl:test")
        p3 = pages_of(lake, "b3")
        assert {k: (r["status"], r["reason"]) for k, r in p3.items()} == {
            "index.html": ("rejected", "unchanged"), "a.html": ("kept", None), "b.html": ("rejected", "unchanged"),
            "c.html": ("kept", None)}  # fmt: skip
        f3 = frontier(lake)
        assert f3["a.html"]["content_sha1"] == p3["a.html"]["content_sha1"] != p1["a.html"]["content_sha1"]
        assert f3["c.html"]["depth"] == 2 and f3["c.html"]["discovered_from"].endswith("/a.html")
        assert f3["a.html"]["fetch_count"] == 3


def test_same_bytes_without_validators_are_unchanged(tmp_path):
    """A server that sends no ETag / Last-Modified: the content hash still recognises the page."""
    server = LocalServer()
    try:
        lake = Lake(tmp_path)
        cfg = config(server.base, seeds=[server.base + "/c"], max_depth=1)
        run_crawl(lake, cfg, "b1", "crawl:test")
        run_crawl(lake, cfg, "b2", "crawl:test")
        p2 = pages_of(lake, "b2")
        assert (p2["c"]["status"], p2["c"]["reason"], p2["c"]["http_status"]) == ("rejected", "unchanged", 200)
        assert p2["d"]["reason"] == "unchanged" and p2["c"]["content"] is None
    finally:
        server.close()


def _add_takedown(lake: Lake, kind: str, value: str, rid: str) -> None:
    lake.write("takedowns", pa.Table.from_pylist([{
        "request_id": rid, "kind": kind, "value": value, "reason": "test", "requested_by": "tests",
        "requested_at": datetime.now(UTC), "vacuum": False, "rows_deleted_json": None}], schema=TAKEDOWNS),
        TAKEDOWNS, mode="append")  # fmt: skip


def test_taken_down_urls_are_never_requested(tmp_path):
    root = make_site(tmp_path / "site")
    lake = Lake(tmp_path / "lake")
    with SampleSite(root) as site:
        _add_takedown(lake, "url", site.url("/b.html"), "td-7")
        matcher = TakedownMatcher.from_lake(lake)
        stats = run_crawl(lake, config(site.base_url), "b1", "crawl:test", takedowns=matcher.match).stats
        assert site.hits["/b.html"] == 0
        assert "b.html" not in pages_of(lake, "b1")
        f = frontier(lake)
        assert (f["b.html"]["state"], f["b.html"]["takedown_request_id"], f["b.html"]["next_fetch_at"]) == (
            "takedown", "td-7", None)  # fmt: skip
        assert stats.takedown_skipped == 1
        run_crawl(lake, config(site.base_url), "b2", "crawl:test", takedowns=matcher.match)
        assert site.hits["/b.html"] == 0 and "b.html" not in pages_of(lake, "b2")


_CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from goldpan.crawl.batch import run_crawl
    from goldpan.recipe import CrawlSection
    from goldpan.lake import Lake
    cfg = CrawlSection.model_validate({cfg!r})
    run_crawl(Lake({lake!r}), cfg, "b-crash", "crawl:test")
    print("finished", flush=True)
    """
)


def test_crawl_killed_mid_batch_resumes_without_refetching_what_is_stored(tmp_path):
    pages = {"index.html": " ".join(f'<a href="p{i}.html">{i}</a>' for i in range(12))}
    pages |= {f"p{i}.html": f"<p>Page {i} of the resume test, with its own text.</p>" for i in range(12)}
    root = make_site(tmp_path / "site", pages, headers="{}\n")
    lake_path = tmp_path / "lake"
    with SampleSite(root) as site:
        # slow and polite (0.3 s between requests), two rows per commit: killed mid-batch for sure
        cfg = config(site.base_url, per_host_delay_s=0.3, chunk_rows=2, concurrency=1).model_dump()
        child = subprocess.Popen([sys.executable, "-c", _CHILD.format(repo=str(REPO), cfg=cfg, lake=str(lake_path))],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        lake = Lake(lake_path)
        deadline = time.monotonic() + 60
        stored_before: dict[str, dict] = {}
        while time.monotonic() < deadline:
            if lake.exists("pages"):
                stored_before = pages_of(lake, "b-crash")
                if len(stored_before) >= 4:
                    break
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)  # a real crash: no cleanup, no final flush
        child.wait(timeout=10)
        stored_before = pages_of(lake, "b-crash")
        assert 4 <= len(stored_before) < 13, "the crawl must be killed mid-batch"
        assert b"finished" not in child.stdout.read()
        hits_at_kill = dict(site.hits)

        stats = run_crawl(lake, CrawlSection.model_validate(cfg), "b-crash", "crawl:test").stats
        after = pages_of(lake, "b-crash")
        assert set(after) == {"index.html", *(f"p{i}.html" for i in range(12))}
        urls = [r["url"] for r in lake.iter_rows("SELECT url FROM pages WHERE batch_id = 'b-crash'",
                                                  tables=["pages"])]  # fmt: skip
        assert len(urls) == len(set(urls)) == 13  # no page stored twice
        for name in stored_before:  # what was stored is never requested again
            assert site.hits[f"/{name}"] == hits_at_kill[f"/{name}"] == 1, name
        assert stats.resumed_rows == len(stored_before) and stats.fetched == 13 and stats.kept == 13
        f = frontier(lake)
        assert all(f[n]["last_batch_id"] == "b-crash" and f[n]["state"] == "fetched" for n in after)
        # a finished batch rerun is a no-op
        before = dict(site.hits)
        again = run_crawl(lake, CrawlSection.model_validate(cfg), "b-crash", "crawl:test").stats
        assert dict(site.hits) == before and again.fetched == 13


class _Concurrency:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.first_start = self.last_end = None  # when the slow pages were served (the crawl's other costs excluded)

    def route(self, h):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.first_start = self.first_start or time.monotonic()
        time.sleep(0.15)
        with self.lock:
            self.now -= 1
            self.last_end = time.monotonic()
        return 200, {"Content-Type": "text/html"}, b"<p>slow page</p>"


@pytest.mark.parametrize("per_host", [1, 3])
def test_per_host_concurrency_is_a_hard_limit(tmp_path, per_host):
    c = _Concurrency()
    index = " ".join(f'<a href="/s{i}">{i}</a>' for i in range(9)).encode()
    routes = {f"/s{i}": c.route for i in range(9)}
    routes["/"] = lambda h: (200, {"Content-Type": "text/html"}, index)
    routes["/robots.txt"] = lambda h: (404, {}, b"")
    server = LocalServer(routes)
    try:
        cfg = config(server.base, seeds=[server.base + "/"], concurrency=8, per_host_concurrency=per_host)
        stats = run_crawl(Lake(tmp_path), cfg, "b1", "crawl:test").stats
        assert stats.kept == 10
        assert c.peak == per_host
        if per_host == 3:  # the nine slow pages were served faster than one at a time
            assert c.last_end - c.first_start < 9 * 0.15
    finally:
        server.close()


def test_robots_crawl_delay_spaces_real_requests(tmp_path):
    """Crawl-delay from robots.txt is honoured with the real clock, even with idle workers."""
    times: list[float] = []

    def page(h):
        times.append(time.monotonic())
        return 200, {"Content-Type": "text/html"}, b'<a href="/x1">1</a><a href="/x2">2</a>'

    routes = {"/": page, "/x1": page, "/x2": page,
              "/robots.txt": lambda h: (200, {"Content-Type": "text/plain"}, b"User-agent: *\nCrawl-delay: 0.4\n")}
    server = LocalServer(routes)
    try:
        cfg = config(server.base, seeds=[server.base + "/"], concurrency=4, per_host_concurrency=4)
        run_crawl(Lake(tmp_path), cfg, "b1", "crawl:test")
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(times) == 3 and all(g >= 0.38 for g in gaps), gaps
    finally:
        server.close()


def test_batch_stats_are_json_and_balanced(tmp_path):
    root = make_site(tmp_path / "site")
    with SampleSite(root) as site:
        stats = run_crawl(Lake(tmp_path / "lake"), config(site.base_url), "b1", "crawl:test").stats
    d = json.loads(json.dumps(stats.as_dict()))
    assert d["fetched"] == d["kept"] + d["rejected"] + d["errored"] == 4


@pytest.mark.parametrize(
    ("text", "delay"),
    [
        ("User-agent: *\nCrawl-delay: 0.5\n", 0.5),  # fractions: ignored by urllib.robotparser
        ("User-agent: goldpan\nCrawl-delay: 2\n\nUser-agent: *\nCrawl-delay: 10\n", 2.0),
        ("User-agent: otherbot\nCrawl-delay: 9\n\nUser-agent: *\nDisallow: /x\n", None),
        ("User-agent: a\nUser-agent: *\nCrawl-delay: 3 # comment\n", 3.0),
        ("User-agent: *\nCrawl-delay: soon\n", None),
    ],
)
def test_crawl_delay_parsing(text, delay):
    from goldpan.crawl.robots import crawl_delay_from_text

    assert crawl_delay_from_text(text, "goldpan/0.1 (+https://example.org)") == delay


def test_redirect_into_a_taken_down_url_stops_before_requesting_it(tmp_path):
    routes = {
        "/": lambda h: (200, {"Content-Type": "text/html"}, b'<a href="/moved">moved</a>'),
        "/moved": lambda h: (301, {"Location": "/secret", "Content-Type": "text/html"}, b""),
        "/secret": lambda h: (200, {"Content-Type": "text/html"}, b"<p>must not be fetched</p>"),
        "/robots.txt": lambda h: (404, {}, b""),
    }
    server = LocalServer(routes)
    try:
        lake = Lake(tmp_path)
        _add_takedown(lake, "url", server.base + "/secret", "td-9")
        matcher = TakedownMatcher.from_lake(lake)
        run_crawl(lake, config(server.base, seeds=[server.base + "/"]), "b1", "crawl:test", takedowns=matcher.match)
        rows = pages_of(lake, "b1")
        assert (rows["moved"]["status"], rows["moved"]["reason"]) == ("rejected", "redirect_to_takedown")
        assert server.hits["/secret"] == 0 and "secret" not in rows
    finally:
        server.close()
