"""goldpan's fast extractor: resiliparse's main-content pass, then a learned line classifier.

Pure per page: (decoded HTML, its parsed tree) -> kept text plus how sure the classifier was. The
model is loaded once per process (`load_line_model` is cached), so pooled workers pay for it once.

Why this shape: resiliparse finds the content region fast but keeps boilerplate lines inside it
(precision ~0.88 on news against trafilatura's ~0.96); the classifier removes those lines at a cost
of well under a millisecond per page, where trafilatura spends ~20 ms (bench/extract_quality.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from goldpan.extract.extractors import RESILIPARSE_TEXT_OPTIONS
from goldpan.extract.line_model import LineModel
from goldpan.extract.lines import _FAST as FAST
from goldpan.extract.lines import LINE_FEATURES, anchor_texts, line_features, split_lines

# resiliparse options of the first pass: the resiliparse extractor's (list bullets are a feature), and
# bylines, dates and other post metadata out already in C (resiliparse's own heuristics).
FIRST_PASS_OPTIONS = {**RESILIPARSE_TEXT_OPTIONS, "post_meta": False}


# resiliparse's main-content mode drops every <ul> (measured: all unordered lists vanish, ordered
# ones stay), which loses the lists of documentation pages and recipes. The first pass therefore
# parses the page with unordered lists renamed to ordered ones; navigation lists that come back are
# link lines the classifier removes.
# Case spelled out, not re.IGNORECASE: the scan over the page is ~1.3x faster.
_UL = re.compile(r"<(/?)[uU][lL]\b")


def lists_kept(html: str) -> str:
    """`html` with <ul> renamed <ol>, so resiliparse's main-content pass keeps the lists.

    Split and joined rather than `re.sub` with a template, which expands the template in Python
    for every one of a page's dozens of tags. The compiled scan (goldpan/extract/_fastlines.c) gives
    the same string at a third of the cost where it is built."""
    if FAST is not None:
        return FAST.lists_kept(html)
    parts = _UL.split(html)
    if len(parts) == 1:
        return html
    parts[1::2] = ["</ol" if slash else "<ol" for slash in parts[1::2]]
    return "".join(parts)


@dataclass
class LineDecision:
    """The first-pass lines of one page, their P(content), and the text that was kept."""

    lines: list[str]
    probs: np.ndarray
    kept: np.ndarray
    text: str
    first_pass_chars: int

    @property
    def uncertainty(self) -> float:
        """Character-weighted share of lines whose P(content) lies in 0.25..0.75."""
        if not self.lines:
            return 1.0
        lens = np.fromiter((len(x) for x in self.lines), dtype=np.float64, count=len(self.lines))
        unsure = (self.probs > 0.25) & (self.probs < 0.75)
        return float((lens * unsure).sum() / max(1.0, lens.sum()))


def first_pass(tree) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(tree, **FIRST_PASS_OPTIONS)


def page_features(first_text: str, html: str, title: str | None):
    """(lines, blank-before flags, feature matrix) of one page's first-pass text."""
    lines, blank_before, blank_after = split_lines(first_text)
    anchors = anchor_texts(html) if lines else frozenset()
    return lines, blank_before, line_features(lines, blank_before, blank_after, anchors, title, html)


def classify_lines(
    lines: list[str], blank_before: list[bool], x: np.ndarray, model: LineModel, threshold: float | None,
    title: str | None = None, headline: bool = True,
) -> tuple[np.ndarray, np.ndarray, str]:
    """(probs, kept mask, kept text): kept lines joined, paragraph breaks where the source had them."""
    probs = model.predict(x)
    kept = kept_mask(lines, x, probs, model.threshold if threshold is None else threshold, title, headline)
    return probs, kept, join_kept(lines, blank_before, kept)


def kept_mask(lines: list[str], x: np.ndarray, probs: np.ndarray, threshold: float,
              title: str | None = None, headline: bool = True) -> np.ndarray:
    """Which lines stay: P(content) at the threshold, tables kept whole, the headline kept (unless
    `headline` is False: then the model decides, as for any line; the page title is in
    `documents.title` either way)."""
    kept = keep_tables_whole(lines, probs >= threshold)
    if headline:
        keep_headline(lines, x, kept, title)
    return kept


_IN_TITLE = LINE_FEATURES.index("in_title")
_PROSE_BEFORE = LINE_FEATURES.index("prose_before")


def keep_headline(lines: list[str], x: np.ndarray, kept: np.ndarray, title: str | None = None) -> None:
    """Keep the headline: the first line that matches the page title, before any prose.

    Why a rule: the news gold sets leave the headline out of the article body, so the classifier
    learned to drop title lines (short, no final punctuation), inconsistently by script (a Chinese
    headline went, an English one stayed); a document's headline is part of its text. The
    `in_title` feature skips lines under 8 characters, which a CJK headline often is: with the
    page's title at hand, such a line equal to the title counts too.
    """
    hit = (x[:, _IN_TITLE] > 0) & (x[:, _PROSE_BEFORE] == 0)
    title_norm = " ".join((title or "").split()).lower()
    if title_norm and len(title_norm) < 8:
        hit |= np.fromiter((" ".join(line.split()).lower() == title_norm for line in lines), dtype=bool,
                           count=len(lines))
    hits = np.flatnonzero(hit)
    if hits.size:
        kept[hits[0]] = True


def keep_tables_whole(lines: list[str], kept: np.ndarray) -> np.ndarray:
    """Table rows (resiliparse writes cells tab-separated) are kept or dropped as one table.

    Why: the model judges rows one by one and scores short cell rows low, while the documentation
    gold set keeps its tables (the training labels compared rows with gold text whose cells had
    lost their separators, so rows were rarely labelled content). A run of tab rows is kept when the
    line before it was kept (a table inside the text) or when most of its rows were.
    """
    kept = kept.copy()
    i, n = 0, len(lines)
    while i < n:
        if "\t" not in lines[i]:
            i += 1
            continue
        j = i
        while j < n and "\t" in lines[j]:
            j += 1
        keep = (i > 0 and bool(kept[i - 1])) or kept[i:j].mean() >= 0.5
        kept[i:j] = keep
        i = j
    return kept


def join_kept(lines: list[str], blank_before: list[bool], kept) -> str:
    """The kept lines, with a blank line wherever the first pass had a paragraph break."""
    out: list[str] = []
    for line, keep, blank in zip(lines, kept, blank_before):
        if keep:
            if blank and out:
                out.append("")
            out.append(line)
    return "\n".join(out)


def first_pass_tree(html: str):
    """The page parsed for the first pass (unordered lists renamed, see `lists_kept`)."""
    from resiliparse.parse.html import HTMLTree

    return HTMLTree.parse(lists_kept(html))


def extract_lines(html: str, tree, model: LineModel, threshold: float | None = None,
                  headline: bool = True) -> LineDecision:
    """Run the first pass on `tree` (`first_pass_tree(html)`) and keep the content lines."""
    first = first_pass(tree)
    lines, blank_before, x = page_features(first, html, tree.title)
    probs, kept, text = classify_lines(lines, blank_before, x, model, threshold, tree.title, headline)
    return LineDecision(lines, probs, kept, text, len(first))


__all__ = ["FIRST_PASS_OPTIONS", "LineDecision", "classify_lines", "extract_lines", "first_pass", "first_pass_tree", "join_kept", "keep_headline", "keep_tables_whole", "kept_mask", "lists_kept", "page_features"]
