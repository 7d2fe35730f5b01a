"""Where each first-pass line sits in the page's HTML source: the markup around it, found by search.

Why: resiliparse's text loses the markup, and the lines it keeps wrongly on news pages (teaser lists
of "most popular" boxes, captions, author bios, promo blocks) look like article text line by line;
what gives them away is the markup around them: a large gap of markup before the line (a jump to
another region of the page), a line that starts inside a link, many bytes of tags inside the line
(teaser headlines, tag lists), a caption or list container, or a container whose class names say
"related", "share", "promo". A DOM walk in Python costs more than the whole extractor (measured:
resiliparse `query_selector_all` over boilerplate class names 74 ms per news page, a regex over all
class attributes 5 ms), so each line is located in the source with `str.find` from where the
previous line was found (one forward pass over the page) and only the short stretch of markup just
before it is inspected.

A line is located by two probes, the longest word near its start and near its end; a line whose
probes are not found (text written with entities, script-generated text) is marked unlocated and
its source columns stay zero.

`source_features_into` is the reference: the extractor runs the same loop in C
(goldpan/extract/_fastlines.c, `source_columns`), with `_value_words` called from there.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

SOURCE_FEATURES: tuple[str, ...] = (
    "src_located", "src_gap", "src_inline", "src_rel_pos",
    "src_tag_a", "src_tag_heading", "src_tag_li", "src_tag_caption", "src_tag_p",
    "src_boiler_class", "src_content_class",
)

# Probes: runs of word characters (letters of any script, digits) of at least this length.
_PROBE = re.compile(r"\w{4,}")
_PROBE_SPAN = 48
# A line is looked for within this many characters of the previous one before the whole rest.
_NEAR = 16384
_BODY = re.compile(r"<[bB][oO][dD][yY]\b")  # case spelled out: faster than re.IGNORECASE
# How much markup before a line is read for its containers' tags and class names.
_TAIL = 240
_OPEN_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
_INLINE_TAGS = frozenset(("span", "strong", "b", "em", "i", "u", "font", "small", "abbr", "mark", "sup", "sub"))
_CAPTION_TAGS = frozenset(("figcaption", "caption", "cite", "small", "time", "label", "button", "address"))
# Words of class and id attributes in the markup just before a line ("related-posts" gives
# "related" and "posts"), looked up in sets: a regex alternation over markup costs ~0.3 us a character.
_BOILER_WORDS = frozenset((
    "related", "share", "sharing", "social", "comment", "comments", "newsletter", "promo", "popular",
    "trending", "sidebar", "widget", "footer", "nav", "navbar", "navigation", "breadcrumb", "breadcrumbs",
    "author", "byline", "caption", "credit", "subscribe", "advert", "ad", "ads", "recommended", "teaser",
    "banner", "cookie", "menu", "signup", "tags", "meta", "bio", "more", "card", "rail", "aside", "promoted",
    "sponsored", "most", "read", "latest", "list", "links", "follow", "widget-title", "outbrain", "taboola",
))
_CONTENT_WORDS = frozenset(("article", "content", "post", "entry", "story", "body", "text", "main", "prose",
                            "paragraph", "section", "document", "highlight"))
_WORD_SPLIT = re.compile(r"[\s_-]+")
_CLASS_VALUES = re.compile(r'(?:class|id)="([^"]*)"')


@lru_cache(maxsize=4096)
def _value_words(values: str) -> tuple[int, int]:
    """(boilerplate, content) word counts of joined class/id values; cached: a page repeats the same
    few containers ("entry-content", "story-body") line after line, and sites repeat them across pages."""
    words = set(_WORD_SPLIT.split(values.lower()))
    return len(words & _BOILER_WORDS), len(words & _CONTENT_WORDS)


def _probes(core: str) -> tuple[str | None, int, str | None, int]:
    """(first probe, its offset, last probe, its offset): the longest word in the first and in the
    last `_PROBE_SPAN` characters of a line; the last one only if it lies after the first."""
    head = _PROBE.findall(core, 0, _PROBE_SPAN)
    if not head:
        return None, 0, None, 0
    first = max(head, key=len)
    first_off = core.find(first)
    tail_from = max(first_off + len(first), len(core) - _PROBE_SPAN)
    tail = _PROBE.findall(core, tail_from)
    if not tail:
        return first, first_off, None, 0
    last = max(tail, key=len)
    return first, first_off, last, core.find(last, tail_from)


@lru_cache(maxsize=1024)
def _tag_class(tag: str) -> int | None:
    """Column offset (into _TAG_COLUMNS) of an innermost container tag name, or -1; None for an
    inline tag, which is not a container. Cached: a page has a few dozen distinct tag spellings."""
    tag = tag.lower()
    if tag in _INLINE_TAGS:
        return None
    if tag == "a":
        return 0
    if tag[:1] == "h" and tag[1:2].isdigit():
        return 1
    if tag in ("li", "dt", "dd"):
        return 2
    if tag in _CAPTION_TAGS:
        return 3
    if tag == "p":
        return 4
    return -1


# Every tag spelling seen so far and its `_tag_class` (a dict lookup is cheaper than a cached call).
_TAG_CLASS: dict[str, int | None] = {}
_MISSING = object()


def _remember_tag_class(tag: str) -> int | None:
    """`_tag_class(tag)`, remembered in `_TAG_CLASS` (up to 4096 spellings: a page of invented tag
    names must not grow it without bound)."""
    k = _tag_class(tag)
    if len(_TAG_CLASS) < 4096:
        _TAG_CLASS[tag] = k
    return k


_TAG_COLUMNS = ("src_tag_a", "src_tag_heading", "src_tag_li", "src_tag_caption", "src_tag_p")
# Column offsets of SOURCE_FEATURES in a feature matrix (their order there is the tuple's order).
_OFF = {name: i for i, name in enumerate(SOURCE_FEATURES)}


def source_features(cores: list[str], html: str) -> dict[str, np.ndarray]:
    """One float32 column per name in SOURCE_FEATURES for the (whitespace-normalised) lines `cores`."""
    block = np.zeros((len(cores), len(SOURCE_FEATURES)), dtype=np.float32)
    source_features_into(block, cores, html)
    return {name: block[:, i] for i, name in enumerate(SOURCE_FEATURES)}


def source_features_into(out: np.ndarray, cores: list[str], html: str) -> None:
    """Write the SOURCE_FEATURES columns (in that order) of the lines `cores` into `out` (n, 11),
    which starts zeroed: one forward pass of `str.find` over the page, no per-line arrays."""
    n = len(cores)
    if not n or not html:
        return
    m = _BODY.search(html)
    body = m.start() if m else 0
    span = max(1, len(html) - body)
    pos = body  # where the previous located line ended
    rows: list[tuple] = []
    append = rows.append
    find = html.find
    findall = _PROBE.findall
    open_names = _OPEN_NAME.findall
    class_values = _CLASS_VALUES.findall
    tag_columns = _TAG_CLASS
    value_words = _value_words
    tag, boiler, content = -1, 0, 0
    for i, core in enumerate(cores):
        # The probes (see _probes), inlined: a function call per line costs as much as the search.
        head = findall(core, 0, _PROBE_SPAN)
        if not head:
            continue
        first = max(head, key=len) if len(head) > 1 else head[0]
        first_off = core.find(first)
        # Near the previous line first: a far-away earlier mention (an id, a link title) must not
        # make the search skip past the lines that follow.
        at = find(first, pos, pos + _NEAR)
        if at < 0:
            # The rest of the page, from the first start the near search could not see (a miss
            # reads the whole rest, ~0.1 ms on a news page: not twice over its first 16k).
            at = find(first, max(pos, pos + _NEAR - len(first) + 1))
            if at < 0:
                continue
        start_text = at - first_off
        start_text = max(start_text, pos)
        first_end = first_off + len(first)
        end = at + len(first)
        tail_from = len(core) - _PROBE_SPAN
        tail_from = max(tail_from, first_end)
        tail_words = findall(core, tail_from)
        if tail_words:
            last = max(tail_words, key=len) if len(tail_words) > 1 else tail_words[0]
            last_off = core.find(last, tail_from)
            # The last probe belongs to this line only if it is not too far away (markup inside a
            # line is a few times its text at most); otherwise the line ends where its first probe did.
            # Searched only that far: an unbounded search read the rest of the page for every line
            # whose last word is written differently in the source (an entity, a soft hyphen).
            at_last = find(last, end, end + 6 * (last_off - first_off) + 300 + len(last))
            if at_last >= 0:
                end = at_last + len(last)
        # The markup just before the line, read in place (findall's bounds, not a slice: neither
        # pattern looks behind its start or past its end).
        tail_start = max(pos, start_text - _TAIL)
        names = open_names(html, tail_start, at)
        # The innermost block that opens between the previous line and this one, with the class
        # words of the whole stretch; when none opens (a line break inside a paragraph, the code
        # lines of one <pre>) the same container, its tag and class words kept.
        for name in reversed(names):
            k = tag_columns.get(name, _MISSING)
            if k is _MISSING:
                k = _remember_tag_class(name)
            if k is not None:
                tag = k
                values = class_values(html, tail_start, at)
                boiler, content = value_words(" ".join(values)) if values else (0, 0)
                break
        append((i, start_text - pos, (end - start_text) / (len(core) or 1), at - body, tag, boiler, content))
        pos = end
    if not rows:
        return
    idx, gap, inline, off, tag_arr, boiler_arr, content_arr = (np.asarray(c) for c in zip(*rows))
    out[idx, _OFF["src_located"]] = 1.0
    out[idx, _OFF["src_gap"]] = np.log1p(np.maximum(gap, 0))
    out[idx, _OFF["src_inline"]] = np.log1p(np.maximum(inline, 0))
    out[idx, _OFF["src_rel_pos"]] = off / span
    has_tag = tag_arr >= 0
    out[idx[has_tag], _OFF["src_tag_a"] + tag_arr[has_tag]] = 1.0
    out[idx, _OFF["src_boiler_class"]] = np.log1p(boiler_arr)
    out[idx, _OFF["src_content_class"]] = np.log1p(content_arr)


__all__ = ["SOURCE_FEATURES", "source_features", "source_features_into"]
