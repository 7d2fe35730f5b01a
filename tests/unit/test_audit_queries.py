"""why / sql / recipe diffs / report rendering on the small real lake of tests/fixtures/audit_lake.py."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pyarrow as pa

from goldpan.audit.recipes import flatten, recipe_changes, record_recipe, snapshot
from goldpan.commands.sql import repl
from goldpan.lake.schemas import CORPUS_RELEASES
from goldpan.lineage.figures import recipe_targets
from goldpan.lineage.html import build_report, hbar
from goldpan.lineage.why import why
from goldpan.recipe_loader import parse_recipe
from tests.fixtures.audit_lake import URLS, add_kept_document, build_lake

RECIPE = {
    "name": "unit",
    "crawl": {"seeds": ["https://blog.example.org/"], "allowed_hosts": ["blog.example.org", "news.example.cn"]},
    "mix": {"languages": ["en", "zh"]},
}


def test_why_answers_for_kept_filtered_and_out_of_scope_pages(tmp_path):
    lake = build_lake(tmp_path / "lake")
    assert why(lake, URLS["A"]).in_release
    c = why(lake, URLS["C"])
    assert (c.stage, c.rule, c.value, c.threshold) == ("filter", "gopher_min_words", 3.0, 50.0)
    record_recipe(lake, parse_recipe(RECIPE))
    out = why(lake, "https://elsewhere.example.net/x.html")
    assert (out.stage, out.rule) == ("crawl", "out_of_scope") and "host_not_allowed" in out.detail
    unseen = why(lake, "https://blog.example.org/never-linked.html")
    assert unseen.rule == "not_crawled" and "unit@" in unseen.detail


def test_why_names_a_refused_release_and_a_candidate_not_promoted_yet(tmp_path):
    lake = build_lake(tmp_path / "lake")
    url = "https://blog.example.org/new.html"
    add_kept_document(lake, "dX", url, "A new post about rye bread and its long, slow fermentation.")
    a = why(lake, url)
    assert (a.stage, a.rule) == ("release", "not_promoted_yet")
    gate = {"results": [{"table": "corpus_candidate", "column": "text", "expectation": "expect_column_values_to_not_be_null",
                         "success": False, "unexpected_count": 1}]}
    lake.write("corpus_releases", [pa.RecordBatch.from_pylist([{
        "attempt_id": "a2", "status": "refused", "candidate_version": lake.version("corpus_candidate"),
        "recipe_id": "r@1", "gate_json": json.dumps(gate), "decided_at": datetime.now(UTC)}], schema=CORPUS_RELEASES)],
        CORPUS_RELEASES, mode="append")
    r = why(lake, url)
    assert (r.stage, r.rule) == ("release", "gate_refused") and "expect_column_values_to_not_be_null" in r.detail


def test_sql_shell_runs_multiline_statements_and_survives_errors(tmp_path):
    lake = build_lake(tmp_path / "lake")
    stdin = io.StringIO(".tables\nSELECT lang, count(*) AS n\n  FROM documents GROUP BY lang ORDER BY lang;\n"
                        "SELECT no_such_column FROM pages;\nSELECT url FROM training_corpus WHERE lang = 'zh';\n.quit\n")
    out = io.StringIO()
    with lake.connect() as con:
        rc = repl(con, lake.list_tables(), stdin=stdin, out=out)
    text = out.getvalue()
    assert rc == 1  # a failed statement in a script is an error exit, after running the rest
    assert "training_corpus" in text.splitlines()[:20]
    assert "error:" in text and URLS["B"] in text
    assert "zh" in text and "en" in text


def test_recipe_snapshots_and_changes_name_the_changed_threshold(tmp_path):
    lake = build_lake(tmp_path / "lake")
    r1 = parse_recipe(RECIPE)
    r2 = parse_recipe(RECIPE | {"filter": {"rules": {"default": {"gopher_min_words": {"min_words": 80}}}}})
    assert record_recipe(lake, r1) and not record_recipe(lake, r1)
    record_recipe(lake, r2)
    changes = recipe_changes(snapshot(lake, r1.sha1)["recipe"], snapshot(lake, r2.sha1)["recipe"])
    assert {"key": "filter.rules.default.gopher_min_words.min_words", "before": None, "after": 80} in changes
    assert flatten({"a": {"b": 1, "c": [1, 2]}}) == {"a.b": 1, "a.c": [1, 2]}


def test_recipe_targets_read_shares_only_when_the_recipe_states_them():
    assert recipe_targets({"mix": {"languages": ["en", "zh"]}}, ["en", "zh"]) == {}
    tg = recipe_targets({"mix": {"targets": {"lang": {"en": 3, "zh": 1}}}}, ["en", "zh"])
    assert tg == {"en": 0.75, "zh": 0.25}


def test_charts_escape_labels_and_the_report_renders_without_a_release(tmp_path):
    svg = hbar("rules", [("<script>alert(1)</script>", 3), ("过滤:最少字数", 1)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "过滤:最少字数" in svg
    lake = build_lake(tmp_path / "lake")
    page = build_report(lake)
    assert page.startswith("<!DOCTYPE html>") and "release v1" in page and page.count('<svg class="chart"') >= 4
