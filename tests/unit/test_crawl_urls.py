"""URL normalisation: the dedup key of the whole crawler, so every rule gets a case."""

from __future__ import annotations

import hashlib

import pytest

from goldpan.crawl.urls import host_of, normalize_url, origin_of, page_id

CASES = [
    # (input, base, expected)
    ("HTTP://Example.COM/", None, "http://example.com/"),
    ("http://example.com", None, "http://example.com/"),
    ("http://example.com:80/a", None, "http://example.com/a"),
    ("https://example.com:443/a", None, "https://example.com/a"),
    ("http://example.com:8080/a", None, "http://example.com:8080/a"),
    ("http://example.com/a#section", None, "http://example.com/a"),
    ("http://example.com/a/./b/../c", None, "http://example.com/a/c"),
    ("http://example.com/../../x", None, "http://example.com/x"),
    ("http://example.com/p?b=2&a=1", None, "http://example.com/p?b=2&a=1"),  # order kept
    ("http://example.com/p?utm_source=x&id=3&utm_medium=y&gclid=z", None, "http://example.com/p?id=3"),
    ("http://example.com/p?fbclid=abc", None, "http://example.com/p"),
    ("http://example.com/%7euser/a%2fb", None, "http://example.com/~user/a%2Fb"),
    ("http://example.com/a b", None, "http://example.com/a%20b"),
    ("http://user:secret@example.com/", None, "http://example.com/"),
    ("http://Example.com./", None, "http://example.com/"),
    ("http://bücher.de/", None, "http://xn--bcher-kva.de/"),
    ("http://[::1]:8080/x", None, "http://[::1]:8080/x"),
    ("  http://example.com/trim  ", None, "http://example.com/trim"),
    ("c", "http://example.com/a/b", "http://example.com/a/c"),
    ("../x?q=1#f", "http://example.com/a/b/c", "http://example.com/a/x?q=1"),
    ("//cdn.example.com/x", "https://example.com/", "https://cdn.example.com/x"),
    ("?page=2", "http://example.com/list?page=1", "http://example.com/list?page=2"),
    ("mailto:someone@example.com", None, None),
    ("javascript:void(0)", "http://example.com/", None),
    ("data:text/html,hi", None, None),
    ("ftp://example.com/file", None, None),
    ("tel:+123", "http://example.com/", None),
    ("", None, None),
    ("/relative/without/base", None, None),
    ("http://example.com:99999/", None, None),
    ("http://exa mple.com/", None, None),
    ("http:///nohost", None, None),
]


@pytest.mark.parametrize(("url", "base", "expected"), CASES)
def test_normalize_url(url: str, base: str | None, expected: str | None) -> None:
    assert normalize_url(url, base=base) == expected


def test_normalize_is_idempotent() -> None:
    for url, base, expected in CASES:
        if expected is not None:
            assert normalize_url(expected) == expected, url


def test_custom_strip_params() -> None:
    assert normalize_url("http://e.com/?sid=1&x=2", strip_params=frozenset({"sid"})) == "http://e.com/?x=2"
    # default set does not strip arbitrary params
    assert normalize_url("http://e.com/?sid=1") == "http://e.com/?sid=1"


def test_page_id() -> None:
    url = "http://example.com/"
    expected = hashlib.sha1(f"b1|{url}".encode()).hexdigest()[:20]
    assert page_id("b1", url) == expected
    assert len(expected) == 20
    assert page_id("b2", url) != expected


def test_host_and_origin() -> None:
    assert host_of("http://Example.com:8080/x") == "example.com"
    assert host_of("not a url") is None
    assert origin_of("http://example.com:8080/x?y") == "http://example.com:8080"


def test_relative_joiner_agrees_with_normalize_url() -> None:
    """The concatenation fast path must give exactly normalize_url's answer, for clean paths
    and for every odd case it hands back to normalize_url (dot segments, '//', escapes, queries,
    schemes, non-ASCII, an unnormalised base)."""
    from goldpan.crawl.urls import RelativeJoiner

    hrefs = ["os.html", "../x.html", "../../../../a", "/abs/p", "./a", "a/./b", "a/../b", "..", ".", "./", "../",
             "a//b", "a:b", "?q", "dir/", "/", "//other.org/x", "../a/../b", "./../x", "a;b", "~u/", "a b", "%41",
             "caf\u00e9.html", "\u6587\u6863/\u7d22\u5f15.html", ".hidden", "..a", "a..", "a/.", "a/..", "/..",
             "mailto:x@y.z", "javascript:void(0)", "a?utm_source=x&b=1", "a\\b", "A/B.HTML", "#top", "", " ",
             "http://h.com", "https://docs.python.org/3/library/os.html", "http://Other.org/x", "http://a.b/./c",
             "http://a.b/c/..", "https://a.b//c", "http://a.b:80/x", "http://u:p@a.b/", "http://a.b/c?d=1",
             "http://a..b/", "http://" + "x" * 64 + ".org/", "https://en.wikipedia.org/wiki/SQL",
             "http://a.b/%7Euser", "http://例子.cn/文"]  # fmt: skip
    bases = ["http://h.com/d1/d2/page.html", "http://h.com/", "http://h.com:8080/a/", "http://h.com/a/b?x=1",
             "HTTP://H.com/a/b", "http://h.com", "http://h.com/a;p/b;q", "https://\u4f8b\u5b50.cn/\u6587/"]  # fmt: skip
    for base in bases:
        joiner = RelativeJoiner(base)
        for href in hrefs:
            assert joiner.join(href) == normalize_url(href, base=base), (base, href)
