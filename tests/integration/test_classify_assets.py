"""Classify assets materialized for real into a temporary lake: train from shipped reference text and
the crawled sample site, score the batch into doc_scores, decide, and keep the funnel balanced."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from goldpan.classify.model import file_sha1
from goldpan.extract.line_model import load_line_model
from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel
from tests.fixtures.pipeline_helpers import REPO_RECIPE, run_batch, seed_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BATCH = "b20260301T000000-classify"


def _recipe(tmp_path, name: str, **classify_overrides) -> str:
    """The demo recipe with parts of its `classify` section replaced."""
    with open(REPO_RECIPE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    for dotted, value in classify_overrides.items():
        node = data["classify"]
        *parents, leaf = dotted.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_site):
    mp = pytest.MonkeyPatch()
    seed_env(sample_site, mp)
    root = tmp_path_factory.mktemp("lake")
    recipes = tmp_path_factory.mktemp("recipes")
    with dg.instance_for_test() as instance:
        result = run_batch(instance, root, BATCH, recipe=_recipe(recipes, "classify", domains__rounds=2))
        yield result, Lake(root), instance, recipes
    mp.undo()


def test_training_assets_record_a_versioned_model_with_held_out_metrics(built):
    result, lake, _, _ = built
    assert result.success
    mats = {e.asset_key.to_user_string(): e.materialization.metadata
            for e in result.get_asset_materialization_events()}
    q = mats["quality_model"]
    assert q["status"].value == "trained"
    for key in ("heldout_precision", "heldout_recall", "heldout_f1"):
        assert 0.0 <= q[key].value <= 1.0
    sha1 = q["model_sha1"].value
    assert file_sha1(f"{lake.root}/models/quality/{sha1}.bin") == sha1
    with lake.connect(tables=["models"]) as con:
        rows = con.execute("SELECT name, round, status, n_train_pos, n_train_neg, precision, recall "
                           "FROM models WHERE kind <> 'extract' ORDER BY name, round").fetchall()
        # the documents asset registered the extractor's line model once (goldpan.extract.model_registry)
        extract_rows = con.execute("SELECT name, sha1 FROM models WHERE kind = 'extract'").fetchall()
    assert extract_rows == [("extract_lines", load_line_model("shipped:line_model.json").sha1)]
    names = {r[0] for r in rows}
    assert names == {"quality", "math", "code"} and all(r[2] == "trained" for r in rows)
    assert all(r[3] > 0 and r[4] > 0 and r[5] is not None and r[6] is not None for r in rows)
    # each mining round is an observation with its own held-out numbers
    obs = [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    rounds = [o.event_specific_data.asset_observation.metadata for o in obs]
    assert {r["model"].value for r in rounds} == {"math", "code"}
    assert all("recall" in r["heldout"].value for r in rounds)


def test_doc_scores_cover_every_document_with_signals_and_stay_in_range(built):
    _, lake, _, _ = built
    with lake.connect() as con:
        n_signals = con.execute("SELECT count(*) FROM doc_signals WHERE batch_id = ? AND status = 'kept'",
                                [BATCH]).fetchall()[0][0]
        rows = con.execute("SELECT doc_id, status, quality_score, quality_model, math_score, code_score, domain, "
                           "domain_model FROM doc_scores WHERE batch_id = ?", [BATCH]).fetchall()
        latest = con.execute("SELECT sha1 FROM models WHERE name = 'quality' ORDER BY trained_at DESC LIMIT 1").fetchone()[0]
    assert n_signals > 10 and len(rows) == n_signals and len({r[0] for r in rows}) == len(rows)
    for _, status, q, qm, m, c, domain, dm in rows:
        assert status == "kept" and qm == latest
        assert 0.0 <= q <= 1.0 and 0.0 <= m <= 1.0 and 0.0 <= c <= 1.0
        assert domain in {"math", "code", "general"} and dm.startswith("math:") and ",code:" in dm


def test_classify_rejections_follow_the_keep_rule_and_the_funnel_balances(built):
    _, lake, _, _ = built
    with lake.connect() as con:
        rej = con.execute("SELECT doc_id, value, op, threshold FROM quality_decisions WHERE stage = 'classify' "
                          "AND batch_id = ?", [BATCH]).fetchall()
        kept = con.execute("""SELECT s.quality_score FROM doc_scores s WHERE s.batch_id = ?
                              AND s.doc_id NOT IN (SELECT doc_id FROM rejections)
                              AND s.doc_id NOT IN (SELECT doc_id FROM quality_decisions)""", [BATCH]).fetchall()
        only_filter = con.execute("SELECT count(*) FROM rejections WHERE stage <> 'filter'").fetchall()[0][0]
        funnel = {r.stage: r for r in compute_funnel(con) if r.batch_id == BATCH}
        in_mix = con.execute("SELECT count(*) FROM mix_decisions WHERE doc_id IN "
                             "(SELECT doc_id FROM quality_decisions)").fetchall()[0][0]
    assert rej and all(op == "<" and v < t for _, v, op, t in rej)
    assert min(k[0] for k in kept) >= rej[0][3]
    c = funnel["classify"]
    assert c.balanced and c.rejected == len(rej) and c.input == funnel["filter"].kept
    assert funnel["mix"].balanced and funnel["mix"].input == c.kept
    assert in_mix == 0  # the mixer never sees a document the quality rule rejected
    assert only_filter == 0  # one writer per table: the filter's `rejections` holds no classify rows


def test_threshold_change_re_decides_without_re_scoring(built):
    _, lake, instance, recipes = built
    scores_version = lake.version("doc_scores")
    recipe = _recipe(recipes, "strict", domains__rounds=2, quality__keep={"mode": "threshold", "threshold": 0.999})
    res = run_batch(instance, lake.root, BATCH, recipe=recipe, selection=["quality_decisions"])
    assert res.success
    assert lake.version("doc_scores") == scores_version
    with lake.connect() as con:
        n_rej = con.execute("SELECT count(*) FROM quality_decisions WHERE stage = 'classify' AND batch_id = ?",
                            [BATCH]).fetchall()[0][0]
        n_in = next(r for r in compute_funnel(con, ["classify"]) if r.batch_id == BATCH)
    assert n_rej == n_in.input and n_in.balanced  # every score is below 0.999


def test_tiny_pool_refuses_training_and_scores_stay_null(built, tmp_path):
    _, lake, instance, recipes = built
    recipe = _recipe(recipes, "refuse", quality__min_negatives=100_000, domains__enabled=False)
    res = run_batch(instance, lake.root, BATCH, recipe=recipe,
                    selection=["quality_model", "domain_models", "doc_scores", "quality_decisions"])
    assert res.success
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in res.get_asset_materialization_events()}
    assert meta["quality_model"]["status"].value == "refused"
    assert "min_negatives=100000" in meta["quality_model"]["reason"].value
    with lake.connect() as con:
        nulls = con.execute("SELECT count(*), count(quality_score), count(math_score) FROM doc_scores "
                            "WHERE batch_id = ?", [BATCH]).fetchone()
        n_rej = con.execute("SELECT count(*) FROM quality_decisions WHERE stage = 'classify' AND batch_id = ?",
                            [BATCH]).fetchall()[0][0]
        row = con.execute("SELECT status, reason FROM models WHERE name = 'quality' ORDER BY trained_at DESC "
                          "LIMIT 1").fetchone()
    assert nulls[0] > 0 and nulls[1] == 0 and nulls[2] == 0
    assert n_rej == 0 and row[0] == "refused"
