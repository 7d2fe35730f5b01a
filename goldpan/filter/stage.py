"""The filter stage's per-document work: `doc_signals` for every document dedup kept.

Signals are computed once per document (Gopher quality and repetition, C4, FineWeb, PII) on the
engine's workers; the decisions (`rejections`) are a cheap re-evaluation over this table.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from goldpan.engine import Engine
from goldpan.engine.pooled import StageRun, count_rows, run_pooled
from goldpan.engine.slices import LakeQuery
from goldpan.filter.signals import compute_signal_batch, signals_schema
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.views import CURRENT_TEXT_SQL, kept_input

# The current text of every document dedup kept (paragraph dedup may have shortened it).
_KEPT_TABLE, _KEPT = kept_input("filter", alias="c")
SIGNALS_INPUT_SQL = (
    f"SELECT d.doc_id, d.batch_id, d.lang, {CURRENT_TEXT_SQL} AS text FROM documents d "
    f"JOIN {_KEPT_TABLE} c ON c.doc_id = d.doc_id AND c.batch_id = ? "
    f"WHERE d.batch_id = ? AND {_KEPT} ORDER BY d.doc_id"
)


def signals_batch(docs: pa.RecordBatch, _context: None = None) -> pa.RecordBatch:
    """Engine batch function: (doc_id, batch_id, lang, text) rows -> `doc_signals` rows, same order.
    A document whose signals raise is an error row (compute_signal_batch), never a failed batch."""
    return compute_signal_batch(docs.to_pylist())


def run(
    lake: Lake,
    batch_id: str,
    *,
    engine: Engine,
    commit_metadata: Mapping[str, str] | None = None,
    batch_rows: int = 128,
) -> StageRun:
    """Compute and write the signals of every document of `batch_id` that dedup kept (one commit)."""
    tables = ["documents", "dedup_clusters"]
    total = count_rows(lake, SIGNALS_INPUT_SQL, [batch_id, batch_id], tables)
    query = LakeQuery(SIGNALS_INPUT_SQL, [batch_id, batch_id], tables, batch_rows=batch_rows, slice_table="documents",
                       slice_partition=(("batch_id", batch_id),))
    return run_pooled(
        lake, engine, table="doc_signals", schema=signals_schema(), fn=signals_batch, context=None, query=query,
        predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"], commit_metadata=commit_metadata,
        total=total,
    )
