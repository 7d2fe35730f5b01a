"""Crawling real sites (issue 14), against real HTTP servers on 127.0.0.1 and a real Delta lake:
huge link pages, sitemaps, revisit classes, redirect chains, truncation downstream, clean stops
and cap semantics."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from goldpan.crawl.batch import run_crawl
from goldpan.crawl.crawler import BatchCrawler, CrawlStats
from goldpan.crawl.links import LinkBudgetExceeded, extract_links
from goldpan.crawl.sitemaps import inflate, parse_sitemap, robots_sitemaps
from goldpan.lake import Lake
from goldpan.recipe import CrawlSection
from sample.server import SampleSite
from tests.fixtures.file_site import config, frontier, make_site, pages_of

REPO = Path(__file__).resolve().parents[2]
EN = "<p>The river walk passes the old mill, the ferry and the harbour market.</p>"
ZH = "<p>河边小路经过老磨坊、渡口和港口市场，傍晚的灯笼照亮了广场。</p>"


def _hits(site: SampleSite, path: str) -> int:
    return site.hits.get(path, 0)


# -- link discovery ----------------------------------------------------------------------------


def _link_page(n: int) -> bytes:
    links = "".join(f'<li><a href="/p/{i}.html#sec">Seite {i} 第{i}页</a></li>' for i in range(n))
    return f"<html><head><meta charset='utf-8'></head><body>{ZH}<ul>{links}</ul></body></html>".encode()


def test_twenty_thousand_links_are_all_found_in_order_and_a_cpu_budget_stops_a_slow_page() -> None:
    links = extract_links(_link_page(20_000), "http://h.test/index.html")
    assert len(links) == 20_000
    assert links[:2] == ["http://h.test/p/0.html", "http://h.test/p/1.html"] and links[-1].endswith("/19999.html")
    with pytest.raises(LinkBudgetExceeded):
        extract_links(_link_page(20_000), "http://h.test/", cpu_budget_s=1e-9)


def test_base_href_later_in_the_page_and_xhtml_declaration() -> None:
    page = (b'<?xml version="1.0" encoding="utf-8"?><html><body><a href="x">x</a>'
            b'<base href="http://h.test/sub/"><a href="/abs">y</a></body></html>')  # fmt: skip
    assert extract_links(page, "http://h.test/a/b") == ["http://h.test/sub/x", "http://h.test/abs"]


def test_crawl_of_a_page_with_20000_links_discovers_them_all(tmp_path: Path) -> None:
    pages = {"index.html": _link_page(20_000).decode()[len("<html><head><meta charset='utf-8'></head><body>"):]}
    pages |= {f"p/{i}.html": EN for i in range(3)}
    root = make_site(tmp_path / "site", {k.replace("p/", ""): v for k, v in pages.items()}, headers="{}\n")
    (root / "p").mkdir()
    for i in range(3):
        (root / f"{i}.html").rename(root / "p" / f"{i}.html")
    lake = Lake(tmp_path / "lake")
    with SampleSite(root) as site:
        t0 = time.monotonic()
        stats = run_crawl(lake, config(site.base_url, max_pages=4), "b1", "crawl:test").stats
        assert time.monotonic() - t0 < 120  # generous: the old extractor needed hours for this page
    assert stats.discovered == 20_000 and stats.stored == 4
    assert len(frontier(lake)) == 20_001


# -- sitemaps -----------------------------------------------------------------------------------


def _urlset(base: str, items: list[tuple[str, str | None]]) -> str:
    body = "".join(f"<url><loc>{base}{u}</loc>" + (f"<lastmod>{m}</lastmod>" if m else "") + "</url>"
                   for u, m in items)  # fmt: skip
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'


def test_sitemaps_from_robots_and_an_index_with_a_gzipped_child(tmp_path: Path) -> None:
    pages = {"index.html": '<a href="a.html">a</a>', "a.html": EN, "orphan1.html": EN, "orphan2.html": ZH,
             "secret.html": EN, "old.html": EN}  # fmt: skip
    root = make_site(tmp_path / "site", pages, headers="{}\n")
    lake = Lake(tmp_path / "lake")
    with SampleSite(root) as site:
        base = site.base_url
        (root / "robots.txt").write_text(f"User-agent: *\nDisallow: /secret.html\nSitemap: {base}/sitemap_index.xml\n")
        (root / "sitemap_index.xml").write_text(
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/sm1.xml</loc></sitemap><sitemap><loc>{base}/sm2.xml.gz</loc></sitemap>"
            "</sitemapindex>")  # fmt: skip
        (root / "sm1.xml").write_text(_urlset(base, [("/orphan1.html", "2020-01-01"), ("/old.html", "2001-01-01"),
                                                     ("/secret.html", None)]) )  # fmt: skip
        (root / "sm2.xml.gz").write_bytes(gzip.compress(_urlset(base, [
            ("/orphan2.html", "2024-05-01T10:00:00+02:00")]).encode() + b""))  # fmt: skip
        # an out-of-scope URL in a sitemap is never requested
        (root / "sm1.xml").write_text((root / "sm1.xml").read_text().replace(
            "</urlset>", "<url><loc>http://elsewhere.test/x.html</loc></url></urlset>"))  # fmt: skip
        cfg = config(base)
        s1 = run_crawl(lake, cfg, "b1", "crawl:test").stats
        p1 = pages_of(lake, "b1")
        assert s1.sitemaps_read == 3 and s1.sitemap_urls == 5
        assert p1["orphan1.html"]["status"] == "kept" and p1["orphan2.html"]["status"] == "kept"
        assert p1["secret.html"]["reason"] == "robots_disallowed" and _hits(site, "/secret.html") == 0
        assert p1["orphan1.html"]["discovered_from"] == f"{base}/sm1.xml"
        # newest <lastmod> first among the sitemap's URLs (same depth)
        order = [r["url"] for r in lake.iter_rows("SELECT url FROM pages WHERE batch_id='b1' AND depth=1 "
                                                   "ORDER BY fetched_at", tables=["pages"])]  # fmt: skip
        assert order.index(f"{base}/orphan2.html") < order.index(f"{base}/orphan1.html") < order.index(
            f"{base}/old.html")
        assert "elsewhere.test" not in json.dumps(list(frontier(lake)))
        # next batch: a page whose <lastmod> predates our fetch is not revisited
        old_hits = _hits(site, "/old.html")
        s2 = run_crawl(lake, cfg, "b2", "crawl:test").stats
        assert _hits(site, "/old.html") == old_hits and s2.sitemap_skipped_unchanged >= 1
        assert "old.html" not in pages_of(lake, "b2")


def test_sitemap_xml_on_request_and_hostile_sitemaps_are_bounded() -> None:
    assert robots_sitemaps("User-agent: *\nsitemap: http://h/a.xml # c\nSITEMAP:http://h/b.xml\n") == [
        "http://h/a.xml", "http://h/b.xml"]  # fmt: skip
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    data, cut = inflate(bomb, 64_000)
    assert cut and len(data) == 64_000
    laughs = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<urlset><url><loc>http://h/&b;</loc></url></urlset>')  # fmt: skip
    kind, entries = parse_sitemap(laughs)
    assert kind == "urlset" and all(len(loc) < 40 for loc, _ in entries)
    with pytest.raises(ValueError):
        parse_sitemap(b"<html><body>not a sitemap</body></html>")


def test_recipe_asks_for_sitemap_xml(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {"index.html": "<p>home</p>", "hidden.html": ZH}, headers="{}\n")
    with SampleSite(root) as site:
        (root / "sitemap.xml").write_text(_urlset(site.base_url, [("/hidden.html", None)]))
        without = [r["url"] for r in BatchCrawler(config(site.base_url), "b", "crawl:test").run()]
        with_sm = [r["url"] for r in BatchCrawler(config(site.base_url, sitemap_xml=True), "b", "crawl:test").run()]
        hidden = f"{site.base_url}/hidden.html"
    assert hidden not in without and hidden in with_sm


# -- revisits and redirects -----------------------------------------------------------------------


REDIRECTS = """\
/chain/1:
  status: 301
  Location: /chain/2
/chain/2:
  status: 302
  Location: /final.html
/to-missing:
  status: 301
  Location: /missing-target.html
"""


def test_404_backs_off_and_redirect_chains_are_stored_hop_by_hop_and_not_refetched(tmp_path: Path) -> None:
    pages = {"index.html": '<a href="chain/1">c1</a> <a href="missing.html">m</a> <a href="to-missing">t</a> '
                           '<a href="chain/2">c2</a>', "final.html": EN}  # fmt: skip
    root = make_site(tmp_path / "site", pages, headers=REDIRECTS)
    lake = Lake(tmp_path / "lake")
    with SampleSite(root) as site:
        base = site.base_url
        cfg = config(base)
        run_crawl(lake, cfg, "b1", "crawl:test")
        rows = {r["url"][len(base):]: r for r in lake.iter_rows("SELECT * FROM pages WHERE batch_id='b1'",
                                                                 tables=["pages"])}  # fmt: skip
        chain = json.loads(rows["/chain/1"]["redirect_chain_json"])
        assert chain == [{"url": f"{base}/chain/1", "status": 301}, {"url": f"{base}/chain/2", "status": 302},
                         {"url": f"{base}/final.html", "status": 200}]  # fmt: skip
        assert "/chain/2" not in rows and "/final.html" not in rows  # hops are not rows of their own
        assert _hits(site, "/chain/2") == 1 and _hits(site, "/final.html") == 1
        f = {u[len(base):]: r for u, r in
             ((r["url"], r) for r in lake.iter_rows("SELECT * FROM crawl_frontier", tables=["crawl_frontier"]))}
        assert f["/chain/1"]["state"] == "redirect" and f["/chain/1"]["redirect_to"] == f"{base}/chain/2"
        assert f["/chain/2"]["state"] == "redirect" and f["/chain/2"]["redirect_to"] == f"{base}/final.html"
        assert f["/final.html"]["state"] == "fetched"
        assert f["/missing.html"]["state"] == "gone" and f["/missing-target.html"]["state"] == "gone"
        before = dict(site.hits)
        s2 = run_crawl(lake, cfg, "b2", "crawl:test").stats  # revisit_interval_s=0: pages are due again
        for path in ("/missing.html", "/chain/1", "/chain/2", "/to-missing", "/missing-target.html"):
            assert site.hits.get(path, 0) == before.get(path, 0), path
        assert _hits(site, "/final.html") == before["/final.html"] + 1  # the page itself is revisited
        assert s2.unchanged >= 2 and s2.new == 0


# -- caps -----------------------------------------------------------------------------------------


def test_max_pages_counts_stored_pages_and_max_requests_counts_requests(tmp_path: Path) -> None:
    links = " ".join(f'<a href="gone{i}.html">g</a>' for i in range(5))
    links += ' <a href="private.html">p</a> ' + " ".join(f'<a href="p{i}.html">p</a>' for i in range(6))
    pages = {"index.html": links, **{f"p{i}.html": EN for i in range(6)}, "private.html": EN}
    root = make_site(tmp_path / "site", pages, headers="{}\n")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private.html\n")
    with SampleSite(root) as site:
        stats = CrawlStats()
        rows = list(BatchCrawler(config(site.base_url, max_pages=4), "b", "crawl:test", stats=stats).run())
        assert stats.stored == 4 and sum(r["status"] == "kept" for r in rows) == 4
        assert sum(r["reason"] == "http_404" for r in rows) == 5 and stats.robots_blocked == 1
        capped = CrawlStats()
        list(BatchCrawler(config(site.base_url, max_pages=100, max_requests=3), "b", "crawl:test", stats=capped).run())
        assert capped.requests == 3


# -- truncation downstream ------------------------------------------------------------------------


def test_truncated_page_is_rejected_downstream_unless_the_recipe_keeps_it(tmp_path: Path) -> None:
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_documents
    from goldpan.recipe import ExtractSection

    long_text = "".join(f"<p>{EN[3:-4]} {i}</p><p>{ZH[3:-4]}</p>" for i in range(200))
    root = make_site(tmp_path / "site", {"index.html": '<a href="big.html">big</a>', "big.html": long_text},
                     headers="{}\n")  # fmt: skip
    lake = Lake(tmp_path / "lake")
    with SampleSite(root) as site:
        run_crawl(lake, config(site.base_url, max_bytes=4096), "b1", "crawl:test")
    pages = list(lake.iter_rows("SELECT * FROM pages WHERE batch_id='b1' AND status='kept' ORDER BY url",
                                tables=["pages"]))  # fmt: skip
    big = next(p for p in pages if p["url"].endswith("big.html"))
    assert big["truncated"] and big["content_bytes"] == 4096
    lid = LanguageIdentifier()
    docs = {d["url"]: d for d in extract_documents(pages, lid, ExtractSection(), byte_caps={"crawl": 4096})}
    doc = docs[big["url"]]
    assert (doc["status"], doc["rule"], doc["value"], doc["threshold"], doc["truncated"]) == (
        "rejected", "truncated", 4096.0, 4096.0, True)  # fmt: skip
    kept = {d["url"]: d for d in extract_documents(pages, lid, ExtractSection(keep_truncated=True))}
    assert kept[big["url"]]["status"] == "kept" and kept[big["url"]]["truncated"] is True
    assert docs[next(p["url"] for p in pages if p["url"].endswith("index.html"))]["truncated"] is False


# -- clean stops ----------------------------------------------------------------------------------


class _SlowSite:
    """Fast pages p0..p7 and one page that takes `slow_s` to answer (a stuck worker)."""

    def __init__(self, slow_s: float) -> None:
        self.slow_s, self.slow_started = slow_s, threading.Event()
        self.fast = False
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow.html" and not outer.fast:
                    outer.slow_started.set()
                    time.sleep(outer.slow_s)
                if self.path == "/robots.txt":
                    body, code = b"", 404
                elif self.path == "/index.html":
                    body = b"<html><body>" + b"".join(b'<a href="/p%d.html">p</a>' % i for i in range(8))
                    body, code = body + b'<a href="/slow.html">s</a></body></html>', 200
                else:
                    body, code = f"<html><body>{EN} {self.path}</body></html>".encode(), 200
                self.send_response(code)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *a: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


_CHILD = textwrap.dedent("""
    import signal, sys
    sys.path.insert(0, {repo!r})
    from goldpan.crawl.batch import run_crawl
    from goldpan.recipe import CrawlSection
    from goldpan.lake import Lake

    class Interrupted(Exception):  # what Dagster raises on a run termination
        pass

    def on_term(*_):
        raise Interrupted()

    signal.signal(signal.SIGTERM, on_term)
    run_crawl(Lake({lake!r}), CrawlSection.model_validate({cfg!r}), "b-stop", "crawl:test")
    print("finished")
""")


def test_sigterm_during_a_slow_page_stops_within_seconds_and_the_batch_resumes(tmp_path: Path) -> None:
    site = _SlowSite(slow_s=120)
    lake_path = tmp_path / "lake"
    try:
        cfg = config(site.base, concurrency=2, per_host_concurrency=2, chunk_rows=1, read_timeout_s=300,
                     total_timeout_s=300).model_dump()  # fmt: skip
        child = subprocess.Popen([sys.executable, "-c", _CHILD.format(repo=str(REPO), cfg=cfg, lake=str(lake_path))],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        assert site.slow_started.wait(60), "the slow page was never requested"
        lake = Lake(lake_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pages_of(lake, "b-stop") if lake.exists("pages") else {}) < 9:
            time.sleep(0.05)  # every fast page is stored; one worker is stuck on the slow one
        t0 = time.monotonic()
        os.kill(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            pytest.fail("SIGTERM did not stop the crawl within 10 s")
        assert time.monotonic() - t0 < 10
        assert b"finished" not in child.stdout.read() and child.returncode != 0
        stored = pages_of(lake, "b-stop")
        assert len(stored) == 9 and "slow.html" not in stored
        site.fast = True
        stats = run_crawl(lake, CrawlSection.model_validate(cfg), "b-stop", "crawl:test").stats
        after = pages_of(lake, "b-stop")
        assert set(after) == set(stored) | {"slow.html"} and stats.resumed_rows == 9 and stats.fetched == 10
        urls = [r["url"] for r in lake.iter_rows("SELECT url FROM pages WHERE batch_id='b-stop'", tables=["pages"])]
        assert len(urls) == len(set(urls)) == 10
    finally:
        site.close()
