"""The boosted-trees line classifier (goldpan.extract.line_trees): trained from real pages, scored without
LightGBM exactly as LightGBM scores, deterministic for a seed, and refused when its arrays are broken."""

from __future__ import annotations

import json

import numpy as np
import pytest

from goldpan.extract import line_trees
from goldpan.extract.encoding import decode_page
from goldpan.extract.line_model import load_line_model, model_from_json
from goldpan.extract.line_training import page_example, stack_examples, train_from_pages
from goldpan.extract.line_trees import TreeLineModel, forest_from_lightgbm
from goldpan.extract.lines import LINE_FEATURES
from sample.server import default_site_root

SITE = default_site_root()


@pytest.fixture(scope="module")
def pages():
    """The sample site's articles (eight languages) with the text of their paragraphs as gold: the
    headlines, bylines and captions around them are the lines to drop."""
    import lxml.html

    out = []
    for path in sorted(SITE.rglob("articles/*.html")):
        html = decode_page(path.read_bytes(), None).text  # some are Big5, GBK, Shift_JIS
        art = lxml.html.fromstring(html).xpath("//article")
        if art:
            out.append(page_example("site", html, "\n".join(p.text_content() for p in art[0].xpath(".//p"))))
    labels = [v for p in out for v in p.labels if v is not None]
    assert len(out) >= 6 and 0 < sum(v == 0.0 for v in labels) < len(labels)
    return out


def test_forest_scores_as_lightgbm_does(pages) -> None:
    import lightgbm as lgb

    x, y, w = stack_examples(pages)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "min_data_in_leaf": 3, "verbose": -1, "seed": 1,
                         "num_threads": 1}, lgb.Dataset(x.astype(np.float32), y, weight=w * len(w)),
                        num_boost_round=40)
    model = TreeLineModel(list(LINE_FEATURES), *forest_from_lightgbm(booster.dump_model(), list(LINE_FEATURES)))
    xs = np.vstack([p.x for p in pages])
    want = booster.predict(xs.astype(np.float64))
    np.testing.assert_allclose(model.predict(xs), want, rtol=1e-12, atol=1e-12)  # compiled
    np.testing.assert_allclose(model.predict_py(xs), want, rtol=1e-12, atol=1e-12)  # numpy reference
    assert model.predict(xs[:0]).shape == (0,)


def test_training_is_deterministic_and_round_trips(pages) -> None:
    a = train_from_pages(pages, seed=7, kind="gbdt", rounds=30, leaves=7, min_leaf=3)
    b = train_from_pages(pages, seed=7, kind="gbdt", rounds=30, leaves=7, min_leaf=3)
    c = train_from_pages(pages, seed=8, kind="gbdt", rounds=30, leaves=7, min_leaf=3)
    assert isinstance(a, TreeLineModel) and a.sha1 == b.sha1 and a.sha1 != c.sha1
    back = model_from_json(a.to_json())
    assert isinstance(back, TreeLineModel) and back.sha1 == a.sha1
    xs = np.vstack([p.x for p in pages])
    np.testing.assert_array_equal(back.predict(xs), a.predict(xs))
    # the labels it was fitted on are mostly reproduced: content lines score high, boilerplate low
    probs = a.predict(xs)
    labels = np.array([np.nan if v is None else v for p in pages for v in p.labels])
    sure = ~np.isnan(labels)
    assert ((probs[sure] >= 0.5) == (labels[sure] == 1.0)).mean() > 0.9
    with pytest.raises(ValueError, match="kind"):
        train_from_pages(pages, seed=7, kind="forest")


def test_broken_forests_are_refused(pages) -> None:
    model = train_from_pages(pages, seed=7, kind="gbdt", rounds=30, leaves=7, min_leaf=3)
    assert model.left.size > 2
    doc = json.loads(model.to_json())
    bad = dict(doc, left=[len(doc["feature"]) + 5] + doc["left"][1:])
    with pytest.raises(ValueError, match="outside"):
        model_from_json(json.dumps(bad))
    bad = dict(doc, feature=[len(LINE_FEATURES)] + doc["feature"][1:])
    with pytest.raises(ValueError, match="feature"):
        model_from_json(json.dumps(bad))
    # the compiled walk checks its arrays itself too (a cycle would never end)
    x = np.zeros((2, len(LINE_FEATURES)), dtype=np.float32)
    loop = model.left.copy()
    loop[0] = 0
    with pytest.raises(ValueError, match="outside the forest"):
        line_trees._FAST.forest_predict(x, model.feature, model.threshold_, loop, model.right, model.leaf,
                                        model.roots, np.empty(2))


def test_shipped_model_is_the_forest() -> None:
    model = load_line_model("shipped:line_model.json")
    assert isinstance(model, TreeLineModel)
    assert model.features == list(LINE_FEATURES)
    assert model.meta["kind"] == "gbdt" and model.meta["held_out_report_split"]["aeb"]["pages"] > 50
