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

from goldpan.extract.line_model import LineModel
from goldpan.extract.lines import anchor_texts, line_features, split_lines

# resiliparse options of the first pass: formatting kept (code blocks, table rows), list bullets
# (a feature), nothing that is not visible text.
FIRST_PASS_OPTIONS = {
    "main_content": True,
    "preserve_formatting": True,
    "list_bullets": True,
    "alt_texts": False,
    "links": False,
    "form_fields": False,
    "noscript": False,
    "comments": False,
    # bylines, dates and other post metadata out already in C (resiliparse's own heuristics)
    "post_meta": False,
}


# resiliparse's main-content mode drops every <ul> (measured: all unordered lists vanish, ordered
# ones stay), which loses the lists of documentation pages and recipes. The first pass therefore
# parses the page with unordered lists renamed to ordered ones; navigation lists that come back are
# link lines the classifier removes.
_UL = re.compile(r"<(/?)ul\b", re.IGNORECASE)


def lists_kept(html: str) -> str:
    """`html` with <ul> renamed <ol>, so resiliparse's main-content pass keeps the lists."""
    return _UL.sub(r"<\1ol", html)


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
    return lines, blank_before, line_features(lines, blank_before, blank_after, anchors, title)


def classify_lines(
    lines: list[str], blank_before: list[bool], x: np.ndarray, model: LineModel, threshold: float | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """(probs, kept mask, kept text): kept lines joined, paragraph breaks where the source had them."""
    probs = model.predict(x)
    kept = keep_tables_whole(lines, probs >= (model.threshold if threshold is None else threshold))
    return probs, kept, join_kept(lines, blank_before, kept)


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


def extract_lines(html: str, tree, model: LineModel, threshold: float | None = None) -> LineDecision:
    """Run the first pass on `tree` (`first_pass_tree(html)`) and keep the content lines."""
    first = first_pass(tree)
    lines, blank_before, x = page_features(first, html, tree.title)
    probs, kept, text = classify_lines(lines, blank_before, x, model, threshold)
    return LineDecision(lines, probs, kept, text, len(first))


__all__ = ["FIRST_PASS_OPTIONS", "LineDecision", "classify_lines", "extract_lines", "first_pass", "first_pass_tree", "join_kept", "keep_tables_whole", "lists_kept", "page_features"]
