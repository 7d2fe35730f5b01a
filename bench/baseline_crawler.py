"""The baseline of bench/crawl_real.py: a minimal thread-pool crawler, as one would write it in an hour.

Breadth-first from `/`, one host, `concurrency` threads sharing a urllib3 pool; robots.txt's
`Sitemap:` index and its gzipped children seed the queue; links come from lxml's `iterlinks`.
A recrawl sends the ETag / Last-Modified it got back (a 304 costs no body). No politeness delay,
no lake, no per-row bookkeeping: what goldpan adds must cost less than 30 % of this rate.
"""

from __future__ import annotations

import gzip
import re
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from urllib.parse import urldefrag, urljoin, urlsplit

import urllib3
from lxml import html as lxml_html

_LOC = re.compile(rb"<loc>\s*([^<\s]+)\s*</loc>")


class BaselineCrawler:
    def __init__(self, base: str, concurrency: int) -> None:
        self.base, self.concurrency = base.rstrip("/"), concurrency
        self.host = urlsplit(base).netloc
        self.http = urllib3.PoolManager(maxsize=concurrency, retries=False, timeout=30)
        self.validators: dict[str, dict[str, str]] = {}
        self.pages_200 = self.not_modified = 0
        self.known: list[str] = []  # every URL of the last crawl: a recrawl revisits them all

    def _get(self, url: str) -> tuple[int, dict, bytes]:
        headers = dict(self.validators.get(url, {}))
        r = self.http.request("GET", url, headers=headers, redirect=True)
        return r.status, r.headers, r.data

    def _sitemap_urls(self) -> list[str]:
        _, _, robots = self._get(self.base + "/robots.txt")
        queue = [line.split(":", 1)[1].strip() for line in robots.decode().splitlines()
                 if line.lower().startswith("sitemap:")]  # fmt: skip
        urls: list[str] = []
        while queue:
            status, _, data = self._get(queue.pop(0))
            if status != 200:
                continue
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            locs = [m.decode() for m in _LOC.findall(data)]
            if b"<sitemapindex" in data:
                queue.extend(locs)
            else:
                urls.extend(locs)
        return urls

    def _fetch(self, url: str) -> tuple[str, list[str]]:
        status, headers, data = self._get(url)
        if status == 304:
            return "304", []
        if status != 200:
            return str(status), []
        val = {}
        if headers.get("ETag"):
            val["If-None-Match"] = headers["ETag"]
        if headers.get("Last-Modified"):
            val["If-Modified-Since"] = headers["Last-Modified"]
        self.validators[url] = val
        if not (headers.get("Content-Type") or "").startswith("text/html") or not data:
            return "200", []
        try:
            doc = lxml_html.fromstring(data)
        except Exception:  # noqa: BLE001 - a broken page is just a page without links
            return "200", []
        links = []
        for el, attr, link, _ in doc.iterlinks():
            if attr == "href" and el.tag in ("a", "area"):
                absolute = urldefrag(urljoin(url, link))[0]
                if urlsplit(absolute).netloc == self.host:
                    links.append(absolute)
        return "200", links

    def crawl(self) -> int:
        """One crawl from `/` (a recrawl: of every URL known); returns the page requests made."""
        seen = {self.base + "/"}
        queue = deque([self.base + "/"])
        for u in self.known + self._sitemap_urls():
            if u not in seen:
                seen.add(u)
                queue.append(u)
        requests = 0
        self.pages_200 = self.not_modified = 0
        with ThreadPoolExecutor(self.concurrency) as pool:
            inflight = set()
            while queue or inflight:
                while queue and len(inflight) < self.concurrency * 2:
                    inflight.add(pool.submit(self._fetch, queue.popleft()))
                done, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    requests += 1
                    outcome, links = fut.result()
                    self.pages_200 += outcome == "200"
                    self.not_modified += outcome == "304"
                    for link in links:
                        if link not in seen:
                            seen.add(link)
                            queue.append(link)
        self.known = list(seen)
        return requests
