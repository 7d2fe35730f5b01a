"""Model outputs against each other and against the crawled corpus, by goldpan's own dedup.

Why not an md5 of the text: a model asked twice for the same rewrite, or a rewrite that only
reformats its parent, gives near-identical text, never byte-identical text. The outputs of a batch
go through `goldpan.dedup.BatchDeduplicator` (exact, then MinHash LSH + verified Jaccard, with the
recipe's dedup settings, so the crawled corpus's index keys are comparable) as one batch:

- against the crawled corpus: the dedup index (`DeltaPriorStore`) of every crawl batch up to and
  including the outputs' own batch (their parents were deduplicated there);
- against each other: this batch's outputs, together with the kept outputs of earlier batches, which
  are fed first and win as representatives (`representative="oldest"`, by answer time), so only a
  new output is ever rejected. A crawled document always wins too: it is older.

URL and paragraph dedup are off (an output has no URL, and its paragraphs are its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from goldpan.dedup.clusters import RULE_EXACT, BatchDeduplicator, DedupInput
from goldpan.dedup.store import DeltaPriorStore
from goldpan.lake import Lake
from goldpan.recipe import DedupSection

DUP_OF_SYNTHETIC, DUP_OF_CRAWLED = "duplicate_of_synthetic", "duplicate_of_crawled"
# Sorts after every batch id that has `batch_id` as its whole id (ids are [A-Za-z0-9_.:-]): the crawled
# index up to and including the outputs' own batch.
_THROUGH = "~"


@dataclass(frozen=True)
class Output:
    doc_id: str
    text: str
    lang: str
    created_at: datetime | None


@dataclass(frozen=True)
class DupVerdict:
    rule: str  # duplicate_of_synthetic | duplicate_of_crawled
    duplicate_of: str
    value: float  # similarity (1.0 for an exact duplicate)
    threshold: float
    detail: str


def earlier_outputs(lake: Lake, batch_id: str) -> list[Output]:
    """Kept outputs of the batches before `batch_id` (they stay; a new output near them goes)."""
    if not lake.exists("synthetic_documents"):
        return []
    sql = ("SELECT doc_id, text, lang, created_at FROM synthetic_documents WHERE status = 'kept' AND batch_id < ? "
           "ORDER BY created_at, doc_id")
    return [Output(r["doc_id"], r["text"] or "", r["lang"] or "unknown", r["created_at"])
            for r in lake.iter_rows(sql, [batch_id], tables=["synthetic_documents"])]


def find_duplicates(lake: Lake, section: DedupSection, batch_id: str, outputs: Sequence[Output],
                    earlier: Sequence[Output] = ()) -> dict[str, DupVerdict]:
    """doc_id -> verdict for every output of `outputs` that duplicates a crawled document, an earlier
    kept output or another output of this batch; outputs absent from the result are unique."""
    if not outputs:
        return {}
    cfg = section.model_copy(update={"url_dedup": False, "paragraph_dedup": False, "representative": "oldest"})
    dd = BatchDeduplicator(cfg)
    docs = [DedupInput(o.doc_id, o.text, o.lang, None, o.created_at.timestamp() if o.created_at else None)
            for o in [*earlier, *outputs]]
    out = dd.run(docs, DeltaPriorStore(lake, batch_id + _THROUGH, dd.config_id))
    synthetic = {o.doc_id for o in [*earlier, *outputs]}
    mine = {o.doc_id for o in outputs}
    verdicts = {}
    for r in out.results:
        if r.doc_id not in mine or r.status == "kept" or not r.duplicate_of:
            continue
        exact = r.rule == RULE_EXACT
        rule = DUP_OF_SYNTHETIC if r.duplicate_of in synthetic else DUP_OF_CRAWLED
        sim = 1.0 if exact else float(r.similarity or 0.0)
        how = "exact duplicate (normalised text)" if exact else f"near duplicate ({r.match or 'jaccard'})"
        verdicts[r.doc_id] = DupVerdict(rule, r.duplicate_of, sim, float(r.threshold or cfg.threshold),
                                        f"{how} of {r.duplicate_of}")
    return verdicts
