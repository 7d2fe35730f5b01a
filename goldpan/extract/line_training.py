"""Training examples for the line classifier: first-pass lines labelled against gold text.

Two kinds of gold:
- full main text (an article body, a documentation page's author-marked main container): a line is
  content when it occurs in the gold text, boilerplate when none of it does; lines that only
  partly match are left out rather than guessed;
- snippets (trafilatura's evaluation data: text that must / must not appear): only lines holding a
  snippet are labelled.

Each gold set gets the same total weight, so the many lines of long documentation pages do not
drown the news pages; within a set, a line weighs by the square root of its length (long lines carry
more of the scored text). The threshold is then chosen on the training pages by the page-level
score itself, not by line accuracy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from goldpan.extract.learned import first_pass, first_pass_tree, join_kept, kept_mask, page_features
from goldpan.extract.line_model import LineModel, merge_members, train_line_model
from goldpan.extract.lines import LINE_FEATURES

_BULLET = re.compile(r"^\s*(?:[•·▪◦\-*–]|\d+[.)])\s+")
_WORD = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(text.split())


def label_full_text(lines: Sequence[str], gold: str) -> list[float | None]:
    """1.0 content, 0.0 boilerplate, None unsure, for each line against a full gold text."""
    gold_norm = _norm(gold)
    gold_words = _WORD.findall(gold_norm.lower())
    gold_tri = {tuple(gold_words[i: i + 3]) for i in range(len(gold_words) - 2)}
    out: list[float | None] = []
    for line in lines:
        core = _norm(_BULLET.sub("", line))
        if core and core in gold_norm:
            out.append(1.0)
            continue
        words = _WORD.findall(core.lower())
        if len(words) < 4:
            out.append(0.0 if words else None)
            continue
        tri = [tuple(words[i: i + 3]) for i in range(len(words) - 2)]
        cov = sum(t in gold_tri for t in tri) / len(tri)
        out.append(1.0 if cov >= 0.6 else 0.0 if cov <= 0.2 else None)
    return out


def label_snippets(lines: Sequence[str], with_: Sequence[str], without: Sequence[str]) -> list[float | None]:
    """1.0 for lines holding a must-appear snippet, 0.0 for must-not-appear, else None."""
    pos = [_norm(s) for s in with_]
    neg = [_norm(s) for s in without]
    out: list[float | None] = []
    for line in lines:
        core = _norm(line)
        if any(s and s in core for s in pos):
            out.append(1.0)
        elif any(s and s in core for s in neg):
            out.append(0.0)
        else:
            out.append(None)
    return out


@dataclass
class PageExample:
    """One training page: its first-pass lines, features and line labels (None = not labelled)."""

    set_name: str
    lines: list[str]
    blank_before: list[bool]
    x: np.ndarray
    labels: list[float | None]


def page_example(set_name: str, html: str, gold) -> PageExample:
    """Features and labels of one page; `gold` is a text or {"with": [...], "without": [...]}."""
    tree = first_pass_tree(html)
    first = first_pass(tree)
    lines, blank_before, x = page_features(first, html, tree.title)
    if isinstance(gold, str):
        labels = label_full_text(lines, gold)
    else:
        labels = label_snippets(lines, gold["with"], gold["without"])
    return PageExample(set_name, lines, blank_before, x, labels)


def stack_examples(pages: Iterable[PageExample], neg_weight: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, weight) over all labelled lines; every set sums to the same weight.

    `neg_weight` multiplies the weight of boilerplate lines before the per-set normalisation:
    they are ~2-3 % of the labelled lines, and precision on news pages is decided by them.
    """
    rows, ys, ws, sets = [], [], [], []
    for p in pages:
        for i, lab in enumerate(p.labels):
            if lab is None:
                continue
            rows.append(p.x[i])
            ys.append(lab)
            ws.append(np.sqrt(max(1, len(p.lines[i]))) * (1.0 if lab == 1.0 else neg_weight))
            sets.append(p.set_name)
    if not rows:
        raise ValueError("no labelled lines to train on")
    w = np.asarray(ws, dtype=np.float64)
    set_arr = np.asarray(sets)
    for s in np.unique(set_arr):
        mask = set_arr == s
        w[mask] /= w[mask].sum()
    return np.vstack(rows).astype(np.float64), np.asarray(ys, dtype=np.float64), w


def choose_threshold(
    model: LineModel,
    pages: Sequence[PageExample],
    score_set: Callable[[str, list[str], list[int]], float],
    candidates: Sequence[float] = tuple(np.round(np.arange(0.3, 0.71, 0.05), 2)),
) -> tuple[float, dict]:
    """The threshold with the best mean page-level score over the sets (training pages only).

    `score_set(set_name, kept_texts, page_indices)` scores the kept texts of that set's pages.
    """
    probs = [model.predict(p.x) for p in pages]
    by_set: dict[str, list[int]] = {}
    for i, p in enumerate(pages):
        by_set.setdefault(p.set_name, []).append(i)
    table = {}
    for t in candidates:
        per_set = {}
        for s, idx in by_set.items():
            texts = []
            for i in idx:
                p = pages[i]
                kept = kept_mask(p.lines, p.x, probs[i], t)
                texts.append(join_kept(p.lines, p.blank_before, kept))
            per_set[s] = score_set(s, texts, idx)
        table[float(t)] = per_set
    best = max(table, key=lambda t: (sum(table[t].values()) / len(table[t]), -abs(t - 0.5)))
    return best, table



def train_from_pages(pages: Sequence[PageExample], seed: int, neg_weight: float = 1.0, ensemble: int = 1,
                     **kw) -> LineModel:
    """The line model fitted on `pages`; with `ensemble` k > 1, k networks from seeds seed..seed+k-1,
    folded into one (their logits averaged, see `merge_members`)."""
    x, y, w = stack_examples(pages, neg_weight)
    model = merge_members([train_line_model(x, y, w, list(LINE_FEATURES), seed=seed + i, **kw)
                           for i in range(ensemble)])
    model.meta["neg_weight"] = neg_weight
    model.meta.update(
        labelled_lines=len(y),
        train_lines_pos=int((y == 1).sum()),
        train_lines_neg=int((y == 0).sum()),
        positive_share=round(float((y * w).sum() / w.sum()), 4),
        pages_by_set={s: sum(1 for p in pages if p.set_name == s) for s in sorted({p.set_name for p in pages})},
    )
    return model


def line_confusion(model: LineModel, pages: Sequence[PageExample]) -> dict:
    """Line-level counts at the model's threshold over the labelled lines of `pages` (tables kept whole)."""
    tp = fp = fn = n_pos = n_neg = 0
    for p in pages:
        kept = kept_mask(p.lines, p.x, model.predict(p.x), model.threshold)
        for k, lab in zip(kept, p.labels):
            if lab is None:
                continue
            if lab == 1.0:
                n_pos += 1
                tp += bool(k)
                fn += not k
            else:
                n_neg += 1
                fp += bool(k)
    return {"pages": len(pages), "n_pos": n_pos, "n_neg": n_neg, "tp": tp, "fp": fp, "fn": fn}


__all__ = [
    "PageExample",
    "choose_threshold",
    "label_full_text",
    "label_snippets",
    "line_confusion",
    "page_example",
    "stack_examples",
    "train_from_pages",
]
