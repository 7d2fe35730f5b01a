"""The keep decision over stored quality scores: a threshold or a per-batch top fraction (DCLM ~10%).

Cheap on purpose: it reads `doc_scores` only, so changing the recipe's threshold re-decides without
re-scoring. A rejected document becomes one `quality_decisions` row (stage 'classify', rule
'quality_fasttext', value = its score, op '<', threshold = the cutoff actually applied; for
top_fraction that is the score of the last kept document, and ties at the cutoff are all kept).
Documents without a score (no model was trained) are not decided and are counted as such.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

STAGE = "classify"
RULE = "quality_fasttext"


@dataclass(frozen=True)
class KeepRule:
    mode: str  # top_fraction | threshold | off
    top_fraction: float = 0.1
    threshold: float = 0.5


def cutoff(scores: list[float], rule: KeepRule) -> float | None:
    """The score below which a document is rejected, or None when nothing is rejected."""
    if rule.mode == "off" or not scores:
        return None
    if rule.mode == "threshold":
        return rule.threshold
    if rule.mode == "top_fraction":
        keep = max(1, math.ceil(len(scores) * rule.top_fraction))
        return sorted(scores, reverse=True)[keep - 1]
    raise ValueError(f"unknown keep mode {rule.mode!r}")


def quality_rejections(rows: Iterable[dict], rule: KeepRule, recipe_id: str) -> tuple[Iterator[dict], dict]:
    """rows: doc_id, batch_id, quality_score. Returns (rejection rows, summary counts)."""
    rows = list(rows)
    scored = [r for r in rows if r["quality_score"] is not None]
    cut = cutoff([r["quality_score"] for r in scored], rule)
    rejected = [r for r in scored if cut is not None and r["quality_score"] < cut]
    summary = {"documents": len(rows), "scored": len(scored), "undecided_no_model": len(rows) - len(scored),
               "rejected": len(rejected), "kept": len(rows) - len(rejected), "cutoff": cut, "mode": rule.mode}

    def gen() -> Iterator[dict]:
        for r in sorted(rejected, key=lambda r: r["doc_id"]):
            yield {"batch_id": r["batch_id"], "stage": STAGE, "doc_id": r["doc_id"], "rule": RULE,
                   "value": float(r["quality_score"]), "op": "<", "threshold": float(cut), "recipe_id": recipe_id}

    return gen(), summary
