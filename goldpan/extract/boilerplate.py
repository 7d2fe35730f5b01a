"""Post-processing of main text: drop short lines that are nothing but a link.

Why: resiliparse's main-content mode keeps blocks such as "Related articles", tag lists, "Next /
Previous" pagers and share bars when they sit inside the content container; trafilatura removes
most of them, which is where its precision edge on news pages comes from. Those blocks are lines
whose whole text is the text of one or more links. A line is dropped when, after removing a list
bullet, it is made only of anchor texts (joined by separators such as | · / ,) and has at most
`max_words` words. Paragraphs that merely *contain* links are never touched.
"""

from __future__ import annotations

import re

# Elements a reader never sees as content: hidden ones, and the usual names of overlays, share
# bars, cookie banners, menus, breadcrumbs and "related" boxes. Class names match whole tokens
# (`[class~=x]`), so Sphinx's inline `menuselection` or an article's `related-work` heading are safe.
_BOILERPLATE_TOKENS = (
    "popup", "modal", "dialog", "cookie", "cookies", "cookie-banner", "share", "sharing", "social",
    "newsletter", "related", "related-posts", "breadcrumb", "breadcrumbs", "sidebar", "menu",
    "menu-bar", "navbar", "skip-link", "advert", "advertisement", "ad", "ads", "banner", "comments",
)
BOILERPLATE_SELECTOR = ", ".join(
    ["[hidden]", '[aria-hidden="true"]', '[style*="display:none"]', '[style*="display: none"]',
     '[role="dialog"]', '[role="navigation"]']
    + [f'[class~="{t}"]' for t in _BOILERPLATE_TOKENS]
    + [f'[id*="{t}"]' for t in ("popup", "modal", "cookie", "help-container", "sidebar", "menu-bar", "share")]
)


def strip_boilerplate_elements(tree) -> int:
    """Remove hidden and boilerplate-named elements from a resiliparse tree; returns how many."""
    body = tree.body
    if body is None:
        return 0
    nodes = list(body.query_selector_all(BOILERPLATE_SELECTOR))
    matched = set(nodes)

    def inside_another(node) -> bool:
        p = node.parent
        while p is not None:
            if p in matched:
                return True
            p = p.parent
        return False

    # Decide before mutating: decomposing an ancestor frees its descendants, so only the outermost
    # matches are removed (touching a freed node would read released memory).
    outer = [n for n in nodes if not inside_another(n)]
    for node in outer:
        node.decompose()
    return len(outer)

_BULLET = re.compile(r"^\s*(?:[•·\-*–]|\d+[.)])\s+")
_SEPARATORS = re.compile(r"\s*(?:[|·•/,;»›>]|\s)\s*")


def _only_anchors(line: str, anchors: frozenset[str]) -> bool:
    if line in anchors:
        return True
    # Several links on one line ("Home | News | Sport"): every separated piece is an anchor text.
    pieces = [p for p in re.split(r"\s*[|·•/»›]\s*", line) if p]
    return len(pieces) > 1 and all(p in anchors for p in pieces)


def drop_link_lines(text: str, anchors: frozenset[str], max_words: int = 12) -> str:
    """`text` without short lines that consist only of link text (blank-line structure kept)."""
    if not anchors:
        return text
    out: list[str] = []
    for line in text.split("\n"):
        core = " ".join(_BULLET.sub("", line).split())
        if core and len(core.split()) <= max_words and _only_anchors(core, anchors):
            continue
        out.append(line)
    return "\n".join(out)
