"""Takedowns on a small real Delta lake (tests/fixtures/audit_lake.py): what is deleted, what is kept,
vacuum, re-apply after a crash, bad input, and the count the next promotion states."""

from __future__ import annotations

import json

import pytest

from goldpan.audit.erase import apply_takedown
from goldpan.audit.takedowns import TakedownMatcher, record_request, requests
from goldpan.cli import main
from goldpan.lake import Lake
from tests.fixtures.audit_lake import URLS, build_lake


def _count(lake: Lake, table: str, where: str = "true") -> int:
    with lake.connect(tables=[table]) as con:
        return con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchall()[0][0]


def test_domain_takedown_deletes_every_derived_row_and_only_those(tmp_path, capsys):
    lake = build_lake(tmp_path / "lake")
    rc = main(["--lake", str(lake.root), "takedown", "--domain", "example.org", "--reason", "site owner asked",
               "--by", "legal"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "release v1 (training_corpus v0): 1 documents" in out
    for table in ("pages", "documents", "dedup_clusters", "doc_signals", "mix_decisions", "corpus_candidate"):
        assert _count(lake, table, "page_id = 'pA'" if table == "pages" else "doc_id = 'dA'") == 0, table
    assert _count(lake, "pages") == 2 and _count(lake, "documents") == 2 and _count(lake, "rejections") == 1
    assert _count(lake, "training_corpus", "doc_id = 'dA'") == 1  # the published release is history
    (req,) = requests(lake)
    assert req["kind"] == "domain" and req["value"] == "example.org" and req["requested_by"] == "legal"
    assert json.loads(req["rows_deleted_json"]) == {
        "corpus_candidate": 1, "dedup_clusters": 1, "doc_signals": 1, "documents": 1, "mix_decisions": 1, "pages": 1}
    history = lake.history("documents", 1)[0]
    assert history["takedown_request"] == req["request_id"] and history["operation"] == "DELETE"


def test_pattern_takedown_matches_a_chinese_path_and_rejection_rows_follow_the_doc(tmp_path):
    lake = build_lake(tmp_path / "lake")
    req = record_request(lake, "pattern", "https://news.example.cn/*", "copyright notice")
    res = apply_takedown(lake, req)
    assert res.matches.doc_ids == {"dB"} and res.rows_deleted["pages"] == 1
    req_c = record_request(lake, "url", URLS["C"], "personal data")
    res_c = apply_takedown(lake, req_c)
    assert res_c.rows_deleted["rejections"] == 1 and res_c.releases_holding == []
    assert _count(lake, "documents") == 1


def test_vacuum_removes_the_files_that_held_the_rows(tmp_path):
    lake = build_lake(tmp_path / "lake")
    before = {p.name for p in (tmp_path / "lake" / "documents").glob("*.parquet")}
    req = record_request(lake, "url", URLS["A"], "court order", vacuum=True)
    res = apply_takedown(lake, req, vacuum=True)
    assert res.vacuumed["documents"] >= 1
    after = {p.name for p in (tmp_path / "lake" / "documents").glob("*.parquet")}
    assert not (before & after)  # the file holding dA was rewritten, then vacuumed
    raw = b"".join(p.read_bytes() for p in (tmp_path / "lake").rglob("*.parquet") if "training_corpus" not in str(p)
                   and "corpus_releases" not in str(p))
    assert b"sourdough starter" not in raw
    # Time travel to a version from before the takedown cannot read its (vacuumed) files.
    with pytest.raises(Exception), lake.connect(versions={"documents": 0}, tables=["documents"]) as con:  # noqa: B017
        con.execute("SELECT count(*) FROM documents").fetchall()
    assert "training_corpus" not in res.vacuumed


def test_a_request_recorded_before_a_crash_is_honoured_and_can_be_reapplied(tmp_path, capsys):
    lake = build_lake(tmp_path / "lake")
    req = record_request(lake, "url", "HTTPS://blog.example.org:443/posts/sourdough.html#top", "owner request")
    # The process died here: nothing deleted yet, but crawler and mixer already refuse the URL.
    assert TakedownMatcher.from_lake(lake).match(URLS["A"]) == req["request_id"]
    assert _count(lake, "documents", "doc_id = 'dA'") == 1
    assert main(["--lake", str(lake.root), "takedown", "--apply", req["request_id"]]) == 0
    assert _count(lake, "documents", "doc_id = 'dA'") == 0
    assert main(["--lake", str(lake.root), "takedown", "--apply", req["request_id"]]) == 0  # idempotent
    assert "nothing in the lake matched" in capsys.readouterr().out
    (row,) = requests(lake)
    deleted = json.loads(row["rows_deleted_json"])  # applications add up: the second found nothing left
    assert deleted["documents"] == 1 and deleted["pages"] == 1


@pytest.mark.parametrize("argv", [
    ["--url", "https://blog.example.org/a"],  # no reason
    ["--url", "mailto:someone@example.org", "--reason", "x"],
    ["--domain", "a/b", "--reason", "x"],
    ["--reason", "x"],
])
def test_bad_requests_are_refused_and_nothing_is_recorded(tmp_path, argv, capsys):
    lake = build_lake(tmp_path / "lake")
    assert main(["--lake", str(lake.root), "takedown", *argv]) == 2
    assert "goldpan takedown:" in capsys.readouterr().err
    assert requests(lake) == []
    assert _count(lake, "pages") == 3


def test_the_next_promotion_can_state_how_many_documents_each_takedown_removed(tmp_path):
    from goldpan.audit.takedowns import removed_by_takedowns

    lake = build_lake(tmp_path / "lake")
    assert removed_by_takedowns(lake) == {}
    req = record_request(lake, "domain", "example.cn", "copyright notice")
    assert removed_by_takedowns(lake) == {}  # recorded, but the candidate still holds the document
    apply_takedown(lake, req)
    assert removed_by_takedowns(lake, lake.version("corpus_candidate")) == {req["request_id"]: 1}
