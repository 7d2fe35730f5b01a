"""Threshold sweep over stored signals: DuckDB tables built from real signal rows, the curve, the SVG."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from goldpan.filter.rules import RuleSet
from goldpan.filter.signals import compute_signal_batch
from goldpan.filter.sweep import find_spec, format_table, svg_chart, sweep
from tests.fixtures.filter_samples import GOOD_EN, GOOD_ZH, SHORT_EN, SYMBOL_TABLE_EN


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


def test_language_curves_keep_rate_against_spam_removed() -> None:
    """Per language: real documents kept and spam (built from the language's documents) removed."""
    from goldpan.filter.rules import ruleset_from_section
    from goldpan.filter.sweep import format_language_table, language_curves
    from goldpan.recipe import FilterSection
    from tests.fixtures.filter_samples_multilingual import RU_DOC

    paras = [p for p in RU_DOC.split("\n\n") if len(p) > 40]
    texts = [GOOD_EN] + ["\n\n".join(paras[i:] + paras[:i]) for i in range(len(paras))]
    recs = [{"doc_id": f"d{i}", "batch_id": "b", "lang": "en" if i == 0 else "ru", "text": t}
            for i, t in enumerate(texts)]
    c = duckdb.connect()
    c.register("doc_signals", pa.Table.from_batches([compute_signal_batch(recs)]))
    c.register("documents", pa.Table.from_pylist([{"doc_id": r["doc_id"], "lang": r["lang"], "text": r["text"]}
                                                    for r in recs]))
    rules = ruleset_from_section(FilterSection())
    pts = language_curves(c, rules, "stop_word_ratio", [0.0, 0.02, 0.5], lang="ru", sample_docs=50)
    by_t = {p.threshold: p for p in pts}
    assert set(by_t) == {0.0, 0.02, 0.5} and by_t[0.02].current
    assert by_t[0.02].docs_total == len(texts) - 1 and by_t[0.02].keep_rate == 1.0
    # more spam removed as the threshold rises (the material here is 7 pages of one text, so its
    # "boilerplate" spam is real paragraphs: the bench measures removal on real volume)
    assert by_t[0.02].spam_total > 0
    assert 0 < by_t[0.0].spam_removal_rate <= by_t[0.02].spam_removal_rate <= by_t[0.5].spam_removal_rate == 1.0
    assert by_t[0.5].keep_rate == 0.0  # no real Russian page has half its words as stop words
    assert "spam rm %" in format_language_table(pts, "stop_word_ratio")
