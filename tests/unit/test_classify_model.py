"""fastText quality/domain classifiers: preprocessing, deterministic training, save/reload, scoring."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from goldpan.classify.model import (
    FastTextParams,
    Metrics,
    TrainingError,
    evaluate,
    file_sha1,
    load,
    positive_probability,
    train_binary,
)
from goldpan.classify.text import fasttext_line
from tests.fixtures.classify_samples import GOOD_EN, GOOD_ZH, SMALL, SPAM


def test_fasttext_line_pads_punctuation_and_splits_chinese_into_characters():
    assert fasttext_line("Hello, World!\nNew line.") == "hello , world ! new line ."
    assert fasttext_line("我们去公园。") == "我 们 去 公 园 。"
    assert fasttext_line("Python 3.11 很好") == "python 3 . 11 很 好"
    assert fasttext_line("") == "" and fasttext_line(None) == ""
    assert fasttext_line("a" * 50 + " tail", max_chars=10) == "a" * 10  # cut before tokenising


def test_training_is_deterministic_and_survives_save_and_reload(tmp_path):
    pos, neg = GOOD_EN + GOOD_ZH, SPAM
    m1 = train_binary(pos, neg, SMALL)
    m2 = train_binary(pos, neg, SMALL)
    p1, p2 = tmp_path / "a.bin", tmp_path / "b.bin"
    m1.save_model(str(p1))
    m2.save_model(str(p2))
    assert file_sha1(str(p1)) == file_sha1(str(p2))  # bit-identical models from the same seed

    probe = [GOOD_EN[0][:120], "首页 | 登录 | 注册 | 购物车", "cheap watches click here", GOOD_ZH[1]]
    before = positive_probability(m1, probe)
    after = positive_probability(load(str(p1)), probe)
    assert np.array_equal(before, after)
    assert ((before >= 0) & (before <= 1)).all()
    assert before[0] > 0.5 > before[2] and before[3] > before[1]


def test_training_is_deterministic_on_a_heap_full_of_stale_bytes(tmp_path):
    """A long-lived process recycles freed heap blocks; fastText's uninitialised rows must not see them
    (before the zero-fill this gave 'Encountered NaN.' or a different model per run)."""
    digests = set()
    for i in range(3):
        junk = [os.urandom(1000 + j % 50) for j in range(20_000)]  # ~20 MB of random bytes, then freed
        del junk
        path = tmp_path / f"m{i}.bin"
        train_binary(GOOD_EN + GOOD_ZH, SPAM, SMALL).save_model(str(path))
        digests.add(file_sha1(str(path)))
    assert len(digests) == 1


def test_trainings_on_concurrent_threads_give_the_models_trained_alone(tmp_path):
    """quality_model and domain_models train at the same time on threads of one process (the threaded
    executor; math and code mining): the zero-fill is process-wide and must stay on until the last
    training ends, or a training still running gets stale heap bytes."""
    from concurrent.futures import ThreadPoolExecutor

    other = FastTextParams(**{**SMALL.as_dict(), "epoch": SMALL.epoch + 3})  # a longer training beside it
    alone = []
    for params in (SMALL, other):
        path = tmp_path / f"alone-{params.epoch}.bin"
        train_binary(GOOD_EN + GOOD_ZH, SPAM, params).save_model(str(path))
        alone.append(file_sha1(str(path)))

    def train(i: int, params: FastTextParams) -> str:
        junk = [os.urandom(1000 + j % 50) for j in range(5_000)]  # stale bytes on the heap meanwhile
        del junk
        path = tmp_path / f"together-{i}.bin"
        train_binary(GOOD_EN + GOOD_ZH, SPAM, params).save_model(str(path))
        return file_sha1(str(path))

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(train, range(4), [SMALL, other, SMALL, other]))
    assert together == alone * 2


def test_a_different_seed_gives_a_different_model(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    train_binary(GOOD_EN, SPAM, SMALL).save_model(str(a))
    train_binary(GOOD_EN, SPAM, FastTextParams(**{**SMALL.as_dict(), "seed": 8})).save_model(str(b))
    assert file_sha1(str(a)) != file_sha1(str(b))


def test_training_refuses_unigram_models_and_a_missing_class():
    with pytest.raises(TrainingError, match="word_ngrams"):
        train_binary(GOOD_EN, SPAM, FastTextParams(word_ngrams=1))
    with pytest.raises(TrainingError, match="both classes"):
        train_binary(GOOD_EN, [], SMALL)
    with pytest.raises(TrainingError, match="empty"):
        train_binary(["   "], ["\n"], SMALL)


def test_empty_text_scores_zero_and_scores_stay_in_range():
    model = train_binary(GOOD_EN, SPAM, SMALL)
    scores = positive_probability(model, ["", None, "x", GOOD_EN[2]])
    assert scores[0] == 0.0 and scores[1] == 0.0
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_metrics_and_evaluate():
    m = Metrics(n_pos=4, n_neg=6, threshold=0.5, tp=3, fp=1, fn=1)
    assert m.precision == 0.75 and m.recall == 0.75 and math.isclose(m.f1, 0.75)
    assert Metrics(0, 3, 0.5, 0, 0, 0).precision == 0.0
    model = train_binary(GOOD_EN[:4] + GOOD_ZH[:3], SPAM[:6], SMALL)
    ev = evaluate(model, GOOD_EN[4:] + GOOD_ZH[3:], SPAM[6:], 0.5)
    assert ev.n_pos == 3 and ev.n_neg == 2
    assert ev.tp + ev.fn == 3 and 0 <= ev.fp <= 2
