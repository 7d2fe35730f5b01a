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


def test_slices_cut_in_the_scanned_table_cover_every_row_once_and_reach_the_parquet_scan(tmp_path) -> None:
    """A slice predicate in the driving table's view (LakeQuery.slice_table) gives the same slices as one
    around the whole query, joins included, and DuckDB evaluates it inside the Parquet scan."""
    from goldpan.engine.slices import LakeQuery

    lake = Lake(tmp_path / "lake")
    lake.write("docs", [pa.RecordBatch.from_pylist(_rows("b1", range(40)), schema=SCHEMA)], SCHEMA,
               partition_by=["batch_id"])
    tags = pa.schema([("doc_id", pa.string()), ("lang", pa.string())])
    lake.write("langs", [pa.RecordBatch.from_pylist([{"doc_id": f"b1-d{i}", "lang": "zh" if i % 2 else "en"}
                                                     for i in range(0, 40, 3)], schema=tags)], tags)
    sql = "SELECT d.doc_id, d.text, l.lang FROM docs d LEFT JOIN langs l ON l.doc_id = d.doc_id WHERE d.batch_id = ?"
    whole = sorted(lake.iter_rows(sql, ["b1"], tables=["docs", "langs"]), key=lambda r: r["doc_id"])
    for q in (LakeQuery(sql, ["b1"], ["docs", "langs"]), LakeQuery(sql, ["b1"], ["docs", "langs"], slice_table="docs")):
        got = []
        for i in range(3):
            got += [r for b in lake.iter_batches(q.slice_sql(i, 3), ["b1"], tables=q.tables,
                                                 row_filters=q.slice_filters(i, 3)) for r in b.to_pylist()]
        assert sorted(got, key=lambda r: r["doc_id"]) == whole and len(got) == 40
    q = LakeQuery(sql, ["b1"], ["docs", "langs"], slice_table="docs")
    with lake.connect(tables=q.tables, row_filters=q.slice_filters(1, 3)) as con:
        plan = con.execute("EXPLAIN " + sql.replace("?", "'b1'")).fetchall()[0][1]
    assert "Filters: (hash(doc_id) % 3) = 1" in plan  # in the READ_PARQUET node, not a Filter above it


def test_hash_tables_slice_every_source_of_a_union_and_each_slice_reads_only_its_own_rows(tmp_path) -> None:
    """A query with no driving table (doc_tokens' input: lake documents UNION curated ones, anti-joined
    to the counts) is sliced in each source's view (LakeQuery.hash_tables): the same rows as the hash
    around the whole query, and each source's Parquet scan reads only the slice's rows."""
    from goldpan.engine.slices import LakeQuery

    lake = Lake(tmp_path / "lake")
    lake.write("docs", [pa.RecordBatch.from_pylist(_rows("b1", range(30)), schema=SCHEMA)], SCHEMA)
    lake.write("curated", [pa.RecordBatch.from_pylist(_rows("c1", range(17)), schema=SCHEMA)], SCHEMA)
    done = pa.schema([("doc_id", pa.string()), ("text_md5", pa.string())])
    lake.write("counted", [pa.RecordBatch.from_pylist([{"doc_id": f"b1-d{i}", "text_md5": None} for i in range(0, 30, 4)]
                                                      + [{"doc_id": "c1-d3", "text_md5": None}], schema=done)], done)
    sql = """WITH src AS (SELECT doc_id, text FROM docs UNION ALL SELECT doc_id, text FROM curated)
             SELECT s.doc_id, md5(s.text) AS text_md5 FROM src s
             WHERE NOT EXISTS (SELECT 1 FROM counted c WHERE c.doc_id = s.doc_id) ORDER BY s.doc_id"""
    tables = ["docs", "curated", "counted"]
    whole = list(lake.iter_rows(sql, None, tables=tables))
    assert len(whole) == 30 - 8 + 17 - 1
    by_query, by_tables = LakeQuery(sql, None, tables), LakeQuery(sql, None, tables, hash_tables=tuple(tables))
    assert by_tables.slice_sql(1, 4) == sql and set(by_tables.slice_filters(1, 4)) == set(tables)
    for i in range(4):
        rows = [lake_rows for lake_rows in (
            [r for b in lake.iter_batches(q.slice_sql(i, 4), None, tables=tables, row_filters=q.slice_filters(i, 4))
             for r in b.to_pylist()] for q in (by_query, by_tables))]
        assert rows[0] == rows[1]  # the same slice, in the same order
    got = [r for i in range(4) for b in lake.iter_batches(sql, None, tables=tables, row_filters=by_tables.slice_filters(i, 4))
           for r in b.to_pylist()]
    assert sorted(got, key=lambda r: r["doc_id"]) == whole
    with lake.connect(tables=tables, row_filters=by_tables.slice_filters(2, 4)) as con:
        plan = con.execute("EXPLAIN " + sql).fetchall()[0][1]
        assert con.execute("SELECT count(*) FROM curated").fetchone()[0] < 17
    assert plan.count("Filters: (hash(doc_id) % 4) = 2") >= 2  # in each source's READ_PARQUET node


def test_file_slices_deal_the_partition_s_files_and_each_slice_reads_only_its_own(tmp_path) -> None:
    """With at least one file per slice in the read partition (what a Ray stage leaves: a part per slice),
    slices are whole files: together every row once, each slice only the rows of its files."""
    from goldpan.engine.slices import LakeQuery

    lake = Lake(tmp_path / "lake")
    for chunk in (range(10), range(10, 13), range(13, 30), range(30, 31)):  # four files in b1
        lake.write("docs", [pa.RecordBatch.from_pylist(_rows("b1", chunk), schema=SCHEMA)], SCHEMA, mode="append",
                   partition_by=["batch_id"])
    lake.write("docs", [pa.RecordBatch.from_pylist(_rows("b2", range(5)), schema=SCHEMA)], SCHEMA, mode="append",
               partition_by=["batch_id"])
    sql = "SELECT doc_id, text FROM docs WHERE batch_id = ?"
    q = LakeQuery(sql, ["b1"], ["docs"], slice_table="docs", slice_partition=(("batch_id", "b1"),))
    snap = lake.snapshot(["docs"])
    assert q.file_slices(lake, snap, 5) is None  # fewer files than slices: hash slices
    groups = q.file_slices(lake, snap, 3)
    assert groups is not None and len(groups) == 3 and sum(len(g) for g in groups) == 4
    assert all(p.startswith("batch_id=b1/") for g in groups for p in g)
    got = []
    for g in groups:
        rows = [r["doc_id"] for b in lake.iter_batches(sql, ["b1"], tables=["docs"], snapshot=snap, files={"docs": g})
                for r in b.to_pylist()]
        assert rows
        got += rows
    assert sorted(got) == sorted(f"b1-d{i}" for i in range(31))
