"""No lake table can be crashed by a value its type holds (issue "Real volume", item 1).

Every table schema (`goldpan.lake.schemas.TABLES` and `doc_signals`) gets rows of extreme values
written through `Lake.write` into a real Delta table and read back: integer minima and maxima, 0 and
2^32 - 1 in hash lists, empty lists, NaN and infinities, empty strings, a 10 MB text and 10 MB of
bytes. Delta has no unsigned types, so an unsigned column would fail here on 2^32 - 1.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from goldpan.dedup.minhash import MinHasher
from goldpan.filter.signals import signals_schema
from goldpan.lake import Lake
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DEDUP_CLUSTERS, TABLES

ALL_TABLES: dict[str, pa.Schema] = {**TABLES, "doc_signals": signals_schema()}
BIG_TEXT = ("Ein Satz über Gärten. 这是一个关于花园的句子。 " * 250_000)[: 10 * 1024 * 1024]
BIG_BYTES = bytes(range(256)) * (10 * 1024 * 1024 // 256)


def _extremes(t: pa.DataType) -> list:
    """Values of type `t` at the edges of its range (plus null), as Python objects."""
    if pa.types.is_boolean(t):
        return [True, False, None]
    if pa.types.is_integer(t):
        info = np.iinfo(t.to_pandas_dtype())
        return [int(info.min), int(info.max), 0, None]
    if pa.types.is_floating(t):
        return [math.nan, math.inf, -math.inf, -0.0, 1e308, None]
    if pa.types.is_timestamp(t):
        return [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), None]
    if pa.types.is_large_string(t):
        return ["", BIG_TEXT, "\x00nul and 🙂 astral", None]
    if pa.types.is_string(t):
        return ["", "x" * 100_000, "中文 にほんご 한국어", None]
    if pa.types.is_large_binary(t) or pa.types.is_binary(t):
        return [b"", BIG_BYTES if pa.types.is_large_binary(t) else b"\x00\xff", None]
    if pa.types.is_list(t) and pa.types.is_integer(t.value_type):
        return [[], [0, 2**32 - 1, 2**31, 2**63 - 1, -(2**63)], None]
    if pa.types.is_list(t):
        return [[], [v for v in _extremes(t.value_type) if v is not None], None]
    raise AssertionError(f"no extreme values for {t}: extend this test for the new type")


def _rows(schema: pa.Schema) -> list[dict]:
    """Enough rows that every column takes every one of its extreme values once."""
    per_col = {f.name: _extremes(f.type) for f in schema}
    n = max(len(v) for v in per_col.values())
    return [{name: vals[i % len(vals)] for name, vals in per_col.items()} for i in range(n)]


def test_no_table_uses_an_unsigned_type() -> None:
    def unsigned(t: pa.DataType) -> bool:
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return unsigned(t.value_type)
        return pa.types.is_unsigned_integer(t)

    bad = [(name, f.name) for name, s in ALL_TABLES.items() for f in s if unsigned(f.type)]
    assert bad == []


@pytest.mark.parametrize("table", sorted(ALL_TABLES))
def test_extreme_values_round_trip_through_delta(tmp_path, table: str) -> None:
    schema = ALL_TABLES[table]
    rows = _rows(schema)
    lake = Lake(tmp_path / "lake")
    written = lake.write(table, rows_to_batches(rows, schema, batch_size=2), schema, mode="append")
    assert written.rows == len(rows)
    back = lake.table(table).to_pyarrow_table().to_pylist()
    assert len(back) == len(rows)

    def key(r: dict) -> tuple:
        return tuple(repr(r[f.name]) if not pa.types.is_large_string(f.type) else len(r[f.name] or "") for f in schema)

    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
            return math.isnan(b)
        return a == b

    for want, got in zip(sorted(rows, key=key), sorted(back, key=key), strict=True):
        for f in schema:
            assert same(want[f.name], got[f.name]), (table, f.name)


def test_empty_and_short_document_signatures_survive_dedup_clusters(tmp_path) -> None:
    """The crash of the issue: an empty shingle set gives 0xFFFFFFFF minima, a short one values >= 2^31."""
    m = MinHasher(14, 8)
    empty = m.signature(np.empty(0, dtype=np.uint64))
    short = m.signature(np.array([12345], dtype=np.uint64))
    assert int(empty.max()) == 2**32 - 1 and int(short.max()) >= 2**31
    base = dict.fromkeys(DEDUP_CLUSTERS.names)
    rows = [
        {**base, "doc_id": "empty", "batch_id": "b1", "signature": empty.tolist(), "band_keys": m.band_keys(empty).tolist()},
        {**base, "doc_id": "short", "batch_id": "b1", "signature": short.tolist(), "band_keys": m.band_keys(short).tolist()},
    ]
    lake = Lake(tmp_path / "lake")
    lake.write("dedup_clusters", rows_to_batches(rows, DEDUP_CLUSTERS), DEDUP_CLUSTERS, partition_by=["batch_id"])
    back = {r["doc_id"]: np.asarray(r["signature"], dtype=np.int64).astype(np.uint32)
            for r in lake.iter_rows("SELECT doc_id, signature FROM dedup_clusters", tables=["dedup_clusters"])}
    assert np.array_equal(back["empty"], empty) and np.array_equal(back["short"], short)


def test_a_row_that_does_not_fit_its_type_does_not_fail_the_batch(tmp_path) -> None:
    """A lone surrogate (undecodable bytes kept by `surrogateescape`) or an int beyond int32 in one row
    is repaired in that row only (replacement character, null); the other rows are written unchanged."""
    schema = pa.schema([("doc_id", pa.string()), ("text", pa.large_string()), ("depth", pa.int32())])
    rows = [
        {"doc_id": "good", "text": "Gärten 花园", "depth": 3},
        {"doc_id": "surrogate", "text": b"caf\xe9".decode("utf-8", "surrogateescape"), "depth": 1},
        {"doc_id": "overflow", "text": "ok", "depth": 2**40},
    ]
    lake = Lake(tmp_path / "lake")
    lake.write("t", rows_to_batches(rows, schema), schema, mode="append")
    back = {r["doc_id"]: r for r in lake.table("t").to_pyarrow_table().to_pylist()}
    assert back["good"] == rows[0]
    assert back["surrogate"]["text"] == "caf\ufffd" and back["surrogate"]["depth"] == 1
    assert back["overflow"]["depth"] is None and back["overflow"]["text"] == "ok"
