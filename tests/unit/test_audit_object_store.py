"""The audit commands on a lake moved into a bucket: an S3 server on 127.0.0.1 (moto's), reached by
deltalake's object-store client through the storage options the CLI takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldpan.cli import main
from goldpan.lake import Lake
from tests.fixtures.audit_lake import URLS, build_lake


@pytest.fixture
def bucket_lake(tmp_path, local_s3):
    """A lake built locally, then copied file by file into s3://audit/moved/lake on a local S3 server."""
    _, s3, opts = local_s3
    s3.create_bucket(Bucket="audit")
    local = build_lake(tmp_path / "lake")
    for f in Path(local.root).rglob("*"):
        if f.is_file():
            s3.upload_file(str(f), "audit", "moved/lake/" + f.relative_to(local.root).as_posix())
    return "s3://audit/moved/lake", opts, s3


def test_commands_answer_on_a_lake_in_a_bucket(bucket_lake, monkeypatch, capsys, tmp_path):
    uri, opts, _ = bucket_lake
    lake = Lake(uri, opts)
    assert "documents" in lake.list_tables() and lake.version("training_corpus") == 0
    monkeypatch.setenv("GOLDPAN_STORAGE_OPTIONS", json.dumps(opts))
    assert main(["--lake", uri, "why", URLS["C"]]) == 0
    assert "stopped at filter by gopher_min_words (value 3 < threshold 50)" in capsys.readouterr().out
    assert main(["--lake", uri, "trace", URLS["B"], "--json"]) == 0
    t = json.loads(capsys.readouterr().out)
    assert t["steps"][0]["table"] == "pages" and t["releases"] == ["v1 (training_corpus v0)"]
    assert main(["--lake", uri, "sql", "SELECT count(*) AS n FROM documents WHERE lang = 'zh'", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 1}]
    assert main(["--lake", uri, "report", "--out", str(tmp_path / "r.html")]) == 0
    assert "release v1" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_takedown_deletes_and_vacuums_in_the_bucket(bucket_lake, monkeypatch, capsys):
    uri, opts, s3 = bucket_lake
    monkeypatch.delenv("GOLDPAN_STORAGE_OPTIONS", raising=False)
    flags = [f"--storage-option={k}={v}" for k, v in opts.items()]
    before = {o["Key"] for o in s3.list_objects_v2(Bucket="audit", Prefix="moved/lake/documents/")["Contents"]}
    assert main(["--lake", uri, *flags, "takedown", "--url", URLS["A"], "--reason", "owner request", "--vacuum"]) == 0
    out = capsys.readouterr().out
    assert "documents                 1 rows deleted" in out and "release v1 (training_corpus v0): 1 documents" in out
    after = {o["Key"] for o in s3.list_objects_v2(Bucket="audit", Prefix="moved/lake/documents/")["Contents"]}
    gone = {k for k in before - after if k.endswith(".parquet")}
    assert gone  # the file that held the page's document was vacuumed from the bucket
    lake = Lake(uri, opts)
    with lake.connect(tables=["documents"]) as con:
        assert con.execute("SELECT count(*) FROM documents WHERE url = ?", [URLS["A"]]).fetchall()[0][0] == 0
