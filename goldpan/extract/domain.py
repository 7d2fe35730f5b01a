"""Host and registered domain of a URL, offline.

Why the registered domain: per-domain caps and takedowns work on `example.co.uk`, not on
`www.news.example.co.uk`. tldextract is used with its bundled Public Suffix List snapshot
(`suffix_list_urls=()`) and no cache directory, so nothing is fetched or written at run time.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


@lru_cache(maxsize=100_000)
def registered_domain(host: str | None) -> str | None:
    """`news.bbc.co.uk` -> `bbc.co.uk`; IP addresses and bare hosts are returned unchanged."""
    if not host:
        return None
    ext = _extractor()(host)
    if ext.domain and ext.suffix:
        return f"{ext.domain}.{ext.suffix}"
    return host
