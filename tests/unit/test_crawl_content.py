"""What the fetcher does with bodies whose headers lie: binary served as HTML, a misstated charset,
a brotli bomb. Real HTTP on 127.0.0.1."""

from __future__ import annotations

import brotli
import pytest

from goldpan.crawl.fetcher import Fetcher
from goldpan.crawl.scope import CrawlScope
from goldpan.crawl.sniff import binary_kind
from tests.fixtures.http_site import LocalServer

HTML = "text/html; charset=utf-8"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
GBK_TEXT = "<html><head><title>老磨坊</title></head><body><p>清晨，渡船穿过河口。</p></body></html>"
UTF16 = "\ufeff<html><body><p>The ferry crossed at dawn.</p></body></html>".encode("utf-16-le")
BR_BOMB = brotli.compress(b"<p>" + b"a" * 20_000_000)


@pytest.fixture(scope="module")
def server():
    routes = {
        "/png-as-html": lambda h: (200, {"Content-Type": HTML}, PNG),
        "/pdf-as-html": lambda h: (200, {"Content-Type": "text/html"}, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary"),
        "/nul-as-text": lambda h: (200, {"Content-Type": "text/plain"}, b"abc\x00\x01\x02def" * 10),
        "/utf16": lambda h: (200, {"Content-Type": "text/html; charset=utf-16"}, UTF16),
        "/gbk-says-utf8": lambda h: (200, {"Content-Type": HTML}, GBK_TEXT.encode("gbk")),
        "/br-bomb": lambda h: (200, {"Content-Type": HTML, "Content-Encoding": "br"}, BR_BOMB),
    }
    s = LocalServer(routes)
    yield s
    s.close()


def _get(url: str) -> dict:
    with Fetcher(allow_private={"127.0.0.1"}, max_bytes=100_000) as f:
        return f.fetch(url, batch_id="b", depth=0, discovered_from=None, source="crawl",
                       scope=CrawlScope(frozenset({"127.0.0.1"})))  # fmt: skip


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/png-as-html", "binary_content:png"), ("/pdf-as-html", "binary_content:pdf"),
     ("/nul-as-text", "binary_content:nul_bytes")],
)  # fmt: skip
def test_binary_served_as_text_is_rejected_without_storing_it(server, path, reason):
    row = _get(server.base + path)
    assert (row["status"], row["reason"], row["http_status"]) == ("rejected", reason, 200)
    assert row["content"] is None


def test_utf16_with_a_bom_is_text(server):
    row = _get(server.base + "/utf16")
    assert row["status"] == "kept" and row["content"] == UTF16


def test_misstated_charset_is_stored_byte_exact_for_extract_to_decide(server):
    """The header says UTF-8, the bytes are GBK: the crawler must not "fix" anything -- it stores the
    bytes and the declared charset; extract detects the real encoding (tested there)."""
    row = _get(server.base + "/gbk-says-utf8")
    assert (row["status"], row["charset_declared"]) == ("kept", "utf-8")
    assert row["content"] == GBK_TEXT.encode("gbk")
    assert row["content"].decode("gb18030") == GBK_TEXT


def test_brotli_bomb_is_bounded(server):
    row = _get(server.base + "/br-bomb")
    assert len(BR_BOMB) < 100_000
    assert (row["status"], row["truncated"], row["content_bytes"]) == ("kept", True, 100_000)


def test_binary_kind():
    assert binary_kind(b"<!doctype html><p>hi</p>") is None
    assert binary_kind("<p>中文</p>".encode()) is None
    assert binary_kind(b"GIF89a....") == "gif"
    assert binary_kind(b"") is None
