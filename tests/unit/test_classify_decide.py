"""The keep decision over stored scores, and the scorer's rows (domain labels, error rows)."""

from __future__ import annotations

import pytest

from goldpan.classify.decide import KeepRule, cutoff, quality_rejections
from goldpan.classify.model import FastTextParams, train_binary
from goldpan.classify.scores import LoadedModel, Scorer
from tests.fixtures.classify_samples import GOOD_EN, GOOD_ZH, MATH_DOCS, SPAM


def _rows(scores):
    return [{"doc_id": f"d{i}", "batch_id": "b1", "quality_score": s} for i, s in enumerate(scores)]


def test_threshold_rejects_below_with_value_op_threshold():
    rows, summary = quality_rejections(_rows([0.9, 0.2, 0.5, 0.49]), KeepRule("threshold", threshold=0.5), "demo@x")
    rows = list(rows)
    assert [r["doc_id"] for r in rows] == ["d1", "d3"]
    assert all(r["op"] == "<" and r["threshold"] == 0.5 and r["value"] < 0.5 for r in rows)
    assert all(r["stage"] == "classify" and r["rule"] == "quality_fasttext" and r["recipe_id"] == "demo@x" for r in rows)
    assert summary["kept"] == 2 and summary["rejected"] == 2


def test_top_fraction_keeps_the_best_tenth_and_ties_at_the_cutoff():
    scores = [i / 100 for i in range(100)]
    rows, summary = quality_rejections(_rows(scores), KeepRule("top_fraction", top_fraction=0.1), "r")
    assert len(list(rows)) == 90 and summary["cutoff"] == 0.9
    assert cutoff([0.5, 0.5, 0.5, 0.1], KeepRule("top_fraction", top_fraction=0.25)) == 0.5  # ties kept
    assert cutoff([0.3], KeepRule("top_fraction", top_fraction=0.1)) == 0.3  # at least one kept


def test_off_and_unscored_documents_are_not_rejected():
    rows, summary = quality_rejections(_rows([0.1, 0.2]), KeepRule("off"), "r")
    assert list(rows) == [] and summary["kept"] == 2
    rows, summary = quality_rejections(_rows([None, None, 0.1]), KeepRule("threshold", threshold=0.5), "r")
    assert [r["doc_id"] for r in rows] == ["d2"]
    assert summary["undecided_no_model"] == 2
    with pytest.raises(ValueError):
        cutoff([0.1], KeepRule("median"))


def test_a_threshold_change_only_re_decides_stored_scores():
    stored = _rows([0.05, 0.3, 0.6, 0.95])
    strict = [r["doc_id"] for r in quality_rejections(stored, KeepRule("threshold", threshold=0.7), "r")[0]]
    loose = [r["doc_id"] for r in quality_rejections(stored, KeepRule("threshold", threshold=0.1), "r")[0]]
    assert strict == ["d0", "d1", "d2"] and loose == ["d0"]


def test_scorer_rows_domains_and_error_rows():
    params = FastTextParams(dim=16, epoch=40, lr=0.5, bucket=10_000, seed=3)
    quality = LoadedModel("q" * 40, train_binary(GOOD_EN + GOOD_ZH, SPAM, params))
    math = LoadedModel("m" * 40, train_binary(MATH_DOCS, GOOD_EN + SPAM, params))
    scorer = Scorer(quality=quality, math=math, code=None, label_threshold=0.5)
    docs = [{"doc_id": "a", "batch_id": "b1", "text": MATH_DOCS[1]},
            {"doc_id": "b", "batch_id": "b1", "text": GOOD_ZH[2]},
            {"doc_id": "c", "batch_id": "b1", "text": ""}]
    rb = scorer.score_batch(docs)
    rows = {r["doc_id"]: r for r in rb.to_pylist()}
    assert rows["a"]["domain"] == "math" and rows["a"]["math_score"] > 0.5
    assert rows["b"]["domain"] == "general" and rows["b"]["code_score"] is None
    assert rows["a"]["quality_model"] == "q" * 40 and rows["a"]["domain_model"] == "math:" + "m" * 40 + ",code:"
    assert rows["c"]["status"] == "error" and rows["c"]["reason"] == "no_text" and rows["c"]["quality_score"] is None
    assert all(0 <= r["quality_score"] <= 1 for r in rows.values() if r["quality_score"] is not None)
    batches = list(scorer.score_stream(iter(docs * 3), chunk=4))
    assert [b.num_rows for b in batches] == [4, 4, 1]


def test_scorer_without_models_leaves_scores_null():
    rb = Scorer(None, None, None).score_batch([{"doc_id": "a", "batch_id": "b", "text": GOOD_EN[0]}])
    r = rb.to_pylist()[0]
    assert r["status"] == "kept" and r["quality_score"] is None and r["domain"] is None and r["domain_model"] is None


def test_one_model_per_pass_gives_the_scorers_rows(tmp_path):
    """doc_scores is scored one model at a time (classify.stage: a pass per model, then a join): the
    rows equal the single-pass Scorer's, on English, Chinese, math and empty texts."""
    import pyarrow as pa

    from goldpan.classify.stage import (
        MODELS,
        AssembleContext,
        ModelPass,
        ModelRef,
        PassResult,
        _with_probabilities,
        assemble_batch,
        probability_batch,
    )
    from goldpan.engine import InProcessEngine
    from goldpan.engine.cache import stage_of

    params = FastTextParams(dim=16, epoch=40, lr=0.5, bucket=10_000, seed=3)
    models = {"quality": train_binary(GOOD_EN + GOOD_ZH, SPAM, params),
              "math": train_binary(MATH_DOCS, GOOD_EN + SPAM, params)}
    refs = {}
    for name, m in models.items():
        path = tmp_path / f"{name}.bin"
        m.save_model(str(path))
        refs[name] = ModelRef(name[0] * 40, str(path))
    scorer = Scorer(quality=LoadedModel(refs["quality"].sha1, models["quality"]),
                    math=LoadedModel(refs["math"].sha1, models["math"]), code=None, label_threshold=0.5)
    docs = [{"doc_id": f"d{i}", "batch_id": "b1", "text": t}
            for i, t in enumerate([MATH_DOCS[1], GOOD_ZH[2], "", GOOD_EN[0], SPAM[0], None])]
    expected = scorer.score_batch([dict(d) for d in docs]).to_pylist()

    batches = [pa.RecordBatch.from_pylist(docs[:4]), pa.RecordBatch.from_pylist(docs[4:])]
    engine = InProcessEngine()
    passes = {m: PassResult.collect(engine.map_batches(probability_batch, iter(batches), ModelPass(refs[m], 10_000)))
              for m in MODELS if m in refs}
    ctx = AssembleContext(domain_model=scorer.domain_model, quality_sha1=refs["quality"].sha1, label_threshold=0.5)
    # the join reads the rows without their text (SCORES_JOIN_SQL: has_text)
    join = [pa.RecordBatch.from_pylist([{"doc_id": d["doc_id"], "batch_id": d["batch_id"], "has_text": bool(d["text"])}
                                        for d in part]) for part in (docs[:4], docs[4:])]
    got = [r for b in _with_probabilities(iter(join), passes) for r in assemble_batch(b, ctx).to_pylist()]
    assert got == expected
    # each model's pass is its own stage for the worker cache: the previous model is dropped first
    assert stage_of(probability_batch, ModelPass(refs["quality"], 1)) != stage_of(probability_batch, ModelPass(refs["math"], 1))
    # a pass that read other rows than the join's input is refused, not joined by position
    with pytest.raises(RuntimeError, match="other rows"):
        list(_with_probabilities(iter(join[::-1]), passes))


def test_one_pass_when_the_three_models_fit_the_budget(tmp_path):
    """doc_scores loads every model at once in each worker only when their files together fit
    `classify.one_pass_max_mb` (or the engine asks for it, as Ray does); a model whose file is missing
    counts as too big, so the stage falls back to a pass per model."""
    from goldpan.classify.stage import ModelRef, ScoreContext, one_pass
    from goldpan.engine import InProcessEngine
    from goldpan.recipe import ClassifySection

    params = FastTextParams(dim=16, epoch=40, lr=0.5, bucket=10_000, seed=3)
    path = tmp_path / "quality.bin"
    train_binary(GOOD_EN + GOOD_ZH, SPAM, params).save_model(str(path))
    size_mb = path.stat().st_size / 2**20
    ctx = ScoreContext(quality=ModelRef("q" * 40, str(path)), math=ModelRef("m" * 40, str(path)), code=None,
                       label_threshold=0.5, max_chars=10_000)
    engine = InProcessEngine()
    assert one_pass(engine, ctx, ClassifySection().one_pass_max_mb)  # the default budget holds small models
    assert one_pass(engine, ctx, 2 * size_mb) and not one_pass(engine, ctx, 1.5 * size_mb)  # both files count
    assert not one_pass(engine, ScoreContext(quality=ModelRef("x" * 40, str(tmp_path / "gone.bin")), math=None,
                                             code=None, label_threshold=0.5, max_chars=10_000), 1e6)

    class AsksForOnePass(InProcessEngine):
        one_pass_scoring = True

    assert one_pass(AsksForOnePass(), ctx, 0)
