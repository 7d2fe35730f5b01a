"""Link extraction: base href, canonical, dedup in document order, garbage tolerance."""

from __future__ import annotations

from goldpan.crawl.links import extract_links


def test_links_in_document_order_deduplicated() -> None:
    html = b"""<html><head>
      <link rel="stylesheet" href="/style.css">
      <link rel="Canonical" href="/canonical">
    </head><body>
      <a href="/b">b</a> <a href="a">a</a> <a href="/b#frag">b again</a>
      <a href="mailto:x@y.z">mail</a> <a href="javascript:alert(1)">js</a>
      <a href="http://Other.com/?utm_source=x">other</a> <a>no href</a> <a href="">empty</a>
      <map><area href="/area"></map>
    </body></html>"""
    assert extract_links(html, "http://h.com/dir/page") == [
        "http://h.com/canonical",
        "http://h.com/b",
        "http://h.com/dir/a",
        "http://other.com/",
        "http://h.com/area",
    ]


def test_base_href_is_respected() -> None:
    html = b'<html><head><base href="/sub/"></head><body><a href="x">x</a><a href="/abs">y</a></body></html>'
    assert extract_links(html, "http://h.com/a/b") == ["http://h.com/sub/x", "http://h.com/abs"]


def test_charset_decoding() -> None:
    html = '<a href="/caf\u00e9">x</a>'.encode("latin-1")
    assert extract_links(html, "http://h.com/", "iso-8859-1") == ["http://h.com/caf%C3%A9"]


def test_garbage_never_raises() -> None:
    assert extract_links(b"", "http://h.com/") == []
    assert extract_links(b"\x00\xff\xfe<<<<a href=", "http://h.com/") == []
    assert extract_links(b"<a href='x'>", "http://h.com/", "no-such-charset") == ["http://h.com/x"]
    assert extract_links(b"<a href='http://[bad/'>", "http://h.com/") == []
    truncated = b'<html><body><a href="/one">1</a><a href="/tw'
    assert extract_links(truncated, "http://h.com/")[0] == "http://h.com/one"
