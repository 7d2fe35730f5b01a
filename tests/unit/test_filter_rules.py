"""Rules: decisions over stored signals, per-language recipes, rejection rows, config errors."""

from __future__ import annotations

import copy
from typing import Any

import pyarrow as pa
import pytest

from goldpan.filter import signals as sigmod
from goldpan.filter.defaults import DATATROVE_RULES_CONFIG as DEFAULT_RULES_CONFIG
from goldpan.filter.rules import Failure, RuleSet, build_rules, decide_batch
from goldpan.filter.ruletable import RECIPE_KEYS, RULE_TABLE, rule_names
from goldpan.filter.signals import compute_signal_batch, compute_signals
from goldpan.lake.schemas import REJECTIONS
from tests.fixtures.filter_samples import (
    ELLIPSIS_LIST_EN,
    GOOD_EN,
    GOOD_ZH,
    LOTTERY_TABLE_ZH,
    SHORT_EN,
    SPAM_REPEATED_LINES_EN,
    SPAM_REPEATED_ZH,
    SYMBOL_TABLE_EN,
)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return RuleSet.default()


def failed(ruleset: RuleSet, text: str, lang: str) -> dict[str, Failure]:
    return {f.rule: f for f in ruleset.evaluate("doc", lang, compute_signals(text, lang))}


# --- English pages -----------------------------------------------------------------------------


def test_good_english_article_passes_every_rule(ruleset: RuleSet) -> None:
    assert failed(ruleset, GOOD_EN, "en") == {}
    assert len(ruleset.rules_for("en")) == 30  # 23 Gopher (word length two-sided) + 3 C4 + 4 FineWeb


def test_repeated_line_spam_fails_dup_line_frac(ruleset: RuleSet) -> None:
    f = failed(ruleset, SPAM_REPEATED_LINES_EN, "en")
    # 12 lines: "Click here..." 6 times (5 repeats) + "Best deals..." 3 times (2 repeats) = 7 of 12
    assert f["gopher_dup_line_frac"] == Failure("gopher_dup_line_frac", 7 / 12, ">", 0.3)
    assert "gopher_dup_line_char_frac" in f
    assert "gopher_min_words" not in f and "gopher_alpha_words" not in f


def test_symbol_table_fails_alpha_words(ruleset: RuleSet) -> None:
    f = failed(ruleset, SYMBOL_TABLE_EN, "en")
    assert f["gopher_alpha_words"].op == "<"
    assert f["gopher_alpha_words"].value < 0.1
    assert f["gopher_alpha_words"].threshold == 0.8


def test_twenty_word_page_fails_min_words(ruleset: RuleSet) -> None:
    f = failed(ruleset, SHORT_EN, "en")
    assert f["gopher_min_words"] == Failure("gopher_min_words", 20.0, "<", 50.0)
    assert "gopher_stop_words" not in f and "gopher_alpha_words" not in f


def test_ellipsis_list_fails_ellipsis_lines_only(ruleset: RuleSet) -> None:
    f = failed(ruleset, ELLIPSIS_LIST_EN, "en")
    assert list(f) == ["gopher_ellipsis_lines"]
    assert f["gopher_ellipsis_lines"] == Failure("gopher_ellipsis_lines", 6 / 8, ">", 0.3)


# --- Chinese pages -----------------------------------------------------------------------------


def test_good_chinese_article_passes_zh_rules_but_not_english_ones(ruleset: RuleSet) -> None:
    assert failed(ruleset, GOOD_ZH, "zh") == {}
    assert failed(ruleset, GOOD_ZH, "zh-Hans") == {}
    # the English thresholds on the same character signals would reject it (mean word length 1)
    sig = compute_signals(GOOD_ZH, "zh")
    assert [f.rule for f in ruleset.evaluate("doc", "en", sig)] == ["gopher_mean_word_length_min"]


def test_chinese_table_fails_zh_alpha_words(ruleset: RuleSet) -> None:
    f = failed(ruleset, LOTTERY_TABLE_ZH, "zh")
    assert f["gopher_alpha_words"].threshold == 0.735
    assert f["gopher_alpha_words"].value < 0.5


def test_chinese_spam_fails_repetition(ruleset: RuleSet) -> None:
    f = failed(ruleset, SPAM_REPEATED_ZH, "zh")
    # 10 lines, 2 distinct promo lines + 1 filler: 7 repeats
    assert f["gopher_dup_line_frac"] == Failure("gopher_dup_line_frac", 0.7, ">", 0.287)
    assert {"gopher_dup_5gram", "gopher_dup_10gram"} <= set(f)
    assert f["gopher_dup_10gram"].threshold == 0.127


def thresholds(rules) -> dict[str, float]:
    return {r.name: r.threshold for r in rules}


def test_zh_section_overrides_only_what_it_names(ruleset: RuleSet) -> None:
    zh = thresholds(ruleset.rules_for("zh"))
    assert zh["gopher_min_words"] == 100
    assert (zh["gopher_mean_word_length_min"], zh["gopher_mean_word_length_max"]) == (1, 5)
    assert zh["gopher_top_2gram"] == 0.256
    assert zh["gopher_dup_para_frac"] == 0.3  # inherited from default
    assert ruleset.rules_for("fr") == ruleset.rules_for("default") == ruleset.rules_for(None)


# --- Rule semantics ----------------------------------------------------------------------------


def test_default_config_equals_published_gopher_defaults(ruleset: RuleSet) -> None:
    expected = [
        ("gopher_min_words", 50), ("gopher_max_words", 100_000), ("gopher_mean_word_length_min", 3),
        ("gopher_mean_word_length_max", 10), ("gopher_hash_ratio", 0.1), ("gopher_ellipsis_ratio", 0.1),
        ("gopher_bullet_lines", 0.9), ("gopher_ellipsis_lines", 0.3), ("gopher_alpha_words", 0.8),
        ("gopher_stop_words", 2), ("gopher_dup_line_frac", 0.3), ("gopher_dup_para_frac", 0.3),
        ("gopher_dup_line_char_frac", 0.2), ("gopher_dup_para_char_frac", 0.2),
        ("gopher_top_2gram", 0.20), ("gopher_top_3gram", 0.18), ("gopher_top_4gram", 0.16),
        *((f"gopher_dup_{n}gram", f) for n, f in zip(range(5, 11), (0.15, 0.14, 0.13, 0.12, 0.11, 0.10))),
        ("c4_lorem_ipsum", 0), ("c4_curly_bracket", 0), ("c4_min_sentences", 5),
        ("fineweb_line_punct_ratio", 0.12), ("fineweb_short_line_ratio", 0.67),
        ("fineweb_char_dup_ratio", 0.01), ("fineweb_list_ratio", 0.3),
    ]
    assert [(r.name, r.threshold) for r in ruleset.rules_for("en")] == expected
    # the table's own defaults are the published ones too, and the table is the registry of names
    goldpan_own = {"letter_words", "stop_word_ratio",  # multilingual mode's rules, not datatrove's
                   "distinct_words", "lorem_words", "url_lines", "long_line_chars", "keyword_dominance",
                   "unbalanced_brackets", "recurring_bigrams"}
    assert [(s.name, s.default) for s in RULE_TABLE if s.name not in goldpan_own] == expected
    assert set(rule_names()) == {name for name, _ in expected} | goldpan_own


def rule(key: str, **args):
    (r,) = build_rules(key, args)
    return r


def test_threshold_is_inclusive_like_datatrove() -> None:
    assert rule("gopher_min_words", min_words=50).evaluate({"n_words": 50}) is None
    assert rule("gopher_min_words", min_words=50).evaluate({"n_words": 49}) == Failure(
        "gopher_min_words", 49.0, "<", 50.0)
    assert rule("gopher_dup_line_frac", max_frac=0.3).evaluate({"dup_line_frac": 0.3}) is None
    assert rule("gopher_dup_line_frac", max_frac=0.3).evaluate({"dup_line_frac": 0.31}).op == ">"


def test_two_sided_rule_names_its_side() -> None:
    lo, hi = build_rules("gopher_mean_word_length", {"min_length": 3, "max_length": 10})
    assert lo.evaluate({"mean_word_length": 2.5}) == Failure("gopher_mean_word_length_min", 2.5, "<", 3.0)
    assert hi.evaluate({"mean_word_length": 12}) == Failure("gopher_mean_word_length_max", 12.0, ">", 10.0)
    assert lo.evaluate({"mean_word_length": 5}) is None and hi.evaluate({"mean_word_length": 5}) is None
    (only_max,) = build_rules("gopher_mean_word_length", {"max_length": 10})
    assert only_max.evaluate({"mean_word_length": 0.5}) is None
    assert [s.name for s in RECIPE_KEYS["gopher_mean_word_length"]] == [
        "gopher_mean_word_length_min", "gopher_mean_word_length_max"]


def test_prose_view_reads_prose_columns_and_c4_variant_switches_signal() -> None:
    (r,) = build_rules("gopher_alpha_words", {"min_ratio": 0.8}, view="prose")
    assert r.column == "prose_alpha_words_ratio"
    (strict,) = build_rules("c4_min_sentences", {"filter_no_terminal_punct": True})
    assert strict.column == "c4_strict_sentences"


def test_null_signal_passes_missing_signal_raises(ruleset: RuleSet) -> None:
    assert rule("gopher_stop_words", min_count=2).evaluate({"stop_words_count": None}) is None
    with pytest.raises(ValueError, match="stop_words_count"):
        rule("gopher_stop_words", min_count=2).evaluate({"n_words": 10})
    with pytest.raises(ValueError, match="doc 'd9'"):
        ruleset.evaluate("d9", "en", {"n_words": 10})


def test_german_page_not_rejected_for_missing_english_stop_words(ruleset: RuleSet) -> None:
    text = GOOD_EN.replace("the ", "die ").replace("and ", "und ")
    sig = compute_signals(text, "de")
    assert sig["stop_words_count"] >= 2  # German's FineWeb-2 list (die, und, ...), not Gopher's English one
    assert "gopher_stop_words" not in {f.rule for f in ruleset.evaluate("d", "de", sig)}
    sig = compute_signals(text, "yo")  # no list for Yoruba: the signal is null and the rule cannot fail
    assert sig["stop_words_count"] is None
    assert "gopher_stop_words" not in {f.rule for f in ruleset.evaluate("d", "yo", sig)}


# --- Config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg,message",
    [
        ({"default": {"gopher_min_wrods": {"min_words": 5}}},
         "unknown rule 'gopher_min_wrods' .did you mean 'gopher_min_words'"),
        ({"default": {"gopher_min_words": {"minimum": 5}}}, "rule 'gopher_min_words': unknown argument"),
        (
            {"default": {"gopher_min_words": {"min_words": "fifty"}}},
            "rule 'gopher_min_words': min_words must be",
        ),
        ({"default": {"gopher_alpha_words": {"min_ratio": 1.5}}}, "rule 'gopher_alpha_words'"),
        ({"default": {"gopher_dup_line_frac": {"max_frac": -0.1}}}, "rule 'gopher_dup_line_frac'"),
        ({"default": {"gopher_top_5gram": {"max_frac": 0.1}}}, "unknown rule 'gopher_top_5gram'"),
        ({"default": {"gopher_dup_7gram": {"n": 8, "max_frac": 0.1}}}, "rule 'gopher_dup_7gram': unknown argument"),
        ({"default": {"c4_curly_bracket": {"filter_no_terminal_punct": "yes"}}}, "must be true or false"),
        (
            {"default": {"gopher_mean_word_length": {"min_length": 9, "max_length": 3}}},
            "min_length 9 > max_length 3",
        ),
        ({"default": {"gopher_min_words": [50]}}, "arguments must be a mapping"),
        ({"zh": {"gopher_hash_ratio": {"max_ratio": True}}}, "section 'zh': rule 'gopher_hash_ratio'"),
        ({"zh": ["gopher_min_words"]}, "section 'zh' must be a mapping"),
        ({"zh": {}, "zh-Hans": {}}, "duplicates language 'zh'"),
    ],
)
def test_bad_config_raises_value_error_naming_the_rule(cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        RuleSet.from_config(cfg)


def test_language_section_merges_removes_and_replaces() -> None:
    cfg = {
        "default": {
            "gopher_min_words": {"min_words": 50},
            "gopher_mean_word_length": {"min_length": 2, "max_length": 10},
        },
        "zh": {"gopher_mean_word_length": {"max_length": 5}, "gopher_min_words": None},
        "ja": {"_inherit": False, "gopher_dup_5gram": {"max_frac": 0.243}},
    }
    rs = RuleSet.from_config(cfg)
    # partial update keeps min_length 2
    assert thresholds(rs.rules_for("zh")) == {"gopher_mean_word_length_min": 2, "gopher_mean_word_length_max": 5}
    assert thresholds(rs.rules_for("ja")) == {"gopher_dup_5gram": 0.243}
    assert thresholds(rs.rules_for("en")) == {
        "gopher_min_words": 50, "gopher_mean_word_length_min": 2, "gopher_mean_word_length_max": 10}
    assert rule("gopher_top_3gram", max_frac=0.2).threshold == 0.2


def test_default_config_is_not_mutated_and_fingerprint_tracks_thresholds() -> None:
    before = copy.deepcopy(DEFAULT_RULES_CONFIG)
    a = RuleSet.default()
    cfg = copy.deepcopy(DEFAULT_RULES_CONFIG)
    cfg["default"]["gopher_min_words"] = {"min_words": 10}
    b = RuleSet.from_config(cfg)
    assert DEFAULT_RULES_CONFIG == before
    assert a.fingerprint() == RuleSet.default().fingerprint() != b.fingerprint()


# --- Decisions as data -------------------------------------------------------------------------


def _stored_signals() -> list[dict[str, Any]]:
    records = [
        {"doc_id": "good", "batch_id": "b7", "lang": "en", "text": GOOD_EN},
        {"doc_id": "short", "batch_id": "b7", "lang": "en", "text": SHORT_EN},
        {"doc_id": "spam", "batch_id": "b7", "lang": "en", "text": SPAM_REPEATED_LINES_EN},
        {"doc_id": "zh_good", "batch_id": "b7", "lang": "zh", "text": GOOD_ZH},
        {"doc_id": "broken", "batch_id": "b7", "lang": "en", "text": None},
    ]
    # Round-trip through Arrow as the table will: decisions read stored rows, not live objects.
    return pa.Table.from_batches([compute_signal_batch(records)]).to_pylist()


def test_decide_batch_one_row_per_failed_rule_and_skips_error_rows(ruleset: RuleSet) -> None:
    stored = _stored_signals()
    rows = list(decide_batch(stored, ruleset, recipe_id="recipe-1"))
    assert {r["doc_id"] for r in rows} == {"short", "spam"}  # good docs pass, "broken" errored
    spam = [r for r in rows if r["doc_id"] == "spam"]
    assert len(spam) == len(failed(ruleset, SPAM_REPEATED_LINES_EN, "en")) >= 3
    assert len({r["rule"] for r in spam}) == len(spam)
    row = next(r for r in rows if r["doc_id"] == "short" and r["rule"] == "gopher_min_words")
    assert row == {
        "batch_id": "b7",
        "stage": "filter",
        "doc_id": "short",
        "rule": "gopher_min_words",
        "value": 20.0,
        "op": "<",
        "threshold": 50.0,
        "recipe_id": "recipe-1",
    }
    # an errored row is never judged, even if it carries (stale) numbers
    stale = dict(next(r for r in stored if r["doc_id"] == "short"), doc_id="stale", status="error")
    assert list(decide_batch([stale], ruleset, recipe_id="recipe-1")) == []
    # the rows fit the lake's rejections table as they are
    table = pa.Table.from_pylist(rows, schema=REJECTIONS)
    assert table.num_rows == len(rows)


def test_changing_a_threshold_changes_decisions_without_recomputing(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = _stored_signals()

    def no_tokenising(*_: Any, **__: Any) -> None:
        raise AssertionError("signals were recomputed")

    monkeypatch.setattr(sigmod, "tokenizer_for", no_tokenising)
    strict = {(r["doc_id"], r["rule"]) for r in decide_batch(stored, ruleset, "r1")}
    cfg = copy.deepcopy(DEFAULT_RULES_CONFIG)
    cfg["default"]["gopher_min_words"] = {"min_words": 10}
    cfg["default"]["gopher_top_4gram"] = {"max_frac": 0.5}
    lenient = {(r["doc_id"], r["rule"]) for r in decide_batch(stored, RuleSet.from_config(cfg), "r2")}
    assert ("short", "gopher_min_words") in strict
    assert ("short", "gopher_min_words") not in lenient
    # its only other Gopher failure was top_4gram (C4/FineWeb still reject its 3 sentences)
    assert not any(doc == "short" and rule.startswith("gopher_") for doc, rule in lenient)
    assert ("short", "c4_min_sentences") in lenient
    assert ("spam", "gopher_dup_line_frac") in lenient  # untouched rules still decide the same
    stricter = copy.deepcopy(DEFAULT_RULES_CONFIG)
    stricter["default"]["gopher_min_words"] = {"min_words": 400}
    decided = {(r["doc_id"], r["rule"]) for r in decide_batch(stored, RuleSet.from_config(stricter), "r3")}
    assert ("good", "gopher_min_words") in decided  # 376 words < 400
    assert ("zh_good", "gopher_min_words") not in decided  # zh keeps its own 100-character minimum
