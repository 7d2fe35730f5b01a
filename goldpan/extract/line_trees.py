"""Gradient-boosted trees as the line classifier (content vs boilerplate), the alternative to the MLP.

Why trees: the line features are tabular, mixed in scale and full of thresholds (a line of under 8
words, a markup gap of over 600 bytes, a class word present or not); boosted trees fit such rules
directly where the one-layer MLP has to approximate them. Cross-validated inside the training halves
(bench/extract_cv.py --kind gbdt, four folds by page), trees scored +0.008 F1 on the AEB news pages,
+0.005 on trafilatura's set and +0.009 on documentation over the MLP, beyond the MLP's seed spread.

Training uses LightGBM (a PyPI wheel, only where the model is trained: `pip install -e '.[dev]'`);
the trained forest is stored as plain arrays in the model's JSON, and scoring never needs LightGBM:
it walks the arrays in C (goldpan/extract/_fastlines.c, ~50 us for a 30-line page) or, without the
compiled module, in numpy (`predict_py`, the reference).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:  # the compiled forest walk (goldpan/extract/_fastlines.c); numpy without it
    from goldpan.extract import _fastlines as _FAST
except ImportError:
    _FAST = None

FORMAT = "goldpan-line-gbdt/1"


@dataclass
class TreeLineModel:
    """A forest in flat arrays. Node i splits on `feature[i]` at `threshold[i]` (x <= threshold goes
    to `left[i]`, else `right[i]`); a child index < 0 is the leaf ~index. Tree t starts at `roots[t]`
    (< 0: a tree that is a single leaf). P(content) = sigmoid(sum of the trees' leaf values)."""

    features: list[str]
    feature: np.ndarray
    threshold_: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    roots: np.ndarray
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.feature = np.ascontiguousarray(self.feature, dtype=np.int32)
        self.threshold_ = np.ascontiguousarray(self.threshold_, dtype=np.float64)
        self.left = np.ascontiguousarray(self.left, dtype=np.int32)
        self.right = np.ascontiguousarray(self.right, dtype=np.int32)
        self.leaf = np.ascontiguousarray(self.leaf, dtype=np.float64)
        self.roots = np.ascontiguousarray(self.roots, dtype=np.int32)
        n_nodes, n_leaves = len(self.feature), len(self.leaf)
        for arr in (self.left, self.right, self.roots):
            if arr.size and (arr.max() >= n_nodes or (~arr[arr < 0]).max(initial=-1) >= n_leaves):
                raise ValueError("tree model: a child or root index points outside the arrays")
        if self.feature.size and (self.feature.min() < 0 or self.feature.max() >= len(self.features)):
            raise ValueError("tree model: a split names a feature outside the feature list")

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of the trees' leaf values for each row of `x` (numpy: one step of every tree at a time)."""
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        total = np.zeros(n, dtype=np.float64)
        rows = np.arange(n)
        for root in self.roots.tolist():
            if root < 0:
                total += self.leaf[~root]
                continue
            node = np.full(n, root, dtype=np.int64)
            live = np.ones(n, dtype=bool)
            while live.any():
                at = node[live]
                go_left = x[rows[live], self.feature[at]] <= self.threshold_[at]
                node[live] = np.where(go_left, self.left[at], self.right[at])
                live = node >= 0
            total += self.leaf[~node]
        return total

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(content) for each row of `x` (columns in `self.features` order)."""
        n = x.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        if _FAST is not None and x.dtype == np.float32 and x.flags.c_contiguous:
            probs = np.empty(n, dtype=np.float64)
            _FAST.forest_predict(x, self.feature, self.threshold_, self.left, self.right, self.leaf, self.roots,
                                 probs)
            return probs
        return self.predict_py(x)

    def predict_py(self, x: np.ndarray) -> np.ndarray:
        """`predict` in numpy: the reference, and the path without the compiled module."""
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-self.raw(x)))

    def to_json(self) -> str:
        doc = {
            "format": FORMAT,
            "features": self.features,
            "feature": self.feature.tolist(), "threshold_": self.threshold_.tolist(),
            "left": self.left.tolist(), "right": self.right.tolist(),
            "leaf": self.leaf.tolist(), "roots": self.roots.tolist(),
            "threshold": self.threshold,
            "meta": self.meta,
        }
        return json.dumps(doc, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> TreeLineModel:
        d = json.loads(text)
        if d.get("format") != FORMAT:
            raise ValueError(f"not a goldpan tree line model: format={d.get('format')!r}")
        return cls(d["features"], np.asarray(d["feature"]), np.asarray(d["threshold_"], dtype=np.float64),
                   np.asarray(d["left"]), np.asarray(d["right"]), np.asarray(d["leaf"], dtype=np.float64),
                   np.asarray(d["roots"]), float(d["threshold"]), d.get("meta", {}))

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.to_json().encode()).hexdigest()


def forest_from_lightgbm(dump: dict, features: list[str]) -> tuple[np.ndarray, ...]:
    """(feature, threshold, left, right, leaf, roots) arrays from LightGBM's `Booster.dump_model()`.

    Only numeric `<=` splits are expected (the features are never missing or categorical); anything
    else is refused rather than scored differently from LightGBM."""
    feature: list[int] = []
    thresh: list[float] = []
    left: list[int] = []
    right: list[int] = []
    leaf: list[float] = []
    roots: list[int] = []
    names = dump.get("feature_names") or features
    if list(names) != list(features) and not all(n.startswith("Column_") for n in names):
        raise ValueError("the forest was trained on other features")

    def walk(node: dict) -> int:
        if "leaf_value" in node:
            leaf.append(float(node["leaf_value"]))
            return ~(len(leaf) - 1)
        if node.get("decision_type") != "<=":
            raise ValueError(f"unsupported split {node.get('decision_type')!r}")
        i = len(feature)
        feature.append(int(node["split_feature"]))
        thresh.append(float(node["threshold"]))
        left.append(0)
        right.append(0)
        left[i] = walk(node["left_child"])
        right[i] = walk(node["right_child"])
        return i

    for tree in dump["tree_info"]:
        roots.append(walk(tree["tree_structure"]))
    return (np.asarray(feature, dtype=np.int32), np.asarray(thresh, dtype=np.float64),
            np.asarray(left, dtype=np.int32), np.asarray(right, dtype=np.int32),
            np.asarray(leaf, dtype=np.float64), np.asarray(roots, dtype=np.int32))


def train_tree_model(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    features: list[str],
    seed: int,
    rounds: int = 300,
    learning_rate: float = 0.1,
    leaves: int = 15,
    min_leaf: int = 50,
) -> TreeLineModel:
    """Boosted trees on weighted logistic loss, one thread and a fixed seed (the same bytes each run)."""
    try:
        import lightgbm as lgb
    except ImportError as exc:  # training only: scoring never needs it
        raise RuntimeError("training the tree line model needs LightGBM: pip install -e '.[dev]'") from exc
    params = {
        "objective": "binary", "learning_rate": learning_rate, "num_leaves": leaves, "min_data_in_leaf": min_leaf,
        "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
        "seed": seed, "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbose": -1,
    }
    w = np.asarray(weight, dtype=np.float64)
    data = lgb.Dataset(np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float64), weight=w * (len(w) / w.sum()),
                       free_raw_data=True)
    booster = lgb.train(params, data, num_boost_round=rounds)
    arrays = forest_from_lightgbm(booster.dump_model(), list(features))
    return TreeLineModel(list(features), *arrays, threshold=0.5,
                         meta={"kind": "gbdt", "seed": seed, "rounds": rounds, "learning_rate": learning_rate,
                               "leaves": leaves, "min_leaf": min_leaf, "lightgbm": lgb.__version__})


__all__ = ["FORMAT", "TreeLineModel", "forest_from_lightgbm", "train_tree_model"]
