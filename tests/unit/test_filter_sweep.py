"""Threshold sweep over stored signals: DuckDB tables built from real signal rows, the curve, the SVG."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from goldpan.filter.rules import RuleSet
from goldpan.filter.signals import compute_signal_batch
from goldpan.filter.sweep import find_spec, format_table, svg_chart, sweep
from tests.unit.filter_samples import GOOD_EN, GOOD_ZH, SHORT_EN, SYMBOL_TABLE_EN


@pytest.fixture
def con():
    recs = [
        {"doc_id": "good", "batch_id": "b", "lang": "en", "text": GOOD_EN},
        {"doc_id": "table", "batch_id": "b", "lang": "en", "text": SYMBOL_TABLE_EN},
        {"doc_id": "short", "batch_id": "b", "lang": "en", "text": SHORT_EN},
        {"doc_id": "zh", "batch_id": "b", "lang": "zh", "text": GOOD_ZH},
    ]
    c = duckdb.connect()
    c.register("doc_signals", pa.Table.from_batches([compute_signal_batch(recs)]))
    c.execute("CREATE TABLE rejections AS SELECT 'short' AS doc_id, 'filter' AS stage, 'gopher_min_words' AS rule")
    yield c
    c.close()


def test_curve_counts_documents_and_tokens_per_threshold(con) -> None:
    pts = sweep(con, RuleSet.default(), "gopher_alpha_words", [0.0, 0.8, 0.99], lang="en")
    by_t = {p.threshold: p for p in pts}
    assert [p.threshold for p in pts] == [0.0, 0.8, 0.99] and by_t[0.8].current
    assert by_t[0.0].docs == 3 and by_t[0.0].docs_total == 3
    assert by_t[0.8].docs == 2  # the price table fails at the published 0.8
    assert by_t[0.99].docs < by_t[0.8].docs
    assert by_t[0.8].tokens < by_t[0.8].tokens_total
    # "with others": the short page is rejected by another stored rule
    assert by_t[0.0].docs_with_others == 2


def test_language_section_threshold_is_marked(con) -> None:
    pts = sweep(con, RuleSet.default(), "gopher_alpha_words", lang="zh")
    assert {p.lang for p in pts} == {"zh"}
    assert [p.threshold for p in pts if p.current] == [0.735]  # FineWeb-2 cmn_Hani, not 0.8


def test_two_sided_rule_needs_a_side_and_unknown_rules_are_named(con) -> None:
    with pytest.raises(ValueError, match="two sides"):
        find_spec(RuleSet.default(), "gopher_mean_word_length", "en")
    assert find_spec(RuleSet.default(), "gopher_mean_word_length_max", "en").threshold == 10
    with pytest.raises(ValueError, match="not in the recipe"):
        sweep(con, RuleSet.default(), "no_such_rule")


def test_table_and_svg(con) -> None:
    pts = sweep(con, RuleSet.default(), "fineweb_line_punct_ratio", [0.05, 0.12, 0.5])
    table = format_table(pts, "fineweb_line_punct_ratio", "<")
    assert "0.12*" in table and "keeps value >= threshold" in table
    svg = svg_chart(pts, "fineweb_line_punct_ratio")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2  # en and zh curves
