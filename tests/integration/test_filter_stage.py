"""Filter stage through the real assets: thresholds change decisions, never the stored signals."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from goldpan.cli import main as cli_main
from goldpan.filter.ruletable import rule_names
from goldpan.filter.signals import SIGNAL_NAMES
from goldpan.lake import Lake
from tests.fixtures.pipeline_helpers import run_batch, seed_env

pytestmark = pytest.mark.integration

BATCH = "b20260301T000000-filter"


def _rows(lake: Lake, sql: str):
    with lake.connect() as con:
        return con.execute(sql).fetchall()


def _recipe_with(tmp_path: Path, rules: dict) -> str:
    data = yaml.safe_load(Path("recipes/demo.yaml").read_text(encoding="utf-8"))
    data["filter"] = {"rules": rules}
    path = tmp_path / "lenient.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def filtered(tmp_path_factory, sample_site):
    mp = pytest.MonkeyPatch()
    seed_env(sample_site, mp)
    root = tmp_path_factory.mktemp("lake")
    with dg.instance_for_test() as instance:
        res = run_batch(instance, root, BATCH, selection=["pages", "documents", "dedup_clusters", "doc_signals",
                                                         "rejections"])
        assert res.success
        yield Lake(root), instance, root
    mp.undo()


def test_every_rejection_carries_rule_value_op_and_threshold(filtered):
    lake, _, _ = filtered
    bad = _rows(lake, "SELECT count(*) FROM rejections WHERE rule IS NULL OR value IS NULL OR op IS NULL "
                      "OR threshold IS NULL OR recipe_id IS NULL")
    assert bad == [(0,)]
    rules = {r for (r,) in _rows(lake, "SELECT DISTINCT rule FROM rejections")}
    # the demo recipe's multilingual mode (letter_words, stop_word_ratio; no C4 sentence rule)
    assert {"letter_words", "gopher_min_words", "stop_word_ratio", "fineweb_line_punct_ratio"} <= rules
    assert rules <= set(rule_names())
    # one signals row per document that reached the filter, every signal column present
    n_docs = _rows(lake, f"SELECT count(*) FROM dedup_clusters WHERE status = 'kept' AND batch_id = '{BATCH}'")
    assert _rows(lake, "SELECT count(*) FROM doc_signals") == n_docs
    cols = {r[0] for r in _rows(lake, "SELECT column_name FROM (DESCRIBE doc_signals)")}
    assert set(SIGNAL_NAMES) <= cols


def test_threshold_change_redecides_without_recomputing_signals(filtered, tmp_path):
    lake, instance, root = filtered
    signals_version = lake.version("doc_signals")
    before = set(_rows(lake, "SELECT doc_id, rule FROM rejections"))
    assert any(rule == "gopher_min_words" for _, rule in before)

    recipe = _recipe_with(tmp_path, {"default": {"gopher_min_words": {"min_words": 1}},
                                     "zh": {"gopher_min_words": {"min_words": 1}}})
    res = run_batch(instance, root, BATCH, recipe=recipe, selection=["rejections"])
    assert res.success
    after = set(_rows(lake, "SELECT doc_id, rule FROM rejections"))
    assert lake.version("doc_signals") == signals_version  # signals were not rewritten
    assert not any(rule == "gopher_min_words" for _, rule in after)
    assert after == {x for x in before if x[1] != "gopher_min_words"}  # every other decision unchanged
    assert len({rid for (rid,) in _rows(lake, "SELECT DISTINCT recipe_id FROM rejections")}) == 1


def test_sweep_prints_a_kept_token_curve(filtered, capsys):
    _, _, root = filtered
    code = cli_main(["--lake", str(root), "sweep", "letter_words", "--thresholds", "0.5,0.8,0.95"])
    assert code == 0
    out, per_lang = capsys.readouterr().out.split("per language:")
    lines = [line.split() for line in out.splitlines() if line.startswith(("en ", "zh "))]
    en = [row for row in lines if row[0] == "en"]
    assert [row[2] for row in en] == ["0.5", "0.8*", "0.95"]
    kept = [int(row[3]) for row in en]
    assert kept[0] >= kept[1] >= kept[2] and kept[0] > kept[2]  # a stricter threshold keeps fewer
    # per language: the whole recipe's keep rate against the spam (built from the language's pages) removed
    en_rows = [line.split() for line in per_lang.splitlines() if line.startswith("en ")]
    assert [row[1] for row in en_rows] == ["0.5", "0.8*", "0.95"]
    spam_removed = [float(row[-1].rstrip("%")) for row in en_rows]
    assert spam_removed[0] <= spam_removed[1] <= spam_removed[2] and spam_removed[1] > 50
