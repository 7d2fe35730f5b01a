"""Missing, empty and truncated WARC files at the import entry (issue 20), on the bundled sample WARC
(English and Chinese pages of the sample site, with request records as Common Crawl writes them)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from goldpan.lake import Lake
from goldpan.recipe import WarcSection
from goldpan.warc.importer import WarcStats, import_warc_batch, rows_from_file
from goldpan.warc.inputs import WarcInputError

SAMPLE_WARC = Path(__file__).resolve().parents[2] / "sample" / "warc" / "eskerford-sample.warc.gz"


def _rows(path: Path) -> list[dict]:
    return list(rows_from_file(str(path), "b-warc", WarcSection(), WarcStats()))


def _errors(rows: list[dict]) -> list[str]:
    return [r["reason"] for r in rows if r["status"] == "error"]


def test_missing_file_refuses_the_batch_before_anything_is_written(tmp_path):
    lake = Lake(tmp_path / "lake")
    missing = tmp_path / "nope.warc.gz"
    with pytest.raises(WarcInputError, match=r"1 WARC/WET file\(s\) not found: .*nope\.warc\.gz; nothing was imported"):
        import_warc_batch(lake, [str(SAMPLE_WARC), str(missing)], "b-warc", WarcSection())
    assert not lake.exists("pages")  # the good file before it was not imported either


def test_empty_file_is_an_error_row_and_the_rest_imports(tmp_path):
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert [(r["status"], r["reason"]) for r in _rows(empty)] == [("error", "empty_file")]
    lake = Lake(tmp_path / "lake")
    stats = import_warc_batch(lake, [str(empty), str(SAMPLE_WARC)], "b-warc", WarcSection())
    assert stats.errored == 1 and stats.kept > 10
    with lake.connect(tables=["pages"]) as con:
        row = con.execute("SELECT status, reason, url FROM pages WHERE reason = 'empty_file'").fetchone()
    assert row[0] == "error" and "empty.warc.gz" in row[2]


def test_uncompressed_file_cut_inside_a_request_record(tmp_path):
    raw = gzip.decompress(SAMPLE_WARC.read_bytes())
    request_starts = [i for i in range(len(raw)) if raw.startswith(b"WARC-Type: request", i)]
    whole = tmp_path / "whole.warc"
    whole.write_bytes(raw)
    assert _errors(_rows(whole)) == []
    for cut_at in (request_starts[3] + 40, raw.index(b"GET ", request_starts[3]) + 10):  # in headers, in the body
        cut = tmp_path / "cut.warc"
        cut.write_bytes(raw[:cut_at])
        rows = _rows(cut)
        assert _errors(rows) == ["truncated_file"]
        assert sum(r["status"] == "kept" for r in rows) >= 2  # the records before the cut still import


def test_gzip_file_cut_inside_a_request_member(tmp_path):
    data = SAMPLE_WARC.read_bytes()
    members = [i for i in range(len(data)) if data.startswith(b"\x1f\x8b\x08", i)]
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: members[3] + 30])  # member 3 is a request record's gzip member, cut after 30 bytes
    rows = _rows(cut)
    assert _errors(rows) == ["truncated_file"]
    assert [r["status"] for r in rows].count("kept") == 1
