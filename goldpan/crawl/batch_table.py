"""The `batches` table: one row per batch, saying where its pages came from and how its run went.

Why a table and not only Dagster's partition list: the partition key says nothing about its
source, and lineage questions ("which WARC file did this page come from?", "which crawl recipe?")
must be answerable from the lake alone. A WARC batch re-materialized from the UI (without the
run config that named its files) also finds its files here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from goldpan.lake.schemas import BATCHES

log = logging.getLogger(__name__)
TABLE = "batches"
CRAWL, WARC = "crawl", "warc"


def record_batch(
    lake,
    batch_id: str,
    *,
    kind: str,
    sources: Sequence[str],
    recipe_id: str | None,
    state: str,
    stats: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
) -> None:
    """Insert or replace the row of `batch_id` (merge on batch_id, retried on conflicts)."""
    now = datetime.now(UTC)
    row = {
        "batch_id": batch_id,
        "kind": kind,
        "sources_json": json.dumps(list(sources)),
        "recipe_id": recipe_id,
        "state": state,
        "started_at": started_at or now,
        "finished_at": now if state != "running" else None,
        "stats_json": json.dumps(dict(stats or {}), sort_keys=True, default=str),
        "run_id": run_id,
    }
    table = pa.Table.from_pylist([row], schema=BATCHES)
    if not lake.exists(TABLE):
        try:
            lake.write(TABLE, table, BATCHES, mode="append")
            return
        except Exception:
            if not lake.exists(TABLE):
                raise
    from deltalake.exceptions import CommitFailedError

    for attempt in range(8):
        try:
            (
                lake.table(TABLE)
                .merge(table, "t.batch_id = s.batch_id", source_alias="s", target_alias="t")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
            return
        except CommitFailedError:
            if attempt == 7:
                raise
            time.sleep(0.05 * 2**attempt)


def batch_info(lake, batch_id: str) -> dict[str, Any] | None:
    """The registry row of `batch_id` with `sources` decoded, or None if never recorded."""
    if not lake.exists(TABLE):
        return None
    rows = list(lake.iter_rows(f"SELECT * FROM {TABLE} WHERE batch_id = ?", [batch_id], tables=[TABLE]))
    if not rows:
        return None
    row = rows[0]
    row["sources"] = json.loads(row["sources_json"] or "[]")
    return row
