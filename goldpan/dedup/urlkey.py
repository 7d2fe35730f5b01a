"""URL-dedup key: a 64-bit hash of the canonical form of a document's URL.

Why canonicalise: the same page is reached as `HTTP://Host:80/a/../b?utm_source=x#top` and
`http://host/b`. The crawler's `normalize_url` (lower-case scheme and host, default port and
fragment dropped, dot segments resolved, tracking parameters removed) defines when two URLs name
one page; dedup reuses it so the two stages cannot disagree. Extract's `canonical_url` (from
`<link rel="canonical">`) is used instead of the fetch URL when the documents table has it.
"""

from __future__ import annotations

import xxhash

from goldpan.crawl.urls import normalize_url

URL_KEY_SEED = 0x0C1A


def canonical_url(url: str | None) -> str | None:
    if not url or not isinstance(url, str):
        return None
    return normalize_url(url) or url.strip() or None


def url_key(url: str | None) -> int | None:
    """Signed int64 key of the canonical URL, or None when there is no URL."""
    return canonical_key(canonical_url(url))


def canonical_key(canonical: str | None) -> int | None:
    """`url_key` of an URL already canonical (`canonical_url`'s result)."""
    if canonical is None:
        return None
    k = xxhash.xxh3_64_intdigest(canonical.encode("utf-8", "surrogatepass"), URL_KEY_SEED)
    return k - (1 << 64) if k >= (1 << 63) else k
