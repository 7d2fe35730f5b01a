"""Unit tests for goldpan.lake.delta: predicate overwrites, failed writes, time travel, DuckDB views.

Real Delta tables under tmp_path, read back with deltalake and with DuckDB.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import REJECTIONS

SCHEMA = pa.schema([("batch_id", pa.string()), ("k", pa.int64()), ("v", pa.string())])


def rows(batch: str, n: int, start: int = 0) -> list[dict]:
    return [{"batch_id": batch, "k": i, "v": f"{batch}-{i}"} for i in range(start, start + n)]


def write_batch(lake: Lake, batch: str, n: int, start: int = 0, **kw):
    return lake.write(
        "t",
        rows_to_batches(rows(batch, n, start), SCHEMA),
        SCHEMA,
        predicate=batch_predicate("batch_id", batch),
        partition_by=["batch_id"],
        **kw,
    )


def counts(lake: Lake, version: int | None = None) -> dict[str, int]:
    with lake.connect(versions={"t": version} if version is not None else None, tables=["t"]) as con:
        return dict(con.sql("SELECT batch_id, count(*) FROM t GROUP BY ALL").fetchall())


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")


def test_predicate_overwrite_replaces_exactly_one_batch(lake):
    r1 = write_batch(lake, "b1", 3)
    r2 = write_batch(lake, "b2", 2)
    assert (r1.version, r1.rows, r2.version, r2.rows) == (0, 3, 1, 2)
    assert counts(lake) == {"b1": 3, "b2": 2}

    r3 = write_batch(lake, "b1", 1, start=10)
    assert (r3.version, r3.rows) == (2, 1)
    assert counts(lake) == {"b1": 1, "b2": 2}
    got = sorted(lake.table("t").to_pyarrow_table().to_pylist(), key=lambda r: (r["batch_id"], r["k"]))
    assert got == [
        {"batch_id": "b1", "k": 10, "v": "b1-10"},
        {"batch_id": "b2", "k": 0, "v": "b2-0"},
        {"batch_id": "b2", "k": 1, "v": "b2-1"},
    ]


def test_rewriting_the_same_batch_twice_does_not_duplicate(lake):
    write_batch(lake, "b1", 4)
    write_batch(lake, "b1", 4)
    assert counts(lake) == {"b1": 4}
    assert lake.version("t") == 1


def test_row_outside_the_predicate_fails_and_leaves_the_version(lake):
    write_batch(lake, "b1", 3)
    write_batch(lake, "b2", 2)
    assert lake.version("t") == 1

    stray = rows("b1", 1) + rows("b3", 1)  # b3 is outside "batch_id = 'b1'"
    with pytest.raises(Exception, match="failed validation"):
        lake.write(
            "t",
            rows_to_batches(stray, SCHEMA),
            SCHEMA,
            predicate=batch_predicate("batch_id", "b1"),
            partition_by=["batch_id"],
        )
    assert lake.version("t") == 1
    assert counts(lake) == {"b1": 3, "b2": 2}


def test_zero_row_rewrite_clears_the_batch(lake):
    write_batch(lake, "b1", 3)
    write_batch(lake, "b2", 2)
    r = lake.write("t", [], SCHEMA, predicate=batch_predicate("batch_id", "b1"), partition_by=["batch_id"])
    assert (r.version, r.rows) == (2, 0)
    assert counts(lake) == {"b2": 2}


def test_commit_metadata_appears_in_history(lake):
    write_batch(lake, "b1", 1, commit_metadata={"run_id": "run-a", "code_version": "abc123"})
    write_batch(lake, "b2", 1, commit_metadata={"run_id": "run-b", "attempt": 2})
    hist = lake.history("t")
    assert [h["version"] for h in hist] == [1, 0]
    assert (hist[1]["run_id"], hist[1]["code_version"]) == ("run-a", "abc123")
    assert (hist[0]["run_id"], hist[0]["attempt"]) == ("run-b", "2")  # values are stored as strings
    assert all(h["operation"] == "WRITE" for h in hist)
    assert lake.history("never_written") == []


def test_connect_time_travel_reads_old_versions(lake):
    write_batch(lake, "b1", 3)  # v0
    write_batch(lake, "b2", 2)  # v1
    write_batch(lake, "b1", 1)  # v2
    assert counts(lake, version=0) == {"b1": 3}
    assert counts(lake, version=1) == {"b1": 3, "b2": 2}
    assert counts(lake, version=2) == {"b1": 1, "b2": 2}
    assert counts(lake) == {"b1": 1, "b2": 2}
    assert lake.table("t", version=0).version() == 0
    assert lake.dataset("t", version=0).count_rows() == 3


def test_iter_batches_streams_in_batches(lake):
    write_batch(lake, "b1", 25)
    batches = list(lake.iter_batches("SELECT k FROM t ORDER BY k", tables=["t"], batch_size=10))
    assert len(batches) >= 3
    assert all(b.num_rows <= 10 for b in batches)
    assert [k for b in batches for k in b.column("k").to_pylist()] == list(range(25))


def test_iter_batches_with_params_and_versions(lake):
    write_batch(lake, "b1", 5)  # v0
    write_batch(lake, "b1", 2)  # v1
    old = lake.iter_batches(
        "SELECT count(*) AS n FROM t WHERE k >= ?", params=[1], tables=["t"], versions={"t": 0}
    )
    new = lake.iter_batches("SELECT count(*) AS n FROM t WHERE k >= ?", params=[1], tables=["t"])
    assert next(iter(old)).to_pylist() == [{"n": 4}]
    assert next(iter(new)).to_pylist() == [{"n": 1}]


def test_iter_rows_yields_dicts(lake):
    write_batch(lake, "b1", 3)
    out = list(
        lake.iter_rows("SELECT batch_id, k, v FROM t WHERE k > 0 ORDER BY k", tables=["t"], batch_size=1)
    )
    assert out == [{"batch_id": "b1", "k": 1, "v": "b1-1"}, {"batch_id": "b1", "k": 2, "v": "b1-2"}]


def test_iter_batches_feeds_a_write_to_another_table(lake):
    """The documented use: a query stream consumed by a Delta write (no nested-runtime panic)."""
    write_batch(lake, "b1", 4)
    src = lake.iter_batches("SELECT batch_id, k * 10 AS k, v FROM t ORDER BY k", tables=["t"], batch_size=2)
    r = lake.write("t2", src, SCHEMA)
    assert (r.version, r.rows) == (0, 4)
    assert sorted(lake.table("t2").to_pyarrow_table().column("k").to_pylist()) == [0, 10, 20, 30]


@pytest.mark.parametrize("bad", ["x' OR 1=1", "x'; DROP TABLE t; --", "", "a b", "é", "x" * 129])
def test_batch_predicate_rejects_unsafe_values(bad):
    with pytest.raises(ValueError, match="unsafe partition value"):
        batch_predicate("batch_id", bad)


def test_batch_predicate_accepts_generated_ids_and_checks_column():
    assert (
        batch_predicate("batch_id", "2024-05-01T10:00:00.5_run") == "batch_id = '2024-05-01T10:00:00.5_run'"
    )
    with pytest.raises(ValueError, match="unsafe column name"):
        batch_predicate("batch_id = batch_id OR 1", "b1")


def test_batch_id_with_colons_round_trips_through_hive_paths(lake):
    """Partition values are percent-encoded in the folder names; DuckDB's view must decode them."""
    b = "2024-05-01T10:00:00_run:7"
    write_batch(lake, b, 2)
    assert counts(lake) == {b: 2}


def test_producer_crash_mid_stream_fails_the_write_and_keeps_the_version(lake):
    write_batch(lake, "b1", 3)
    write_batch(lake, "b2", 2)

    def dying():
        yield pa.RecordBatch.from_pylist(rows("b1", 5, start=100), schema=SCHEMA)
        raise RuntimeError("crawler lost its connection")

    with pytest.raises(Exception, match="crawler lost its connection"):
        lake.write(
            "t", dying(), SCHEMA, predicate=batch_predicate("batch_id", "b1"), partition_by=["batch_id"]
        )
    assert lake.version("t") == 1
    assert counts(lake) == {"b1": 3, "b2": 2}
    assert sorted(lake.table("t").to_pyarrow_table().column("k").to_pylist()) == [0, 0, 1, 1, 2]


def test_producer_crash_on_first_write_creates_no_table(lake):
    def dying():
        raise RuntimeError("nothing to give")
        yield  # pragma: no cover

    with pytest.raises(Exception, match="nothing to give"):
        lake.write("fresh", dying(), SCHEMA)
    assert lake.exists("fresh") is False
    assert lake.version("fresh") is None


def test_empty_table_registers_with_its_schema(lake):
    lake.ensure("rejections", REJECTIONS)
    assert lake.version("rejections") == 0
    lake.ensure("rejections", REJECTIONS)  # idempotent: no second version
    assert lake.version("rejections") == 0
    assert "rejections" in lake.list_tables()
    with lake.connect() as con:
        cols = con.sql("DESCRIBE rejections").fetchall()
        assert [(c[0], c[1]) for c in cols] == [
            ("batch_id", "VARCHAR"),
            ("stage", "VARCHAR"),
            ("doc_id", "VARCHAR"),
            ("rule", "VARCHAR"),
            ("value", "DOUBLE"),
            ("op", "VARCHAR"),
            ("threshold", "DOUBLE"),
            ("recipe_id", "VARCHAR"),
        ]
        assert con.sql("SELECT count(*) FROM rejections").fetchall() == [(0,)]


def test_write_accepts_a_loose_batch_and_conforms_it(lake):
    loose = pa.RecordBatch.from_pylist([{"v": "x", "k": 1, "batch_id": "b1"}])  # other order, inferred types
    lake.write("t", [loose], SCHEMA)
    assert lake.table("t").to_pyarrow_table().to_pylist() == [{"batch_id": "b1", "k": 1, "v": "x"}]
    assert pa.schema(lake.table("t").schema()).names == SCHEMA.names


def test_write_accepts_a_table_and_overwrites_whole_table_without_predicate(lake):
    write_batch(lake, "b1", 2)
    write_batch(lake, "b2", 2)
    lake.write("t", pa.Table.from_pylist(rows("b9", 1), schema=SCHEMA), SCHEMA, partition_by=["batch_id"])
    assert counts(lake) == {"b9": 1}


def test_table_names_and_missing_tables(lake):
    with pytest.raises(ValueError, match="bad table name"):
        lake.uri("../escape")
    assert lake.table("nothing") is None
    assert lake.dataset("nothing") is None
    assert lake.list_tables() == []
    write_batch(lake, "b1", 1)
    assert lake.list_tables() == ["t"]
    assert lake.uri("t").endswith("/lake/t")


def test_rows_to_batches_groups_rows():
    batches = list(rows_to_batches(rows("b1", 5), SCHEMA, batch_size=2))
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert all(b.schema == SCHEMA for b in batches)
    assert list(rows_to_batches([], SCHEMA)) == []


def test_a_newer_schema_writes_into_a_lake_written_by_an_older_goldpan(tmp_path) -> None:
    """Upgrading goldpan adds columns (signals, scores): the next batch's write must not fail on the
    old table; earlier batches read null in the new columns, and a table replaced whole takes the
    new schema."""
    lake = Lake(tmp_path / "lake")
    old = pa.schema([("batch_id", pa.string()), ("doc_id", pa.string()), ("n_words", pa.int64())])
    new = old.append(pa.field("keyword_dominance", pa.float64()))
    lake.write("doc_signals", pa.table({"batch_id": ["b1", "b2"], "doc_id": ["d1", "d2"], "n_words": [120, 80]},
                                       schema=old), old, partition_by=["batch_id"])
    lake.write("doc_signals", pa.table({"batch_id": ["b2"], "doc_id": ["d2"], "n_words": [81],
                                        "keyword_dominance": [2.5]}, schema=new),
               new, mode="overwrite", predicate="batch_id = 'b2'", partition_by=["batch_id"])
    rows = {r["doc_id"]: r for r in lake.read_table("doc_signals").to_pylist()}
    assert rows["d1"]["n_words"] == 120 and rows["d1"]["keyword_dominance"] is None
    assert rows["d2"]["n_words"] == 81 and rows["d2"]["keyword_dominance"] == 2.5
    narrow = pa.schema([("batch_id", pa.string()), ("doc_id", pa.string())])
    lake.write("mix_like", pa.table({"batch_id": ["b1"], "doc_id": ["d1"], "n_words": [1]}), old)
    lake.write("mix_like", pa.table({"batch_id": ["b1"], "doc_id": ["d9"]}, schema=narrow), narrow)
    assert lake.read_table("mix_like").to_pylist() == [{"batch_id": "b1", "doc_id": "d9"}]
