"""Sitemaps (sitemaps.org protocol): URLs a site lists, with their `<lastmod>`.

Why: pages reachable only through a sitemap are never found by following links, and
`<lastmod>` tells a revisit whether a page changed since we fetched it. Sources are the
`Sitemap:` lines of robots.txt, `/sitemap.xml` when the recipe asks for it, and sitemaps the
recipe names. Indexes (`<sitemapindex>`) are followed breadth-first up to `max_sitemaps` files,
and `.xml.gz` files are gunzipped.

Safety: sitemap files are fetched by the crawl's Fetcher (SSRF checks, scope, timeouts,
max_bytes), a gzipped body is inflated to at most `max_bytes` (a gzip bomb stops there), and
the XML parser resolves no entities and touches no network ("billion laughs", XXE). Every URL a
sitemap lists goes through the same scope, robots and takedown checks as a link: the crawler
admits them like links (goldpan.crawl.crawler), a sitemap is only a source of candidates.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SitemapURL:
    url: str  # as written in the sitemap (not yet normalised)
    lastmod: datetime | None
    sitemap: str  # the sitemap file that listed it


@dataclass
class SitemapResult:
    urls: list[SitemapURL] = field(default_factory=list)
    files_read: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # sitemap URL -> reason


def robots_sitemaps(robots_text: str) -> list[str]:
    """`Sitemap:` URLs of a robots.txt (the field is group-independent, RFC 9309 section 2.2.4)."""
    out: list[str] = []
    for line in robots_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "sitemap":
            url = value.split("#", 1)[0].strip()
            if url and url not in out:
                out.append(url)
    return out


def parse_lastmod(text: str | None) -> datetime | None:
    """W3C datetime (2024-05-01, 2024-05-01T10:00:00+02:00, ...Z) as aware UTC; None if unreadable."""
    if not text:
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def inflate(data: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """Gunzip `data` if it is gzip (magic bytes), bounded to `max_bytes`. (bytes, truncated)."""
    if not data.startswith(b"\x1f\x8b"):
        return data, False
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(data, max_bytes)
    return out, bool(d.unconsumed_tail)


def parse_sitemap(data: bytes) -> tuple[str, list[tuple[str, datetime | None]]]:
    """(kind, [(loc, lastmod)]) of one sitemap file; kind is `urlset` or `sitemapindex`.
    Raises ValueError when it is not a sitemap (HTML error page, broken XML with nothing in it)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True,
                             remove_comments=True, remove_pis=True, load_dtd=False)  # fmt: skip
    root = etree.fromstring(data, parser)
    if root is None:
        raise ValueError("not xml")
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap: <{kind}>")
    entries: list[tuple[str, datetime | None]] = []
    for item in root:
        if not isinstance(item.tag, str):
            continue
        loc, lastmod = None, None
        for child in item:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name == "loc":
                loc = (child.text or "").strip()
            elif name == "lastmod":
                lastmod = parse_lastmod(child.text)
        if loc:
            entries.append((loc, lastmod))
    return kind, entries


Fetch = Callable[[str], tuple[bytes | None, str | None]]


def read_sitemaps(
    roots: Iterable[str],
    fetch: Fetch,
    *,
    normalize: Callable[[str], str | None],
    max_files: int,
    max_urls: int,
    max_bytes: int,
) -> SitemapResult:
    """Read the sitemaps `roots` (and the files their indexes name), breadth-first.

    `fetch(url)` returns (body, None) or (None, reason): the caller's fetcher, scope and robots
    checks live there. Index entries are normalised with `normalize` before being fetched.
    """
    result = SitemapResult()
    queue = [u for u in dict.fromkeys(normalize(r) for r in roots) if u]
    seen = set(queue)
    while queue and result.files_read < max_files and len(result.urls) < max_urls:
        url = queue.pop(0)
        body, why = fetch(url)
        result.files_read += 1
        if body is None:
            result.errors[url] = why or "unavailable"
            continue
        data, cut = inflate(body, max_bytes)
        try:
            kind, entries = parse_sitemap(data)
        except (ValueError, etree.LxmlError) as exc:
            result.errors[url] = f"unparsable: {exc}"[:200]
            continue
        if cut:
            result.errors[url] = "truncated"
        if kind == "sitemapindex":
            for loc, _ in entries:
                child = normalize(loc)
                if child and child not in seen:
                    seen.add(child)
                    queue.append(child)
            continue
        for loc, lastmod in entries:
            if len(result.urls) >= max_urls:
                break
            result.urls.append(SitemapURL(loc, lastmod, url))
    for url in queue:
        result.errors.setdefault(url, "max_sitemaps")
    return result
