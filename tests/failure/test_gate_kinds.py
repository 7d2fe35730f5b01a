"""Each kind of release-gate violation refuses promotion and is recorded with what failed.

One real pipeline run (sample site, demo recipe: curated corpus, targets, eval set; the session's
`demo_run`, shared with test_gate and test_audit) builds a lake with release v1; every test works on
its own copy of that lake and changes one thing a gate checks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from goldpan.lake import Lake
from goldpan.recipe_loader import load_recipe
from goldpan.release.promote import PromotionRefused, _update_attempt, promote, record_gate_attempt, releases
from quality_checks.gate import validate_candidate
from tests.fixtures.pipeline_helpers import DEMO_RUN_BATCH, run_batch

pytestmark = pytest.mark.integration
BATCH = DEMO_RUN_BATCH
RELEASE_STEP = ["curated_documents", "doc_tokens", "mix_decisions", "corpus_candidate", "training_corpus", "corpus_releases"]


@pytest.fixture(scope="module")
def built(demo_run) -> Path:
    """The session's demo run (tests/conftest.py: demo_run): its lake, read here, copied by `lake`."""
    return demo_run / "lake"


@pytest.fixture
def lake(built, tmp_path) -> Lake:
    shutil.copytree(built, tmp_path / "lake-copy")
    return Lake(tmp_path / "lake-copy")


def recipe_with(section: str | None = None, **changes):
    r = load_recipe("recipes/demo.yaml")
    if section is None:
        return r
    return r.model_copy(update={section: getattr(r, section).model_copy(update=changes)})


def refuse_and_record(lake: Lake, recipe) -> tuple[set[str], dict]:
    """Run the gate, record its verdict like the asset check does, and try to promote."""
    corpus_version = lake.version("training_corpus")
    report = validate_candidate(lake, recipe)
    assert not report.success
    cand = lake.version("corpus_candidate")
    record_gate_attempt(lake, passed=False, candidate_version=cand, recipe_id=recipe.recipe_id, recipe_sha1=recipe.sha1,
                        gate=report.as_json(), run_id="test", stats=report.stats)
    with pytest.raises(PromotionRefused, match="refused by the gate"):
        promote(lake, candidate_version=cand, run_id="test")
    assert lake.version("training_corpus") == corpus_version
    last = releases(lake)[-1]
    assert last["status"] == "refused" and last["corpus_version"] is None and last["n_tokens"] > 0
    failed = {r["column"] or r["expectation"] for r in json.loads(last["gate_json"])["results"] if not r["success"]}
    return failed, json.loads(last["gate_json"])


def test_the_demo_release_passes_with_targets_met_and_planted_overlaps_removed(built):
    lake = Lake(built)
    [v1] = [r for r in releases(lake) if r["status"] == "promoted"]
    stats = json.loads(v1["stats_json"])
    assert v1["release"] == "v1" and v1["n_tokens"] == stats["tokens"] > 0
    assert abs(stats["share_by_source"]["sample-web"] - 0.75) <= 0.05
    assert abs(stats["share_by_source"]["curated-notes"] - 0.25) <= 0.05
    assert stats["contamination_hits"] == 0
    with lake.connect(tables=["mix_decisions", "documents", "training_corpus"]) as con:
        hits = con.sql("SELECT detail FROM mix_decisions WHERE rule = 'contaminated' ORDER BY detail").fetchall()
        repeats = con.sql("SELECT max(repeat) FROM mix_decisions WHERE source = 'curated-notes'").fetchall()[0][0]
        # The two pages with planted eval overlaps: each one that reached the mix is rejected as
        # contaminated (the classify stage's top-fraction cut on ~20 demo documents may drop one
        # earlier), and neither is in the corpus.
        planted = con.sql(
            "SELECT d.url, m.rule FROM documents d LEFT JOIN mix_decisions m USING (doc_id) "
            "WHERE d.url LIKE '%/winter-heating.html' OR d.url LIKE '%/city-cycling.html'"
        ).fetchall()
        in_corpus = con.sql(
            "SELECT count(*) FROM training_corpus WHERE url LIKE '%/winter-heating.html' "
            "OR url LIKE '%/city-cycling.html'"
        ).fetchall()[0][0]
    assert len(planted) == 2, planted
    assert all(rule in (None, "contaminated") for _, rule in planted), planted
    assert in_corpus == 0
    assert hits and all(h[0].split(":")[0] == "demo-eval" for h in hits), hits
    assert len(hits) == sum(rule == "contaminated" for _, rule in planted)
    for url, rule in planted:
        if rule == "contaminated":
            marker = "heating is the largest part" if "winter-heating" in url else "公司搬到了"
            assert any(marker in h[0] for h in hits), (url, hits)
    assert 2 <= repeats <= 4  # the small curated corpus is upsampled (max_epochs 4) to reach its share


def test_token_total_outside_tolerance_is_refused(lake):
    tokens = json.loads(releases(lake)[-1]["stats_json"])["tokens"]
    failed, gate = refuse_and_record(lake, recipe_with("mix", total_tokens=tokens * 2))
    assert failed == {"tokens_total"}
    assert gate["bounds"]["tokens_total"] == [tokens * 2 * 0.95, tokens * 2 * 1.05]


def test_source_share_outside_tolerance_is_refused(lake):
    failed, _ = refuse_and_record(lake, recipe_with("mix", targets={"sample-web": 0.5, "curated-notes": 0.5}))
    assert failed == {"share_source_sample-web", "share_source_curated-notes"}


def test_language_share_outside_tolerance_is_refused(lake):
    failed, gate = refuse_and_record(lake, recipe_with("gate", language_shares={"en": 0.8, "zh": 0.2},
                                                       language_tolerance=0.05))
    assert failed == {"share_lang_en", "share_lang_zh"}
    assert 0 < gate["metrics"]["share_lang_en"] < 0.75  # the sample is mostly Chinese by GPT-2 tokens


def test_duplicate_rate_far_from_the_previous_release_is_refused(lake):
    v1 = releases(lake)[-1]
    stats = json.loads(v1["stats_json"])
    # The previous release saw 90% duplicates and no dedup rule rates: this candidate's ~19% is a jump.
    _update_attempt(lake, v1["attempt_id"], {"stats_json": json.dumps(stats | {"dup_rate": 0.9, "rule_rates": {}})}, None)
    failed, _ = refuse_and_record(lake, recipe_with())
    assert "dup_rate" in failed and "rate_dedup_exact_duplicate" not in failed  # 3/31 < band 0.15
    assert stats["dup_rate"] == pytest.approx(6 / 31)  # goldpan extraction: 31 documents reach dedup


def test_contamination_left_in_the_candidate_is_refused(lake, tmp_path):
    # An eval set added after the mix ran: the candidate still holds a document that overlaps it.
    with lake.connect(tables=["corpus_candidate"]) as con:
        text = con.sql("SELECT text FROM corpus_candidate WHERE lang = 'en' ORDER BY doc_id LIMIT 1").fetchall()[0][0]
    leaked = tmp_path / "leaked.jsonl"
    leaked.write_text(json.dumps({"text": " ".join(text.split()[20:50])}) + "\n", encoding="utf-8")
    from goldpan.recipe import EvalSet

    failed, gate = refuse_and_record(lake, recipe_with("decontam", eval_sets=[EvalSet(name="leaked", path=str(leaked))]))
    assert failed == {"contamination_hits"} and gate["metrics"]["contamination_hits"] == 1


def test_broken_gate_recipe_through_dagster_is_refused_and_recorded(lake):
    with dg.instance_for_test() as instance:
        before = lake.version("training_corpus")
        selection = dg.AssetSelection.assets(*RELEASE_STEP) | dg.AssetSelection.checks_for_assets("corpus_candidate")
        res = run_batch(instance, lake.root, BATCH, recipe="recipes/demo-broken-gate.yaml", selection=selection,
                        partitioned=False)
        assert not res.success
        [gate] = [e for e in res.get_asset_check_evaluations() if e.check_name == "candidate_gate"]
        assert not gate.passed
    assert lake.version("training_corpus") == before
    last = releases(lake)[-1]
    assert last["status"] == "refused" and last["recipe_id"].startswith("demo-broken-gate@")


def test_unmeetable_target_fails_the_mix_and_the_cli_says_why(lake, tmp_path, capsys):
    import yaml

    from goldpan.cli import main as cli_main

    data = yaml.safe_load(Path("recipes/demo.yaml").read_text(encoding="utf-8"))
    data["mix"]["total_tokens"] = 1_000_000
    bad = tmp_path / "too-big.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = lake.version("mix_decisions")
    assert cli_main(["--lake", lake.root, "mix", "--recipe", str(bad)]) == 3
    out = capsys.readouterr().out
    assert "REFUSED" in out and "'curated-notes' needs 250000 tokens" in out and "'sample-web' needs 750000" in out
    with dg.instance_for_test() as instance:
        res = run_batch(instance, lake.root, BATCH, recipe=str(bad), selection=dg.AssetSelection.assets("mix_decisions"),
                        partitioned=False)
    assert not res.success and lake.version("mix_decisions") == before  # nothing approximated, nothing written
    failure = next(e for e in res.all_events if e.event_type_value == "STEP_FAILURE")
    assert "cannot be met" in str(failure.event_specific_data.error)
    # and the demo recipe itself passes the dry run, printing target vs achieved
    assert cli_main(["--lake", lake.root, "mix", "--recipe", "recipes/demo.yaml"]) == 0
    assert "| sample-web | 0.750 |" in capsys.readouterr().out


def test_sampling_is_deterministic_for_a_seed(lake, tmp_path):
    from goldpan.mix import stage as mix_stage

    def selected(seed: int) -> list[tuple]:
        # equal shares: the curated corpus (at its epoch limit) binds, so the web budget is cut and
        # the seed decides which web documents fill it
        r = recipe_with("mix", seed=seed, targets={"sample-web": 0.5, "curated-notes": 0.5})
        mix_stage.run(lake, r)
        with lake.connect(tables=["mix_decisions"]) as con:
            return con.sql("SELECT doc_id, status, rule, repeat FROM mix_decisions ORDER BY doc_id").fetchall()

    a, b = selected(7), selected(7)
    assert a == b
    others = [selected(s) for s in (8, 9, 10)]
    assert any(o != a for o in others)  # the seed really drives which documents fill the budget
    assert all(sum(1 for x in o if x[2] == "over_budget") > 0 for o in [a, *others])
