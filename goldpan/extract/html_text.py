"""A parsed HTML page: head metadata and link density, shared by every extractor.

The page is parsed once with resiliparse's lexbor-backed `HTMLTree`; the resiliparse extractor
reuses that tree, and title / description / canonical URL always come from it, whichever
extractor produced the main text, so variants differ only in their main text.
"""

from __future__ import annotations

import html as _html
import re
from functools import cached_property
from importlib.metadata import version as _pkg_version

EXTRACTOR = "resiliparse"
EXTRACTOR_VERSION = _pkg_version("resiliparse")


# Anchor elements and their inner HTML. A regex over the source instead of DOM node wrappers:
# resiliparse creates a Python object per node visited, which made link density cost more than the
# main-text extraction itself on documentation pages with hundreds of links.
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_INVISIBLE_BLOCKS = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


class ParsedHtml:
    """The decoded HTML of one page, parsed lazily."""

    def __init__(self, html: str):
        self.html = html

    @cached_property
    def tree(self):
        from resiliparse.parse.html import HTMLTree

        return HTMLTree.parse(self.html)

    @cached_property
    def head_meta(self) -> tuple[str | None, str | None, str | None]:
        """(title, meta description, canonical URL), stripped, None when absent or empty."""
        tree = self.tree
        title = " ".join((tree.title or "").split()) or None
        description = canonical = None
        if tree.head is not None:
            meta = tree.head.query_selector('meta[name="description" i]') or tree.head.query_selector(
                'meta[property="og:description"]'
            )
            if meta is not None:
                description = " ".join((meta.getattr("content") or "").split()) or None
            link = tree.head.query_selector('link[rel="canonical" i]')
            if link is not None:
                canonical = (link.getattr("href") or "").strip() or None
        return title, description, canonical

    @cached_property
    def _anchor_inner_texts(self) -> list[str]:
        body = _INVISIBLE_BLOCKS.sub("", self.html)
        return [_html.unescape(_TAG.sub("", m.group(1))) for m in _ANCHOR.finditer(body)]

    @cached_property
    def anchor_texts(self) -> frozenset[str]:
        """Whitespace-normalised texts of every <a> (for link-line post-processing)."""
        return frozenset(t for t in (" ".join(a.split()) for a in self._anchor_inner_texts) if t)

    def link_density(self) -> float:
        """Share of visible body characters inside <a> elements (scripts and styles excluded).

        Computed on demand: it needs a second, full-page text pass, and the extract stage only asks
        for it when the main text is short enough for the navigation rule to apply.
        """
        from resiliparse.extract.html2text import extract_plain_text

        tree = self.tree
        if tree.body is None:
            return 0.0
        visible = len("".join(extract_plain_text(tree, main_content=False, alt_texts=False).split()))
        if visible == 0:
            return 0.0
        linked = sum(len("".join(a.split())) for a in self._anchor_inner_texts)
        return min(1.0, linked / visible)
