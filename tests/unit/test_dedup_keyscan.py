"""The index key scan reads files whatever string type their Arrow schema records."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from goldpan.dedup.keyscan import ProbeSet, matching_rows


def test_matching_rows_of_files_with_string_view_columns(tmp_path) -> None:
    """Files deltalake rewrote (a takedown, a compaction) carry Utf8View columns: the scan must read
    them like plain strings (a takedown rerun crashed dedup with 'array_take ... string_view')."""
    keys = np.array([11, -5, 42, 7, 3**30], dtype=np.int64)
    rows = {"key": keys, "doc_id": ["d1", "d2", "d3", "d4", "d5"], "batch_id": ["b1"] * 5}
    plain = pa.table(rows)
    views = plain.cast(pa.schema([("key", pa.int64()), ("doc_id", pa.string_view()), ("batch_id", pa.string_view())]))
    for name, table in (("plain", plain), ("views", views)):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(table, path, row_group_size=2)
        got = list(matching_rows([str(path)], ProbeSet(np.array([42, 3**30, 99], dtype=np.int64)), ["doc_id", "batch_id"]))
        assert got == [(42, "d3", "b1"), (3**30, "d5", "b1")], name
