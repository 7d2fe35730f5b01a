"""Outgoing links of an HTML page, as normalised absolute URLs in document order.

Document order matters: the crawler is breadth-first and enqueues links in the order
returned here, so a stable order is what makes reruns of a batch fetch the same page set.
Crawled HTML is often broken, truncated (max_bytes) or mislabelled, so this never raises
for bad input.

Why lxml (libxml2) and one pass over the tree: the cost must stay linear in the page size.
Iterating resiliparse's `query_selector_all` result cost time per link that grew with the
number of links (308 ms per link at 17k links: one index page held a crawl for an hour).
Here the parse is one C pass over at most `max_bytes`, the walk visits only the link tags,
and each distinct href is normalised once (index pages repeat the same target with many
fragments), clean relative paths by concatenation (goldpan.crawl.urls.RelativeJoiner). A CPU budget (thread CPU time, checked while walking) turns a pathological page
into `LinkBudgetExceeded`, which the crawler records as an error row instead of a stuck batch.

Policy kept from the first version: `<a>`/`<area>` hrefs and `<link rel=canonical>`; the first
`<base href>` (wherever it appears) is the base; `rel=nofollow` links are followed (nofollow is
a ranking hint, not a crawl prohibition; robots.txt and meta robots are the opt-out signals).
"""

from __future__ import annotations

import logging
import time

from lxml import etree
from resiliparse.parse.encoding import detect_encoding

from goldpan.crawl.urls import TRACKING_PARAMS, RelativeJoiner, normalize_url

log = logging.getLogger(__name__)

# <link rel=canonical> names the preferred URL of this content, which is worth discovering too.
# Other <link>s (stylesheets, icons, feeds) are not pages.
_LINK_RELS = frozenset({"canonical"})
_TAGS = ("a", "area", "link", "base")
_CHECK_EVERY = 512  # elements between two CPU-budget checks


class LinkBudgetExceeded(Exception):
    """Link discovery on one page used more CPU time than the recipe allows."""

    def __init__(self, seconds: float, budget: float, links: int) -> None:
        super().__init__(f"link discovery used {seconds:.2f}s CPU (budget {budget:.2f}s) after {links} links")
        self.seconds, self.budget, self.links = seconds, budget, links


def _codec(html_bytes: bytes, charset: str | None) -> str:
    for name in (charset, detect_encoding(html_bytes[:65536])):
        if not name:
            continue
        try:
            return "utf-8" if name.lower().replace("_", "-") in ("utf8", "utf-8") else _lookup(name)
        except LookupError:  # bogus declared charset: try the next guess
            continue
    return "utf-8"


def _lookup(name: str) -> str:
    import codecs

    return codecs.lookup(name).name


def _parse(html_bytes: bytes, charset: str | None) -> etree._Element | None:
    """The document root. Decoding happens in Python (errors replaced) and libxml2 gets UTF-8,
    so it never sees an encoding it might reject or second-guess with a <meta> it finds later."""
    codec = _codec(html_bytes, charset)
    data = html_bytes if codec == "utf-8" else html_bytes.decode(codec, errors="replace").encode("utf-8")
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, huge_tree=True,
                              remove_comments=True, remove_pis=True, default_doctype=False)  # fmt: skip
    return etree.fromstring(data, parser)


def extract_links(
    html_bytes: bytes,
    base_url: str,
    charset: str | None = None,
    *,
    strip_params: frozenset[str] = TRACKING_PARAMS,
    cpu_budget_s: float | None = None,
) -> list[str]:
    """Normalised absolute http(s) links of the page, de-duplicated, in document order.

    Relative links resolve against the first `<base href>` if present (itself resolved
    against `base_url`, which should be the page's *final* URL after redirects), otherwise
    against `base_url`. Non-http(s) links (mailto:, javascript:, ...) are dropped.
    `strip_params` is the recipe's normalisation (one page, one frontier row).
    Raises LinkBudgetExceeded when `cpu_budget_s` of thread CPU time is used up; any other
    failure on bad input returns the links found so far (usually none).
    """
    if not html_bytes:
        return []
    started = time.thread_time()
    out: list[str] = []
    try:
        root = _parse(html_bytes, charset)
        if root is None:
            return []
        hrefs: list[str] = []
        base: str | None = None
        for n, el in enumerate(root.iter(*_TAGS)):
            if cpu_budget_s is not None and n % _CHECK_EVERY == 0:
                _check(started, cpu_budget_s, len(hrefs))
            href = el.get("href")
            if not href:
                continue
            tag = el.tag
            if tag == "base":
                if base is None:
                    base = normalize_url(href, base=base_url, strip_params=strip_params) or base_url
                continue
            if tag == "link" and not set((el.get("rel") or "").lower().split()) & _LINK_RELS:
                continue
            hrefs.append(href)
        base = base or base_url
        joiner = RelativeJoiner(base, strip_params)
        seen: set[str] = set()
        normalised: dict[str, str | None] = {}
        for n, href in enumerate(hrefs):
            if cpu_budget_s is not None and n % _CHECK_EVERY == 0:
                _check(started, cpu_budget_s, len(out))
            key = href.split("#", 1)[0] if "#" in href else href
            if key in normalised:
                continue
            url = normalised[key] = joiner.join(key or href)
            if url is not None and url not in seen:
                seen.add(url)
                out.append(url)
        return out
    except LinkBudgetExceeded:
        raise
    except Exception:  # garbage in must not stop a crawl
        log.debug("link extraction failed for %s", base_url, exc_info=True)
        return out


def _check(started: float, budget: float, links: int) -> None:
    used = time.thread_time() - started
    if used > budget:
        raise LinkBudgetExceeded(used, budget, links)
