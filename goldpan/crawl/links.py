"""Outgoing links of an HTML page, as normalised absolute URLs in document order.

Document order matters: the crawler is breadth-first and enqueues links in the order
returned here, so a stable order is what makes reruns of a batch fetch the same page set.
Crawled HTML is often broken, truncated (max_bytes) or mislabelled, so this never raises.
"""

from __future__ import annotations

import logging

from resiliparse.parse.encoding import detect_encoding
from resiliparse.parse.html import HTMLTree

from goldpan.crawl.urls import normalize_url

log = logging.getLogger(__name__)

# <a>/<area> are navigation; <link rel=canonical> names the preferred URL of this content,
# which is worth discovering too. Other <link>s (stylesheets, icons, feeds) are not pages.
_SELECTOR = "a[href], area[href], link[href]"
_LINK_RELS = frozenset({"canonical"})


def _parse(html_bytes: bytes, charset: str | None) -> HTMLTree:
    encoding = charset or detect_encoding(html_bytes[:65536]) or "utf-8"
    try:
        return HTMLTree.parse_from_bytes(html_bytes, encoding, errors="replace")
    except (LookupError, UnicodeError):  # bogus declared charset: fall back to UTF-8
        return HTMLTree.parse_from_bytes(html_bytes, "utf-8", errors="replace")


def extract_links(html_bytes: bytes, base_url: str, charset: str | None = None) -> list[str]:
    """Normalised absolute http(s) links of the page, de-duplicated, in document order.

    Relative links resolve against the first `<base href>` if present (itself resolved
    against `base_url`, which should be the page's *final* URL after redirects), otherwise
    against `base_url`. Non-http(s) links (mailto:, javascript:, ...) are dropped.
    """
    try:
        if not html_bytes:
            return []
        tree = _parse(html_bytes, charset)
        doc = tree.document
        if doc is None:
            return []
        base = base_url
        base_el = doc.query_selector("base[href]")
        if base_el is not None:
            resolved = normalize_url(base_el.getattr("href") or "", base=base_url)
            if resolved is not None:
                base = resolved
        seen: set[str] = set()
        out: list[str] = []
        for el in doc.query_selector_all(_SELECTOR):
            if el.tag == "link":
                rels = set((el.getattr("rel") or "").lower().split())
                if not rels & _LINK_RELS:
                    continue
            href = el.getattr("href")
            if not href:
                continue
            url = normalize_url(href, base=base)
            if url is not None and url not in seen:
                seen.add(url)
                out.append(url)
        return out
    except Exception:  # garbage in must not stop a crawl
        log.debug("link extraction failed for %s", base_url, exc_info=True)
        return []
