"""Unit tests for goldpan.release.promote: the gate ledger and promotion into training_corpus.

A real Delta lake under tmp_path; the candidate table is written with the CORPUS schema.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from goldpan.lake import Lake
from goldpan.lake.schemas import CORPUS
from goldpan.release.promote import (
    APPROVED,
    PROMOTED,
    REFUSED,
    UNCHANGED,
    PromotionRefused,
    fingerprint,
    promote,
    record_gate_attempt,
    releases,
)

RID = "unit@0123456789ab"

DOCS = [
    ("d-001", "en", "The lighthouse keeper logged every ship that passed the point for thirty years.", 14),
    ("d-002", "zh", "山脚下的小村庄每年秋天都会举办一次丰收节。", 20),
    ("d-003", "en", "A new bus route now links the hospital with the northern estates.", 12),
]


def corpus_rows(docs=DOCS, repeat: int = 1) -> list[dict]:
    return [
        {
            "doc_id": d,
            "page_id": f"p-{d}",
            "batch_id": "b1",
            "url": f"http://site.example/{d}",
            "title": None,
            "text": text,
            "lang": lang,
            "source": "web",
            "domain": "site.example",
            "n_words": n,
            "repeat": repeat,
            "recipe_id": RID,
        }
        for d, lang, text, n in docs
    ]


def write_candidate(lake: Lake, rows: list[dict]) -> int:
    return lake.write("corpus_candidate", pa.Table.from_pylist(rows, schema=CORPUS), CORPUS).version


def approve(lake: Lake, version: int, passed: bool = True, run_id: str = "run-gate") -> dict:
    return record_gate_attempt(
        lake,
        passed=passed,
        candidate_version=version,
        recipe_id=RID,
        recipe_sha1="f" * 40,
        gate={"min_docs": 1, "n_docs": 3, "expectations": ["not_null_doc_id"]},
        run_id=run_id,
    )


def training_doc_ids(lake: Lake, version: int | None = None) -> list[str]:
    return sorted(lake.table("training_corpus", version).to_pyarrow_table().column("doc_id").to_pylist())


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")


def test_promote_without_gate_verdict_is_refused(lake):
    v = write_candidate(lake, corpus_rows())
    with pytest.raises(PromotionRefused, match="version 0 has no gate verdict"):
        promote(lake, candidate_version=v, run_id="run-1")
    assert not lake.exists("training_corpus")


def test_refused_candidate_cannot_be_promoted(lake):
    v = write_candidate(lake, corpus_rows())
    attempt = approve(lake, v, passed=False)
    assert attempt["status"] == REFUSED
    with pytest.raises(PromotionRefused, match=f"refused by the gate \\(attempt {attempt['attempt_id']}\\)"):
        promote(lake, candidate_version=v, run_id="run-1")
    assert not lake.exists("training_corpus")
    assert [r["status"] for r in releases(lake)] == [REFUSED]


def test_approval_of_another_version_does_not_count(lake):
    v0 = write_candidate(lake, corpus_rows())
    approve(lake, v0)
    v1 = write_candidate(lake, corpus_rows(DOCS[:2]))
    with pytest.raises(PromotionRefused, match="version 1 has no gate verdict"):
        promote(lake, candidate_version=v1, run_id="run-1")


def test_gate_attempt_row_records_fingerprint_and_upstream_versions(lake):
    v = write_candidate(lake, corpus_rows())
    row = approve(lake, v)
    fp = fingerprint(lake, "corpus_candidate", v)
    assert row["status"] == APPROVED
    assert (row["candidate_version"], row["release"], row["corpus_version"]) == (0, None, None)
    assert (row["content_sha1"], row["n_docs"], row["n_words"]) == (fp.sha1, 3, 46)
    upstream = json.loads(row["upstream_versions_json"])
    assert upstream["corpus_candidate"] == 0
    assert upstream["pages"] is None
    assert json.loads(row["gate_json"])["min_docs"] == 1
    (stored,) = releases(lake)
    assert stored["attempt_id"] == row["attempt_id"]
    assert stored["status"] == APPROVED


def test_passed_gate_promotes_to_training_corpus_v1(lake):
    v = write_candidate(lake, corpus_rows())
    attempt = approve(lake, v)
    out = promote(lake, candidate_version=v, run_id="run-promote", commit_metadata={"code_version": "c1"})

    assert out["attempt_id"] == attempt["attempt_id"]
    assert (out["status"], out["release"], out["corpus_version"]) == (PROMOTED, "v1", 0)
    assert lake.version("training_corpus") == 0
    assert training_doc_ids(lake) == ["d-001", "d-002", "d-003"]
    assert fingerprint(lake, "training_corpus") == fingerprint(lake, "corpus_candidate", v)

    (ledger,) = releases(lake)  # the approval row was updated in place, not appended
    assert (ledger["attempt_id"], ledger["status"], ledger["release"], ledger["corpus_version"]) == (
        attempt["attempt_id"],
        PROMOTED,
        "v1",
        0,
    )
    assert ledger["run_id"] == "run-promote"
    assert ledger["content_sha1"] == attempt["content_sha1"]

    commit = lake.history("training_corpus")[0]
    assert (commit["release"], commit["candidate_version"], commit["code_version"]) == ("v1", "0", "c1")


def test_identical_content_again_is_unchanged_and_writes_no_version(lake):
    v0 = write_candidate(lake, corpus_rows())
    approve(lake, v0)
    promote(lake, candidate_version=v0, run_id="run-1")

    v1 = write_candidate(lake, list(reversed(corpus_rows())))  # same rows, new candidate version
    assert v1 == 1
    second = approve(lake, v1, run_id="run-gate-2")
    out = promote(lake, candidate_version=v1, run_id="run-2")

    assert (out["status"], out["release"], out["corpus_version"]) == (UNCHANGED, "v1", 0)
    assert lake.version("training_corpus") == 0
    ledger = releases(lake)
    assert [r["status"] for r in ledger] == [PROMOTED, UNCHANGED]
    assert ledger[1]["attempt_id"] == second["attempt_id"]
    assert (ledger[1]["release"], ledger[1]["corpus_version"], ledger[1]["candidate_version"]) == ("v1", 0, 1)


def test_changed_content_is_promoted_as_v2(lake):
    v0 = write_candidate(lake, corpus_rows())
    approve(lake, v0)
    promote(lake, candidate_version=v0, run_id="run-1")

    changed = corpus_rows(DOCS[:2] + [("d-004", "en", "The market moved indoors for the winter months.", 8)])
    v1 = write_candidate(lake, changed)
    approve(lake, v1)
    out = promote(lake, candidate_version=v1, run_id="run-2")

    assert (out["status"], out["release"], out["corpus_version"]) == (PROMOTED, "v2", 1)
    assert lake.version("training_corpus") == 1
    assert training_doc_ids(lake) == ["d-001", "d-002", "d-004"]
    assert training_doc_ids(lake, version=0) == ["d-001", "d-002", "d-003"]  # v1 still readable
    assert [(r["status"], r["release"]) for r in releases(lake)] == [(PROMOTED, "v1"), (PROMOTED, "v2")]


def test_promotion_copies_the_approved_version_not_the_latest(lake):
    v0 = write_candidate(lake, corpus_rows())
    approve(lake, v0)
    write_candidate(lake, corpus_rows(DOCS[:1]))  # v1 written after the approval of v0
    promote(lake, candidate_version=v0, run_id="run-1")
    assert training_doc_ids(lake) == ["d-001", "d-002", "d-003"]


def test_fingerprint_is_order_independent_and_content_sensitive(lake):
    v0 = write_candidate(lake, corpus_rows())
    v1 = write_candidate(lake, list(reversed(corpus_rows())))
    edited = corpus_rows()
    edited[1]["text"] = edited[1]["text"].replace("秋天", "春天")
    v2 = write_candidate(lake, edited)
    v3 = write_candidate(lake, corpus_rows(repeat=2))

    f0, f1, f2, f3 = (fingerprint(lake, "corpus_candidate", v) for v in (v0, v1, v2, v3))
    assert f0 == f1
    assert f0.sha1 != f2.sha1
    assert (f2.n_docs, f2.n_words) == (3, 46)  # counts unchanged, digest changed
    assert f0.sha1 != f3.sha1
    assert (f3.n_docs, f3.n_words) == (3, 92)  # repeat multiplies words
    assert fingerprint(lake, "corpus_candidate") == f3  # latest version by default


def test_fingerprint_of_a_missing_table_is_empty(lake):
    fp = fingerprint(lake, "training_corpus")
    assert (fp.n_docs, fp.n_words) == (0, 0)
    assert fp.sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709"  # sha1 of nothing


def test_releases_of_an_empty_lake(lake):
    assert releases(lake) == []
