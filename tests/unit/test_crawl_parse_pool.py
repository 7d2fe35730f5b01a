"""Link discovery in parse processes (goldpan.crawl.parse_pool): same links as in a thread, the
CPU budget crosses the process boundary, and close() kills a busy child at once."""

from __future__ import annotations

import threading
import time

import pytest

from goldpan.crawl.links import LinkBudgetExceeded, extract_links
from goldpan.crawl.parse_pool import ParsePool
from goldpan.crawl.urls import TRACKING_PARAMS

PAGES = [
    ("http://docs.example.org/en/guide/intro.html",
     (b'<html><head><link rel="canonical" href="/en/guide/intro.html"></head><body><p>The river mill '
     b'turns again.</p><a href="setup.html">Setup</a> <a href="../ref/index.html#top">Reference</a> '
     b'<a href="https://other.example.net/?utm_source=x&amp;q=1">elsewhere</a></body></html>'), "utf-8"),
    ("http://docs.example.org/zh/\u6307\u5357/",
     '<html><body><p>\u6b22\u8fce\u9605\u8bfb\u6587\u6863\u3002</p><a href="\u5b89\u88c5.html">\u5b89\u88c5</a>'
     '<a href="/zh/\u7d22\u5f15.html">\u7d22\u5f15</a></body></html>'.encode("gb18030"), "gb18030"),
]  # fmt: skip


def test_children_find_the_links_a_thread_finds() -> None:
    pool = ParsePool(2)
    try:
        for url, html, charset in PAGES * 3:
            assert pool.extract(html, url, charset, TRACKING_PARAMS, 10.0) == extract_links(html, url, charset)
        assert pool.cpu_seconds() > 0
    finally:
        pool.close()


def test_children_start_after_the_threshold() -> None:
    pool = ParsePool(1, start_after=2)
    try:
        assert [pool.wants() for _ in range(4)] == [False, False, True, True]
    finally:
        pool.close()


def test_cpu_budget_is_enforced_in_the_child_and_close_does_not_wait() -> None:
    links = "".join(f'<a href="/p/{i}.html">page {i}</a>' for i in range(20_000)).encode()
    pool = ParsePool(1)
    try:
        with pytest.raises(LinkBudgetExceeded):
            pool.extract(b"<html><body>" + links + b"</body></html>", "http://h.example/", "utf-8",
                         TRACKING_PARAMS, 0.001)  # fmt: skip
        # a child busy on a big page: close() kills it, the waiting thread falls back and ends
        big = b"<html><body>" + links * 10 + b"</body></html>"
        waiter = threading.Thread(target=pool.extract, args=(big, "http://h.example/", "utf-8", TRACKING_PARAMS, 60.0),
                                  daemon=True)  # fmt: skip
        waiter.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        pool.close()
        assert time.monotonic() - t0 < 5.0
    finally:
        pool.close()
