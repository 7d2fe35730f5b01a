"""A failing expectation stops promotion: the corpus stays at its previous version, the refused
attempt is recorded with the failed expectation, and no other route can promote that candidate."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from goldpan.lake import Lake
from goldpan.lake.schemas import MIX_DECISIONS
from goldpan.release.promote import releases
from tests.fixtures.pipeline_helpers import DEMO_RUN_BATCH, copy_demo_run, run_batch, seed_env

pytestmark = pytest.mark.integration
BATCH = DEMO_RUN_BATCH
RELEASE_STEP = ["corpus_candidate", "training_corpus", "corpus_releases"]


@pytest.fixture
def copied(demo_run: Path, tmp_path) -> tuple[Lake, str]:
    """A copy of the session's demo run (lake and instance folder: the automation test's conditions
    read its run history); both tests break that release, so each works on its own copy."""
    root, home = copy_demo_run(demo_run, tmp_path)
    return Lake(root), home


def _duplicate_one_mix_row(lake: Lake) -> str:
    """Simulate a mixing bug: one selected document listed twice, so its doc_id repeats in the candidate."""
    with lake.connect(tables=["mix_decisions"]) as con:
        row = con.sql("SELECT * FROM mix_decisions WHERE status = 'kept' ORDER BY doc_id LIMIT 1").arrow().read_all()
    lake.write("mix_decisions", row.cast(MIX_DECISIONS), MIX_DECISIONS, mode="append")
    return row.column("doc_id")[0].as_py()


def test_failed_expectation_blocks_promotion_and_is_recorded(copied, sample_site, monkeypatch):
    seed_env(sample_site, monkeypatch)
    lake, home = copied
    with dg.instance_for_test(temp_dir=home) as instance:
        corpus_version = lake.version("training_corpus")
        corpus_rows = lake.connect(tables=["training_corpus"]).execute("SELECT count(*) FROM training_corpus").fetchone()[0]

        dup = _duplicate_one_mix_row(lake)
        result = run_batch(
            instance, lake.root, BATCH,
            selection=dg.AssetSelection.assets(*RELEASE_STEP) | dg.AssetSelection.checks_for_assets("corpus_candidate"),
            partitioned=False,
        )

        assert not result.success
        [gate] = [e for e in result.get_asset_check_evaluations() if e.check_name == "candidate_gate"]
        assert not gate.passed
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert "corpus_candidate" in materialized and "training_corpus" not in materialized
        # the corpus is untouched
        assert lake.version("training_corpus") == corpus_version
        assert lake.connect(tables=["training_corpus"]).execute("SELECT count(*) FROM training_corpus").fetchone()[0] == corpus_rows
        # the refused attempt is recorded with what failed
        last = releases(lake)[-1]
        assert last["status"] == "refused" and last["corpus_version"] is None
        failed = [r for r in json.loads(last["gate_json"])["results"] if not r["success"]]
        kinds = {(r["table"], r["expectation"], r["column"]) for r in failed}
        assert ("corpus_candidate", "expect_column_values_to_be_unique", "doc_id") in kinds
        assert ("funnel", "expect_column_values_to_be_between", "orphans") in kinds or \
               ("funnel", "expect_column_values_to_be_between", "unbalanced") in kinds
        unique = next(r for r in failed if r["expectation"] == "expect_column_values_to_be_unique")
        assert dup in unique["sample"]

        # A separate run of the promotion alone (bypassing the check) must refuse as well.
        bypass = run_batch(instance, lake.root, BATCH, selection=dg.AssetSelection.assets("training_corpus", "corpus_releases"),
                           partitioned=False)
        assert not bypass.success
        assert lake.version("training_corpus") == corpus_version


def test_automation_does_not_promote_after_a_failed_gate(copied, sample_site, monkeypatch):
    """`eager() & all_deps_blocking_checks_passed()` keeps declarative automation behind the gate."""
    from definitions import defs

    seed_env(sample_site, monkeypatch)
    lake, home = copied
    with dg.instance_for_test(temp_dir=home) as instance:
        _duplicate_one_mix_row(lake)
        failed = run_batch(
            instance, lake.root, BATCH,
            selection=dg.AssetSelection.assets("corpus_candidate") | dg.AssetSelection.checks_for_assets("corpus_candidate"),
            partitioned=False,
        )
        assert not failed.success
        evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert evaluation.get_num_requested(dg.AssetKey("training_corpus")) == 0

        # Control: once the mix is recomputed and the gate passes, automation does promote.
        fixed = run_batch(
            instance, lake.root, BATCH,
            selection=dg.AssetSelection.assets("mix_decisions", "corpus_candidate")
            | dg.AssetSelection.checks_for_assets("corpus_candidate"),
            partitioned=False,
        )
        assert fixed.success
        evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=evaluation.cursor)
        assert evaluation.get_num_requested(dg.AssetKey("training_corpus")) == 1
