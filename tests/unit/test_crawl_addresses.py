"""Address checks (SSRF, issue 20) against a real HTTP server on 127.0.0.1.

Each case names a host that resolves (through the fetcher's resolver hook, the one seam the
fetcher offers for DNS) to an address that reaches the local server: directly, or as an IPv4
address carried inside an IPv6 address. The server counts requests, so "refused" means the
server was never contacted, not only that the row says so.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from goldpan.crawl.addresses import AddressPolicy, PrivateNotOptedIn, embedded_ipv4, parse_connect_to
from goldpan.crawl.crawler import BatchCrawler, CrawlStats
from goldpan.crawl.fetcher import Fetcher
from goldpan.crawl.scope import CrawlScope
from goldpan.crawl.settings import CrawlConfigError, check
from goldpan.recipe import CrawlSection, RecipeError
from goldpan.recipe_loader import parse_recipe

PAGE = "<html><body><p>Ein Satz. 一句话。</p></body></html>".encode()


class _Site:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits[self.path] += 1
                body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else PAGE
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site() -> Iterator[_Site]:
    s = _Site()
    yield s
    s.close()


def _fetch(f: Fetcher, url: str, hosts: set[str]) -> dict:
    return f.fetch(url, batch_id="b1", depth=0, discovered_from=None, source="test",
                   scope=CrawlScope(allowed_hosts=frozenset(hosts)))  # fmt: skip


# IPv6 forms that carry 127.0.0.1 (the local server) or another private IPv4 address
CARRIERS = {
    "6to4": "2002:7f00:1::1",  # 2002:WWXX:YYZZ:: carries 127.0.0.1
    "nat64": "64:ff9b::7f00:1",  # RFC 6052 well-known prefix + 127.0.0.1
    "nat64-10": "64:ff9b::a00:1",  # -> 10.0.0.1
    "ipv4-mapped": "::ffff:127.0.0.1",
    "ipv4-compatible": "::127.0.0.1",
    "teredo": "2001:0:4136:e378:8000:63bf:80ff:fffe",  # client 127.0.0.1 (obfuscated, bits inverted)
    "nat64-local-use": "64:ff9b:1::7f00:1",  # RFC 8215, never public
}


@pytest.mark.parametrize("kind", sorted(CARRIERS))
def test_ipv4_inside_ipv6_is_refused_without_connecting(site: _Site, kind: str) -> None:
    address = CARRIERS[kind]
    with Fetcher(resolver=lambda host, port: [address]) as f:
        row = _fetch(f, f"http://carrier.test:{site.port}/page", {"carrier.test"})
    assert (row["status"], row["reason"]) == ("error", "address_not_allowed"), kind
    assert sum(site.hits.values()) == 0


def test_embedded_ipv4_is_extracted() -> None:
    import ipaddress

    assert [str(a) for a in embedded_ipv4(ipaddress.ip_address(CARRIERS["6to4"]))] == ["127.0.0.1"]
    assert [str(a) for a in embedded_ipv4(ipaddress.ip_address(CARRIERS["nat64-10"]))] == ["10.0.0.1"]
    assert "127.0.0.1" in [str(a) for a in embedded_ipv4(ipaddress.ip_address(CARRIERS["teredo"]))]
    # a public IPv4 inside 6to4 stays public: the check is about where packets go. NAT64 lies in
    # ::/8, which ipaddress calls reserved, so every NAT64 address is refused (conservative).
    assert AddressPolicy().allows("2002:808:808::1") and not AddressPolicy().allows("64:ff9b::808:808")
    assert not AddressPolicy().allows("2002:a9fe:a9fe::1")  # 169.254.169.254, the cloud metadata service


def test_allow_private_lists_addresses_and_names_are_refused() -> None:
    with pytest.raises(ValueError, match="addresses, not host names"):
        AddressPolicy.from_entries(["localhost"])
    with pytest.raises(RecipeError, match=r"crawl\.allow_private: .*'localhost'.*addresses, not host names"):
        parse_recipe({"name": "r", "crawl": {"seeds": ["http://localhost/"], "allowed_hosts": ["localhost"],
                                              "allow_private": ["localhost"]},
                      "mix": {"languages": ["en"]}}, env={})  # fmt: skip


def test_allowed_host_is_still_checked_by_its_resolved_address(site: _Site) -> None:
    """`localhost` resolving to the metadata address is refused although 127.0.0.1 is allowed;
    resolving to 127.0.0.1 it is fetched (the address, not the name, decides)."""
    answers = {"localhost": ["169.254.169.254"]}
    with Fetcher(allow_private={"127.0.0.1"}, resolver=lambda host, port: answers[host]) as f:
        row = _fetch(f, f"http://localhost:{site.port}/page", {"localhost"})
        assert (row["status"], row["reason"]) == ("error", "address_not_allowed")
        assert sum(site.hits.values()) == 0
        answers["localhost"] = ["127.0.0.1"]
        row = _fetch(f, f"http://localhost:{site.port}/page", {"localhost"})
        assert row["status"] == "kept" and site.hits["/page"] == 1
        # allowed 127.0.0.1 also covers it written as an IPv4-mapped IPv6 address
        answers["localhost"] = ["::ffff:127.0.0.1"]
        assert _fetch(f, f"http://localhost:{site.port}/page", {"localhost"})["reason"] in (None, "connection_error")


def test_crawl_records_a_refused_address_as_address_not_allowed(site: _Site) -> None:
    """The crawler asks robots.txt first; a refused address there used to surface as robots_unavailable."""
    cfg = CrawlSection.model_validate({"seeds": [f"http://metadata.test:{site.port}/"], "allowed_hosts": ["metadata.test"],
                                 "per_host_delay_s": 0.0})  # fmt: skip
    fetcher = Fetcher(resolver=lambda host, port: ["2002:a9fe:a9fe::1"])
    stats = CrawlStats()
    rows = list(BatchCrawler(cfg, "b1", "crawl", fetcher=fetcher, stats=stats).run())
    assert [(r["status"], r["reason"]) for r in rows] == [("rejected", "address_not_allowed")]
    assert stats.robots_blocked == 0 and sum(site.hits.values()) == 0


def test_allow_private_needs_the_operator_opt_in(site: _Site, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = CrawlSection.model_validate({"seeds": [f"http://127.0.0.1:{site.port}/"], "allowed_hosts": ["127.0.0.1"],
                                 "allow_private": ["127.0.0.1"], "per_host_delay_s": 0.0})  # fmt: skip
    monkeypatch.delenv("GOLDPAN_ALLOW_PRIVATE", raising=False)
    with pytest.raises(PrivateNotOptedIn, match="GOLDPAN_ALLOW_PRIVATE=1"):
        list(BatchCrawler(cfg, "b1", "crawl").run())
    assert sum(site.hits.values()) == 0
    monkeypatch.setenv("GOLDPAN_ALLOW_PRIVATE", "1")
    rows = list(BatchCrawler(cfg, "b1", "crawl").run())
    assert rows[0]["status"] == "kept" and site.hits["/"] == 1


def test_pages_asset_refuses_allow_private_before_writing(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dagster as dg

    from assets.partitions import crawl_batches
    from definitions import ASSETS, build_resources

    monkeypatch.delenv("GOLDPAN_ALLOW_PRIVATE", raising=False)
    lake = tmp_path / "lake"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(crawl_batches.name, ["b20260101T000000-t"])
        res = dg.materialize(ASSETS, selection=["pages"], instance=instance, partition_key="b20260101T000000-t",
                             resources=build_resources(str(lake), "recipes/demo.yaml"), raise_on_error=False)
    assert not res.success
    failure = next(e for e in res.all_events if e.is_step_failure)
    assert "GOLDPAN_ALLOW_PRIVATE=1" in str(failure.step_failure_data.error.message)
    assert not lake.exists() or not any(lake.iterdir())  # nothing written, not even the batches row


def test_connect_to_keeps_the_url_and_checks_the_target(site: _Site) -> None:
    """The demo's port mapping: URLs say :8765, the connection goes to the real port; the target
    is address-checked like any other (a private target needs allow_private)."""
    mapping = {"127.0.0.1:8765": f"127.0.0.1:{site.port}"}
    with Fetcher(allow_private={"127.0.0.1"}, connect_to=mapping) as f:
        row = _fetch(f, "http://127.0.0.1:8765/page", {"127.0.0.1"})
    assert row["status"] == "kept" and row["url"] == "http://127.0.0.1:8765/page" and site.hits["/page"] == 1
    with Fetcher(connect_to=mapping) as f:
        assert _fetch(f, "http://127.0.0.1:8765/page", {"127.0.0.1"})["reason"] == "address_not_allowed"
    with pytest.raises(ValueError, match="IP address and port, not a name"):
        parse_connect_to({"a.test:80": "localhost:80"})
    with pytest.raises(CrawlConfigError, match="HOST:PORT"):
        check(CrawlSection.model_validate({"seeds": ["http://a.test/"], "allowed_hosts": ["a.test"],
                                           "connect_to": {"a.test": "1.2.3.4:80"}}))
