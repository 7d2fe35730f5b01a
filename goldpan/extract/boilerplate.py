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
