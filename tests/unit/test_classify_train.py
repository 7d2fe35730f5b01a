"""Training in a lake: negatives sampled from documents, refusals for tiny pools, model registry,
and domain mining rounds that take confident pool documents as new positives."""

from __future__ import annotations

import os
from dataclasses import replace

from goldpan.classify.mining import LabelledSets, MiningConfig, mine_domain
from goldpan.classify.model import FastTextParams, file_sha1
from goldpan.classify.quality import QualityTraining, train_quality
from goldpan.classify.reference import ReferenceSource
from goldpan.classify.registry import latest_model, record_models
from goldpan.classify.sampling import sample_documents, split
from tests.fixtures.classify_samples import GOOD_EN, GOOD_ZH, MATH_DOCS, SPAM, write_documents

PARAMS = FastTextParams(dim=16, epoch=40, lr=0.5, bucket=10_000, seed=11)


def _reference(tmp_path):
    p = tmp_path / "ref.txt"
    p.write_text("\n\n".join(GOOD_EN + GOOD_ZH), encoding="utf-8")
    return [ReferenceSource("text", str(p))]


def test_sampling_is_seeded_and_independent_of_write_order(tmp_path):
    texts = SPAM + GOOD_EN
    a = write_documents(tmp_path / "a", texts)
    n = len(texts)
    b = write_documents(tmp_path / "b", list(reversed(texts)), ids=list(reversed(range(n))))  # same rows, reversed
    ids = lambda lake, seed: [d for d, _ in sample_documents(lake, 5, seed)]
    assert ids(a, 1) == ids(a, 1) == ids(b, 1)
    assert ids(a, 1) != ids(a, 2)
    assert len(sample_documents(a, 100, 1)) == len(SPAM + GOOD_EN)
    assert sample_documents(a, 100, 1, exclude=["d0000"])[0][0] != "d0000"
    tr, held = split(list(range(10)), 0.2, 1)
    assert len(held) == 2 and sorted(tr + held) == list(range(10))


def test_quality_training_refuses_a_tiny_pool_and_says_why(tmp_path):
    lake = write_documents(tmp_path / "lake", SPAM[:3])
    cfg = QualityTraining(positives=_reference(tmp_path), params=PARAMS, min_positives=5, min_negatives=5)
    rec = train_quality(lake, cfg)
    assert rec.status == "refused" and rec.sha1 is None
    assert "only 3 crawled documents" in rec.reason and "min_negatives=5" in rec.reason
    record_models(lake, [rec], "demo@t", None)
    assert latest_model(lake, "quality")["status"] == "refused"


def test_quality_training_stores_a_content_addressed_model_with_held_out_metrics(tmp_path):
    lake = write_documents(tmp_path / "lake", SPAM)
    cfg = QualityTraining(positives=_reference(tmp_path), params=PARAMS, min_positives=5, min_negatives=5,
                          heldout_fraction=0.25)
    rec = train_quality(lake, cfg)
    assert rec.status == "trained", rec.reason
    assert rec.path == os.path.join(lake.root, "models", "quality", f"{rec.sha1}.bin")
    assert file_sha1(rec.path) == rec.sha1
    assert rec.metrics.n_pos == 2 and rec.metrics.n_neg == 2  # balanced 8 v 8, a quarter held out
    assert rec.n_train_pos == 6 and rec.n_train_neg == 6
    again = train_quality(lake, cfg)
    assert again.sha1 == rec.sha1  # same lake, same seed: the same bytes
    record_models(lake, [rec], "demo@t", "run1")
    row = latest_model(lake, "quality")
    assert row["sha1"] == rec.sha1 and row["status"] == "trained" and row["recall"] == rec.metrics.recall


def test_scores_take_the_model_their_own_run_trained_not_a_later_concurrent_one(tmp_path):
    """Run A (batch 1) trains; run B (batch 2, started at the same time) trains after it on both batches.
    A's doc_scores must still use A's model, as it would had B started after A (issue 22)."""
    lake = write_documents(tmp_path / "lake", SPAM)
    cfg = QualityTraining(positives=_reference(tmp_path), params=PARAMS, min_positives=5, min_negatives=5,
                          heldout_fraction=0.25)
    mine = train_quality(lake, cfg)
    later = train_quality(lake, replace(cfg, params=replace(PARAMS, seed=12)))
    assert mine.status == later.status == "trained" and mine.sha1 != later.sha1
    record_models(lake, [mine], "demo@t", "run-a")
    record_models(lake, [later], "demo@t", "run-b")
    assert latest_model(lake, "quality")["sha1"] == later.sha1
    assert latest_model(lake, "quality", prefer_run="run-a")["sha1"] == mine.sha1
    assert latest_model(lake, "quality", prefer_run="run-c")["sha1"] == later.sha1  # trained nothing: the latest
    assert latest_model(lake, "math", prefer_run="run-a") is None


def _math_mining_setup(tmp_path):
    """A pool with math pages among spam and prose, and eight math seed sentences."""
    pool = MATH_DOCS + SPAM + GOOD_EN[:3]
    lake = write_documents(tmp_path / "lake", pool)
    seeds = [
        ("The sum of the angles of a triangle is 180 degrees; a right triangle satisfies a squared plus b squared "
        "equals c squared."),
        "Solve the equation 2x + 3 = 11: subtract 3 from both sides, then divide by 2, so x equals 4.",
        "The derivative measures the rate of change of a function; the integral measures the area under its curve.",
        "A matrix is invertible exactly when its determinant is non-zero; the inverse undoes the linear map.",
        "The probability of an event lies between 0 and 1; the expected value is the probability-weighted mean.",
        "A sequence converges when its terms approach a limit; a series converges when its partial sums do.",
        "Every integer greater than one factors uniquely into primes, up to the order of the factors.",
        "The logarithm is the inverse of exponentiation: the logarithm base 10 of 1000 is 3.",
    ]
    return lake, LabelledSets(positives=seeds, others=SPAM[:4], general=GOOD_EN[3:] + GOOD_ZH)


def test_domain_mining_takes_confident_pool_documents_into_the_next_round(tmp_path):
    lake, sets = _math_mining_setup(tmp_path)
    cfg = MiningConfig(params=PARAMS, rounds=3, mine_threshold=0.6, heldout_fraction=0.25, pool_negatives=5)
    seen = []
    recs = mine_domain(lake, "math", sets, cfg, ["test"], on_round=seen.append)
    assert seen == recs and recs[0].round == 1 and all(r.status == "trained" for r in recs)
    assert recs[0].metrics.n_pos == 2 and recs[0].metrics.n_neg == 3  # a quarter of 8 seeds / 11 others
    assert len(recs) >= 2, [r.config for r in recs]
    assert recs[0].config["newly_mined"] > 0 and recs[1].n_mined == recs[0].config["newly_mined"]
    assert recs[1].n_train_pos == recs[0].n_train_pos + recs[1].n_mined
    # stops when a round finds nothing new, or too little next to the positives it trained on; the last
    # allowed round does not score the pool (nothing would train on what it mined)
    last = recs[-1]
    if len(recs) == cfg.rounds:
        assert last.config["newly_mined"] is None and last.config["converged"] is None
    else:
        assert last.config["converged"] and last.config["newly_mined"] < cfg.min_new_share * last.n_train_pos
    assert not any(r.config["converged"] for r in recs[:-1])


def test_domain_mining_stops_when_a_round_adds_too_little_to_retrain_on(tmp_path):
    lake, sets = _math_mining_setup(tmp_path)
    keep_going = MiningConfig(params=PARAMS, rounds=3, mine_threshold=0.6, heldout_fraction=0.25, pool_negatives=5,
                              min_new_share=0.0)
    full = mine_domain(lake, "math", sets, keep_going, ["test"])
    first_new = full[0].config["newly_mined"]
    assert first_new > 0 and len(full) >= 2 and not full[0].config["converged"]
    # the same first round, judged against a share the mined documents do not reach: one round only
    share = (first_new + 1) / full[0].n_train_pos
    stop = MiningConfig(params=PARAMS, rounds=3, mine_threshold=0.6, heldout_fraction=0.25, pool_negatives=5,
                        min_new_share=share)
    recs = mine_domain(lake, "math", sets, stop, ["test"])
    assert len(recs) == 1 and recs[0].config["converged"] and recs[0].config["newly_mined"] == first_new
    assert recs[0].sha1 == full[0].sha1  # the same round-1 model, now the domain's model
    assert recs[0].config["min_new_share"] == share
    # with one round allowed, that round is the last: the pool is not scored, nothing is said mined
    one = MiningConfig(params=PARAMS, rounds=1, mine_threshold=0.6, heldout_fraction=0.25, pool_negatives=5)
    only = mine_domain(lake, "math", sets, one, ["test"])
    assert len(only) == 1 and only[0].sha1 == full[0].sha1
    assert only[0].config["newly_mined"] is None and only[0].config["converged"] is None
