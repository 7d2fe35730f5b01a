"""Work units finer than files (goldpan.engine.units): runs of row groups that cover every row once.

A `documents`-like table of real English and Chinese prose, written the way Ray stages write it
(Parquet parts, one row group per record batch, committed by the driver); it is cut into units and
each unit is read the way a worker reads its slice (`read_slice`): every row exactly once, whatever
the number of units, on a local lake and on the S3 server, and the scans read only their row groups.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from goldpan.engine.slices import LakeQuery, plan_slices, read_slice
from goldpan.engine.units import RowGroup, cut_units, unit_shares
from goldpan.lake import Lake
from goldpan.lake.parts import PartTarget, PartWriter, commit_parts
from goldpan.lake.ranges import FileRange
from tests.fixtures.dedup_texts import EN_BICYCLE, EN_GARDEN, ZH_RIVER, ZH_TEA

BATCH = "b-units"
SCHEMA = pa.schema([("doc_id", pa.string()), ("batch_id", pa.string()), ("lang", pa.string()), ("text", pa.string())])
TEXTS = [("en", EN_GARDEN), ("en", EN_BICYCLE), ("zh", ZH_TEA), ("zh", ZH_RIVER)]
QUERY = LakeQuery("SELECT doc_id, lang, length(text) AS n FROM docs WHERE batch_id = ?", [BATCH], ("docs",),
                  batch_rows=7, slice_table="docs", slice_partition=(("batch_id", BATCH),))


def _write_parts(lake: Lake, files: list[int], rows_per_group: int = 5) -> list[str]:
    """One part per entry of `files` (that many rows), a row group every `rows_per_group` rows;
    the heavy part is the one with the most rows, as a WARC shard of long pages would be."""
    target = PartTarget(lake.uri("docs"), lake.storage_options, SCHEMA, {"batch_id": BATCH})
    parts, ids, n = [], [], 0
    for f, rows in enumerate(files):
        w = PartWriter(target, f"{f:05d}")
        for start in range(0, rows, rows_per_group):
            k = range(n + start, n + min(rows, start + rows_per_group))
            lang_text = [TEXTS[i % len(TEXTS)] for i in k]
            ids += [f"d{i:04d}" for i in k]
            w.write(pa.RecordBatch.from_pydict({"doc_id": [f"d{i:04d}" for i in k], "batch_id": [BATCH] * len(k),
                                                "lang": [lg for lg, _ in lang_text],
                                                "text": [f"{t} ({i})" for i, (_, t) in zip(k, lang_text, strict=True)]},
                                               schema=SCHEMA))
        n += rows
        parts.append(w.close())
    commit_parts(lake, "docs", parts, SCHEMA, partition_by=["batch_id"])
    return ids


class _Engine:
    """What plan_slices reads of an engine: workers and how to cut."""

    def __init__(self, workers: int, slice_unit: str, tasks_per_worker: int):
        self.workers, self.slice_unit, self.tasks_per_worker = workers, slice_unit, tasks_per_worker


def _read_all(lake: Lake, engine: _Engine) -> tuple[list[list[str]], str]:
    snapshot = lake.snapshot(["docs"])
    slices, units, cut = plan_slices(lake, QUERY, snapshot, engine)
    got = [[r["doc_id"] for b in read_slice(lake, QUERY, snapshot, slices, units, i) for r in b.to_pylist()]
           for i in range(slices)]
    return got, cut


def test_cut_units_covers_every_row_group_once_in_about_equal_bytes() -> None:
    groups = [RowGroup("a", 0, 10, 100), RowGroup("a", 10, 20, 100), RowGroup("a", 20, 30, 100),
              RowGroup("b", 0, 5, 100), RowGroup("c", 0, 10, 400), RowGroup("c", 10, 12, 40)]
    units = cut_units(groups, 4)
    assert len(units) == 4
    covered = [(r.path, r.lo, r.hi) for u in units for r in u]
    # whole files are FileRange(path); parts of files keep their row-group bounds
    assert covered == [("a", 0, 20), ("a", 20, 30), ("b", 0, None), ("c", 0, 10), ("c", 10, 12)]
    assert cut_units(groups, 1) == ((FileRange("a"), FileRange("b"), FileRange("c")),)
    assert cut_units([], 3) == ()
    assert len(cut_units(groups, 100)) == len(groups)  # never finer than a row group


def test_units_for_workers_are_handed_out_largest_first_and_cover_every_row_group_once() -> None:
    """Factoring: the last units are small, so the worker that finishes first waits only for a small
    one (bytes predict a unit's cost poorly: equal units ended 1 s apart on 2 workers)."""
    assert unit_shares(4) == [0.25] * 4
    assert unit_shares(2, workers=2) == [0.5, 0.5]  # one round: nothing to factor
    shares = unit_shares(8, workers=2)
    assert shares[0] == shares[1] == 2 * shares[2] == 4 * shares[4] == 8 * shares[6] == 8 * shares[7]
    assert sum(shares) == pytest.approx(1.0)
    groups = [RowGroup(p, lo, lo + 64, 1000 + 37 * (i % 5)) for i, (p, lo) in
              enumerate((p, lo) for p in "abc" for lo in range(0, 64 * 40, 64))]
    units = cut_units(groups, 8, workers=2)
    assert len(units) == 8
    covered = [(r.path, r.lo or 0, r.hi if r.hi is not None else 64 * 40) for u in units for r in u]
    assert covered == sorted(covered)
    rows = [row for path, lo, hi in covered for row in ((path, x) for x in range(lo, hi))]
    assert len(rows) == len(set(rows)) == len(groups) * 64  # every row once, in order
    size = {g.path + str(g.lo): g.nbytes for g in groups}
    unit_bytes = [sum(size[r.path + str(lo)] for r in u for lo in range(r.lo or 0, r.hi if r.hi is not None else 64 * 40, 64))
                  for u in units]
    assert unit_bytes[0] > 3 * unit_bytes[-1] and unit_bytes[1] > 3 * unit_bytes[-2]
    for got, want in zip(unit_bytes, shares):
        assert got / sum(unit_bytes) == pytest.approx(want, abs=0.02)


@pytest.mark.parametrize(("unit", "per_worker"), [("row_group", 4), ("row_group", 1), ("file", 2)])
def test_every_row_is_read_once_whatever_the_cut(tmp_path, unit: str, per_worker: int) -> None:
    lake = Lake(tmp_path / "lake")
    ids = _write_parts(lake, [60, 12, 8, 4])  # one heavy file, as a skewed WARC shard leaves
    got, cut = _read_all(lake, _Engine(2, unit, per_worker))
    assert sorted(d for s in got for d in s) == ids  # every row once
    assert cut == ("row_groups" if unit == "row_group" else "files")
    if unit == "row_group" and per_worker == 4:
        # the heavy file is spread over several tasks: no task holds more than the first round's share
        # (4/15 of the bytes, ~22 of 84 rows), and the last tasks are the smallest (a unit smaller than a
        # 5-row group is left empty and dropped: never finer than a row group)
        sizes = [len(s) for s in got]
        assert 6 <= len(got) <= 8 and max(sizes) <= 25 and max(sizes[-2:]) < min(sizes[:2]), sizes


def test_whole_file_and_hash_cuts_take_at_most_two_slices_per_worker(tmp_path) -> None:
    """8 tasks per worker suit runs of row groups; a hash slice scans the whole partition, and whole
    files cannot be dealt into more slices than there are files."""
    lake = Lake(tmp_path / "lake")
    ids = _write_parts(lake, [60, 12, 8, 4])
    got, cut = _read_all(lake, _Engine(2, "file", 8))
    assert cut == "files" and len(got) == 4  # 4 files for 2 x 2 slices, not a hash cut into 16
    assert sorted(d for s in got for d in s) == ids
    one = Lake(tmp_path / "one")
    ids_one = _write_parts(one, [30], rows_per_group=30)  # one file of one row group: nothing to cut but the hash
    got, cut = _read_all(one, _Engine(2, "row_group", 8))
    assert cut == "hash" and len(got) == 4
    assert sorted(d for s in got for d in s) == ids_one


def test_a_unit_scans_only_its_row_groups(tmp_path) -> None:
    lake = Lake(tmp_path / "lake")
    _write_parts(lake, [40])
    path = lake.table("docs").get_add_actions(flatten=True).column("path")[0].as_py()
    with lake.connect(tables=["docs"], files={"docs": [FileRange(path, 10, 20)]}) as con:
        rows = con.execute("SELECT doc_id FROM docs ORDER BY doc_id").fetchall()
        plan = con.execute("EXPLAIN ANALYZE SELECT doc_id, text FROM docs").fetchall()[0][1]
    assert [r[0] for r in rows] == [f"d{i:04d}" for i in range(10, 20)]
    assert "Row Groups Scanned: 2 / 8" in plan, plan


def test_units_on_object_storage_read_every_row_once(local_s3) -> None:
    _endpoint, s3, opts = local_s3
    s3.create_bucket(Bucket="units")
    lake = Lake("s3://units/lake", opts)
    ids = _write_parts(lake, [30, 10])
    got, cut = _read_all(lake, _Engine(2, "row_group", 3))
    assert cut == "row_groups" and 4 <= len(got) <= 6  # a unit below one row group is dropped
    assert sorted(d for s in got for d in s) == ids
