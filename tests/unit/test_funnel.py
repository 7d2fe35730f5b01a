"""Unit tests for goldpan.lake.views: per stage and batch, input = kept + rejected + errored.

Tiny lake tables are written with the real schemas under tmp_path and read through Lake.connect().

Batch b1 (numbers are input / kept / rejected / errored):
  crawl      p1..p9                      9 / 7 / 1 / 1   (p8 http_404, p9 timeout)
  extract    d1..d7 for p1..p7            7 / 5 / 1 / 1   (d6 min_text_chars, d7 extract_error)
  dedup      d1..d5                      5 / 4 / 1 / 0   (d5 exact_duplicate)
  filter     d1..d4 signals              4 / 2 / 1 / 1   (d3 rejected by two rules, d4 signal error)
  mix        d1, d2                      2 / 1 / 1 / 0   (d2 lang_not_in_recipe)
  candidate  d1                          1 / 1 / 0 / 0
Batch b2: q1, q2 -> e1, e2; e2 is a near duplicate; e1 goes all the way to the candidate.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from goldpan.filter.signals import signals_schema
from goldpan.lake import Lake
from goldpan.lake.schemas import (
    CORPUS,
    DEDUP_CLUSTERS,
    DOCUMENTS,
    ERROR,
    KEPT,
    MIX_DECISIONS,
    PAGES,
    REJECTED,
    REJECTIONS,
)
from goldpan.lake.views import FUNNEL_COLUMNS, FunnelRow, compute_funnel, rejection_counts

SIGNALS = signals_schema()


def _pages() -> list[dict]:
    rows = [{"page_id": f"p{i}", "batch_id": "b1", "status": KEPT} for i in range(1, 8)]
    rows += [
        {"page_id": "p8", "batch_id": "b1", "status": REJECTED, "reason": "http_404"},
        {"page_id": "p9", "batch_id": "b1", "status": ERROR, "reason": "timeout"},
        {"page_id": "q1", "batch_id": "b2", "status": KEPT},
        {"page_id": "q2", "batch_id": "b2", "status": KEPT},
    ]
    return rows


def _documents() -> list[dict]:
    rows = [{"doc_id": f"d{i}", "page_id": f"p{i}", "batch_id": "b1", "status": KEPT} for i in range(1, 6)]
    rows += [
        {"doc_id": "d6", "page_id": "p6", "batch_id": "b1", "status": REJECTED, "rule": "min_text_chars"},
        {"doc_id": "d7", "page_id": "p7", "batch_id": "b1", "status": ERROR, "rule": "extract_error"},
        {"doc_id": "e1", "page_id": "q1", "batch_id": "b2", "status": KEPT},
        {"doc_id": "e2", "page_id": "q2", "batch_id": "b2", "status": KEPT},
    ]
    return rows


def _dedup() -> list[dict]:
    rows = [{"doc_id": f"d{i}", "batch_id": "b1", "status": KEPT} for i in range(1, 5)]
    rows += [
        {
            "doc_id": "d5",
            "batch_id": "b1",
            "status": REJECTED,
            "rule": "exact_duplicate",
            "duplicate_of": "d1",
        },
        {"doc_id": "e1", "batch_id": "b2", "status": KEPT},
        {
            "doc_id": "e2",
            "batch_id": "b2",
            "status": REJECTED,
            "rule": "near_duplicate",
            "duplicate_of": "d2",
        },
    ]
    return rows


def _signals() -> list[dict]:
    return [
        {"doc_id": "d1", "batch_id": "b1", "lang": "en", "status": KEPT, "n_words": 120},
        {"doc_id": "d2", "batch_id": "b1", "lang": "de", "status": KEPT, "n_words": 90},
        {"doc_id": "d3", "batch_id": "b1", "lang": "en", "status": KEPT, "n_words": 12},
        {"doc_id": "d4", "batch_id": "b1", "lang": "en", "status": ERROR, "error": "ValueError: boom"},
        {"doc_id": "e1", "batch_id": "b2", "lang": "zh", "status": KEPT, "n_words": 300},
    ]


def _rejections() -> list[dict]:
    return [
        {"batch_id": "b1", "stage": "filter", "doc_id": "d3", "rule": "gopher_min_words", "value": 12.0, "op": "<", "threshold": 50.0},
        {"batch_id": "b1", "stage": "filter", "doc_id": "d3", "rule": "gopher_max_symbol_word_ratio", "value": 0.2, "op": ">", "threshold": 0.1},
    ]  # fmt: skip


def _mix() -> list[dict]:
    return [
        {"doc_id": "d1", "batch_id": "b1", "status": KEPT, "lang": "en"},
        {"doc_id": "d2", "batch_id": "b1", "status": REJECTED, "rule": "lang_not_in_recipe", "lang": "de"},
        {"doc_id": "e1", "batch_id": "b2", "status": KEPT, "lang": "zh"},
    ]


def _candidate() -> list[dict]:
    return [
        {"doc_id": "d1", "page_id": "p1", "batch_id": "b1", "text": "kept text", "repeat": 1},
        {"doc_id": "e1", "page_id": "q1", "batch_id": "b2", "text": "保留的文本", "repeat": 1},
    ]


TABLES = {
    "pages": (PAGES, _pages),
    "documents": (DOCUMENTS, _documents),
    "dedup_clusters": (DEDUP_CLUSTERS, _dedup),
    "doc_signals": (SIGNALS, _signals),
    "rejections": (REJECTIONS, _rejections),
    "quality_decisions": (REJECTIONS, list),  # written by the classify stage; no classify rejections here
    "mix_decisions": (MIX_DECISIONS, _mix),
    "corpus_candidate": (CORPUS, _candidate),
}

BALANCED = [
    FunnelRow("crawl", "b1", 9, 7, 1, 1, 0, 0),
    FunnelRow("crawl", "b2", 2, 2, 0, 0, 0, 0),
    FunnelRow("extract", "b1", 7, 5, 1, 1, 0, 0),
    FunnelRow("extract", "b2", 2, 2, 0, 0, 0, 0),
    FunnelRow("dedup", "b1", 5, 4, 1, 0, 0, 0),
    FunnelRow("dedup", "b2", 2, 1, 1, 0, 0, 0),
    FunnelRow("filter", "b1", 4, 2, 1, 1, 0, 0),
    FunnelRow("filter", "b2", 1, 1, 0, 0, 0, 0),
    FunnelRow("mix", "b1", 2, 1, 1, 0, 0, 0),
    FunnelRow("mix", "b2", 1, 1, 0, 0, 0, 0),
    FunnelRow("candidate", "b1", 1, 1, 0, 0, 0, 0),
    FunnelRow("candidate", "b2", 1, 1, 0, 0, 0, 0),
]


def build(lake: Lake, overrides: dict[str, list[dict]] | None = None, only: set[str] | None = None) -> None:
    for name, (schema, make) in TABLES.items():
        if only is not None and name not in only:
            continue
        data = (overrides or {}).get(name, make())
        lake.write(name, pa.Table.from_pylist(data, schema=schema), schema)


def funnel(lake: Lake, stages=None) -> list[FunnelRow]:
    with lake.connect() as con:
        return compute_funnel(con, stages)


def row(rows: list[FunnelRow], stage: str, batch: str) -> FunnelRow:
    (r,) = [r for r in rows if (r.stage, r.batch_id) == (stage, batch)]
    return r


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")


def test_balanced_funnel_counts_every_stage_and_batch(lake):
    build(lake)
    rows = funnel(lake)
    assert rows == BALANCED
    assert all(r.balanced for r in rows)
    assert list(rows[0].__dict__) == FUNNEL_COLUMNS


def test_a_lake_that_never_ran_the_classify_decisions_still_shows_the_mix(lake):
    """No `quality_decisions` table (a run without the classify stage): no classify rejections, so the
    mix input is the filter's kept rows and the funnel is the same."""
    build(lake, only=set(TABLES) - {"quality_decisions"})
    assert not lake.exists("quality_decisions")
    assert funnel(lake) == BALANCED


def test_kept_page_without_a_documents_row_is_missing(lake):
    docs = [d for d in _documents() if d["page_id"] != "p2"]
    build(lake, {"documents": docs})
    rows = funnel(lake)
    extract = row(rows, "extract", "b1")
    assert (extract.input, extract.kept, extract.missing, extract.orphans) == (7, 4, 1, 0)
    assert not extract.balanced
    # d2 still has a dedup row, which now has no kept document behind it: an orphan downstream.
    dedup = row(rows, "dedup", "b1")
    assert (dedup.input, dedup.missing, dedup.orphans) == (4, 0, 1)
    # Nothing else moved.
    assert row(rows, "extract", "b2").balanced
    assert row(rows, "crawl", "b1") == BALANCED[0]


def test_candidate_row_not_selected_by_mix_is_an_orphan(lake):
    extra = {"doc_id": "d2", "page_id": "p2", "batch_id": "b1", "text": "not selected", "repeat": 1}
    build(lake, {"corpus_candidate": _candidate() + [extra]})
    rows = funnel(lake)
    cand = row(rows, "candidate", "b1")
    assert (cand.input, cand.kept, cand.missing, cand.orphans) == (1, 1, 0, 1)
    assert not cand.balanced
    assert [r for r in rows if r.stage != "candidate"] == BALANCED[:-2]


def test_selected_doc_missing_from_candidate(lake):
    build(lake, {"corpus_candidate": _candidate()[1:]})
    cand = row(funnel(lake), "candidate", "b1")
    assert (cand.input, cand.kept, cand.missing, cand.orphans) == (1, 0, 1, 0)


def test_two_outcome_rows_for_one_page_unbalance_the_stage(lake):
    """A page extracted twice must not look balanced by inflating the input count."""
    build(lake, {"documents": _documents() + [_documents()[0]]})
    extract = row(funnel(lake), "extract", "b1")
    assert (extract.input, extract.kept, extract.rejected, extract.errored) == (7, 6, 1, 1)
    assert not extract.balanced


def test_signal_row_for_a_dedup_rejected_doc_is_a_filter_orphan(lake):
    stray = {"doc_id": "d5", "batch_id": "b1", "lang": "en", "status": KEPT}
    build(lake, {"doc_signals": _signals() + [stray]})
    f = row(funnel(lake), "filter", "b1")
    assert (f.input, f.orphans) == (4, 1)


def test_only_stages_whose_tables_exist_are_computed(lake):
    build(lake, only={"pages", "documents"})
    assert [(r.stage, r.batch_id) for r in funnel(lake)] == [
        ("crawl", "b1"),
        ("crawl", "b2"),
        ("extract", "b1"),
        ("extract", "b2"),
    ]


def test_stage_selection(lake):
    build(lake)
    assert funnel(lake, ["mix"]) == [r for r in BALANCED if r.stage == "mix"]
    assert funnel(lake, ["no_such_stage"]) == []


def test_empty_lake_has_no_funnel(lake):
    assert funnel(lake) == []


def test_rejection_counts_by_stage_and_rule(lake):
    build(lake)
    with lake.connect() as con:
        got = rejection_counts(con)
    assert sorted(got) == sorted(
        [
            ("crawl", "http_404", 1),
            ("crawl", "timeout", 1),
            ("extract", "min_text_chars", 1),
            ("extract", "extract_error", 1),
            ("dedup", "exact_duplicate", 1),
            ("dedup", "near_duplicate", 1),
            ("filter", "signal_error", 1),
            ("filter", "gopher_min_words", 1),
            ("filter", "gopher_max_symbol_word_ratio", 1),
            ("mix", "lang_not_in_recipe", 1),
        ]
    )
