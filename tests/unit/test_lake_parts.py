"""Parquet parts written into a Delta table's location and committed once (goldpan.lake.parts): what
Ray workers write. A committed part reads like `Lake.write`'s files; an uncommitted one is invisible."""

from __future__ import annotations

import pyarrow as pa
import pytest

from goldpan.lake import Lake, batch_predicate
from goldpan.lake.parts import PartTarget, PartWriter, commit_parts

SCHEMA = pa.schema([("doc_id", pa.string()), ("batch_id", pa.string()), ("text", pa.string()),
                    ("n_tokens", pa.int64()), ("tags", pa.list_(pa.string()))])
TEXTS = ["The freight yard behind Willow Street sat empty for a decade.", "清晨六点，山上的雾还没有散开。",
         "Restoring a bicycle is mostly patience.", "采茶的人已经背着竹篓走进了茶园。"]


def _rows(batch: str, ids: range) -> list[dict]:
    return [{"doc_id": f"{batch}-d{i}", "batch_id": batch, "text": TEXTS[i % 4], "n_tokens": i if i % 3 else None,
             "tags": ["en" if i % 2 == 0 else "zh"]} for i in ids]


def _part(lake: Lake, batch: str, ids: range, label: str = "00000"):
    w = PartWriter(PartTarget(lake.uri("docs"), None, SCHEMA, {"batch_id": batch}), label)
    w.write(pa.RecordBatch.from_pylist(_rows(batch, ids), schema=SCHEMA))
    return w.close()


def _content(lake: Lake) -> list[tuple]:
    t = lake.read_table("docs")
    return sorted(tuple(r[c] if not isinstance(r[c], list) else tuple(r[c]) for c in SCHEMA.names)
                  for r in t.to_pylist())


def test_parts_committed_per_batch_read_as_lake_write_does(tmp_path) -> None:
    parts_lake, ref = Lake(tmp_path / "parts"), Lake(tmp_path / "ref")
    for batch, chunks in (("b1", [range(5), range(5, 9)]), ("b2", [range(3)])):
        res = commit_parts(parts_lake, "docs", [_part(parts_lake, batch, c, f"{i:05d}") for i, c in enumerate(chunks)],
                           SCHEMA, partition_by=["batch_id"], replace={"batch_id": batch})
        assert res.rows == sum(len(c) for c in chunks)
        ref.write("docs", [pa.RecordBatch.from_pylist(_rows(batch, c), schema=SCHEMA) for c in chunks], SCHEMA,
                  predicate=batch_predicate("batch_id", batch), partition_by=["batch_id"])
    assert _content(parts_lake) == _content(ref) and len(_content(ref)) == 12
    assert parts_lake.version("docs") == ref.version("docs") == 1  # one commit per batch
    with parts_lake.connect(tables=["docs"]) as con:  # DuckDB reads the batch from the hive path
        assert con.execute("SELECT batch_id, count(*) FROM docs GROUP BY 1 ORDER BY 1").fetchall() == [("b1", 9), ("b2", 3)]
    stats = parts_lake.table("docs").get_add_actions(flatten=True)
    assert sorted(stats.column("num_records").to_pylist()) == [3, 4, 5]

    # a rerun of b1 replaces b1 only; a part written but never committed (a dead task's) stays invisible
    _part(parts_lake, "b1", range(100, 130), "99999")
    commit_parts(parts_lake, "docs", [_part(parts_lake, "b1", range(2))], SCHEMA, partition_by=["batch_id"],
                 replace={"batch_id": "b1"})
    got = _content(parts_lake)
    assert [r[0] for r in got] == ["b1-d0", "b1-d1", "b2-d0", "b2-d1", "b2-d2"]


def test_appended_parts_add_rows(tmp_path) -> None:
    lake = Lake(tmp_path / "lake")
    target = PartTarget(lake.uri("docs"), None, SCHEMA)
    for i in range(2):
        w = PartWriter(target, f"{i:05d}")
        w.write(pa.RecordBatch.from_pylist(_rows("b1", range(i * 3, i * 3 + 3)), schema=SCHEMA))
        commit_parts(lake, "docs", [w.close()], SCHEMA, mode="append")
    assert len(_content(lake)) == 6 and lake.version("docs") == 1


def test_a_row_of_another_batch_cannot_enter_the_part_and_an_empty_part_writes_nothing(tmp_path) -> None:
    lake = Lake(tmp_path / "lake")
    w = PartWriter(PartTarget(lake.uri("docs"), None, SCHEMA, {"batch_id": "b1"}), "00000")
    with pytest.raises(ValueError, match="outside the partition"):
        w.write(pa.RecordBatch.from_pylist(_rows("b2", range(2)), schema=SCHEMA))
    assert PartWriter(PartTarget(lake.uri("docs"), None, SCHEMA, {"batch_id": "b1"}), "00001").close() is None
    with pytest.raises(ValueError, match="unsafe partition value"):
        PartWriter(PartTarget(lake.uri("docs"), None, SCHEMA, {"batch_id": "b1'; DROP"}), "00002")
