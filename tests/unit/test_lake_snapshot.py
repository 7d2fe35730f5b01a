"""Pinned snapshots and safe concurrent commits (issue 22): what cross-batch steps read and how they write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from goldpan.lake import Lake, Snapshot, batch_predicate
from goldpan.lake.snapshot import COMMIT_KEY, of_commit

SCHEMA = pa.schema([("doc_id", pa.string()), ("batch_id", pa.string()), ("text", pa.string())])
REPO = Path(__file__).resolve().parents[2]


def _rows(batch: str, n: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([{"doc_id": f"{batch}-{i}", "batch_id": batch, "text": "文本 text"}
                                       for i in range(n)], schema=SCHEMA)


def _write(lake: Lake, batch: str, n: int, meta=None):
    return lake.write("documents", [_rows(batch, n)], SCHEMA, predicate=batch_predicate("batch_id", batch),
                      partition_by=["batch_id"], commit_metadata=meta)


def test_snapshot_pins_versions_and_hides_other_batches(tmp_path):
    lake = Lake(tmp_path / "lake")
    _write(lake, "b1", 3)
    snap = lake.snapshot(["documents"], batches=["b1"])
    _write(lake, "b2", 5)  # another run's batch, written after the snapshot
    _write(lake, "b1", 4)  # and a rewrite of b1
    with lake.connect(snapshot=snap, tables=["documents"]) as con:
        assert con.sql("SELECT batch_id, count(*) FROM documents GROUP BY 1").fetchall() == [("b1", 3)]
    with lake.connect(snapshot=Snapshot(snap.versions), tables=["documents"]) as con:  # all batches, pinned
        assert con.sql("SELECT count(*) FROM documents").fetchall()[0][0] == 3
    with lake.connect(tables=["documents"]) as con:  # latest
        assert con.sql("SELECT count(*) FROM documents").fetchall()[0][0] == 9


def test_empty_batch_list_shows_nothing_and_cross_batch_tables_stay_whole(tmp_path):
    lake = Lake(tmp_path / "lake")
    _write(lake, "b1", 2)
    lake.write("mix_decisions", [_rows("b1", 2)], SCHEMA)
    snap = lake.snapshot(["documents", "mix_decisions"], batches=[])
    with lake.connect(snapshot=snap, tables=["documents", "mix_decisions"]) as con:
        assert con.sql("SELECT count(*) FROM documents").fetchall()[0][0] == 0
        assert con.sql("SELECT count(*) FROM mix_decisions").fetchall()[0][0] == 2


def test_snapshot_round_trips_through_the_commit(tmp_path):
    lake = Lake(tmp_path / "lake")
    _write(lake, "b1", 1)
    snap = Snapshot({"documents": 0, "pages": 7}, ("b1", "b2"))
    res = lake.write("mix_decisions", [_rows("b1", 1)], SCHEMA, commit_metadata={COMMIT_KEY: snap.to_json()})
    lake.write("mix_decisions", [_rows("b1", 1)], SCHEMA)  # a later version without a snapshot
    assert of_commit(lake, "mix_decisions", res.version) == snap
    assert of_commit(lake, "mix_decisions", res.version + 1) is None
    assert snap.pinned(mix_decisions=3).versions == {"documents": 0, "pages": 7, "mix_decisions": 3}


WRITER = """
import sys
sys.path.insert(0, {repo!r})
import pyarrow as pa
from goldpan.lake import Lake
lake = Lake({root!r}, {opts!r})
schema = pa.schema([("doc_id", pa.string()), ("batch_id", pa.string()), ("text", pa.string())])
for i in range(8):
    rows = [{{"doc_id": f"{name}-{{i}}", "batch_id": {name!r}, "text": "x"}}]
    lake.write("pages", [pa.RecordBatch.from_pylist(rows, schema=schema)], schema, mode="append")
"""


@pytest.mark.slow
def test_two_writers_on_s3_lose_no_commit(local_s3):
    """Two processes appending to one table on the local S3 server, with deltalake's conditional-write
    commits (no unsafe rename): every row of both writers is there, each commit its own version."""
    _, s3, opts = local_s3
    s3.create_bucket(Bucket="conc")
    root = "s3://conc/lake"
    assert "AWS_S3_ALLOW_UNSAFE_RENAME" not in opts
    Lake(root, opts).ensure("pages", SCHEMA)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER.format(repo=str(REPO), root=root, opts=opts, name=n)],
                              stderr=subprocess.PIPE, text=True) for n in ("a", "b")]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    lake = Lake(root, opts)
    with lake.connect(tables=["pages"]) as con:
        ids = sorted(r[0] for r in con.sql("SELECT doc_id FROM pages").fetchall())
    assert ids == sorted([f"{n}-{i}" for n in "ab" for i in range(8)])
    assert lake.version("pages") == 16


def test_excluding_hides_batches_from_every_read_and_from_snapshots(tmp_path):
    lake = Lake(tmp_path / "lake")
    _write(lake, "b1", 2)
    _write(lake, "b2", 3)
    view = lake.excluding(["b2"])
    with view.connect(tables=["documents"]) as con:
        assert con.sql("SELECT DISTINCT batch_id FROM documents").fetchall() == [("b1",)]
    rows = [r for b in view.iter_batches("SELECT doc_id FROM documents", tables=["documents"]) for r in b.to_pylist()]
    assert len(rows) == 2
    snap = view.snapshot(["documents"])
    assert snap.excluded == ("b2",) and Snapshot.from_json(snap.to_json()) == snap
    _write(view, "b2", 1)  # writes go through unchanged
    with lake.connect(tables=["documents"]) as con:
        assert con.sql("SELECT count(*) FROM documents WHERE batch_id = 'b2'").fetchall()[0][0] == 1
