"""A small learned line classifier (content vs boilerplate): one hidden layer, trained with numpy.

Why a tiny MLP in numpy: the features interact (a short line is content after a heading and
boilerplate in a run of links) so a linear model is too weak, while a 64 x 32 x 1 network scores a
whole page in microseconds and needs no new dependency. Scoring runs in C where goldpan's compiled
module is built (goldpan/extract/_fastlines.c: numpy's small products went through OpenBLAS's
threads), `predict_py` otherwise. Training is full-batch Adam from weights drawn with a fixed seed, so
the same examples and seed give the same bytes.

The model is a JSON document: feature names, standardisation, weights, decision threshold and the
metadata of how it was trained (data, seed, held-out metrics). Its sha1 is the extractor version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

try:  # the compiled forward pass (goldpan/extract/_fastlines.c); numpy without it
    from goldpan.extract import _fastlines as _FAST
except ImportError:
    _FAST = None

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "extract"
SHIPPED_PREFIX = "shipped:"
# Rows per matrix product in `LineModel.predict` (small enough that OpenBLAS stays on one thread).
_ROWS_PER_PRODUCT = 64


@dataclass
class LineModel:
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._fold()

    def _fold(self) -> None:
        """Standardisation folded into the first layer: one matrix product per page, not three ops."""
        self._w1 = self.w1 / self.scale[:, None]
        self._b1 = np.ascontiguousarray(self.b1 - (self.mean / self.scale) @ self.w1, dtype=np.float64)
        self._w1c = np.ascontiguousarray(self._w1, dtype=np.float64)
        self._w2c = np.ascontiguousarray(self.w2, dtype=np.float64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(content) for each row of `x` (columns in `self.features` order): in C where the compiled
        module is built (the same sums up to the order of float64 additions), else `predict_py`."""
        n = x.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        if _FAST is not None and x.dtype == np.float32 and x.flags.c_contiguous:
            probs = np.empty(n, dtype=np.float64)
            _FAST.mlp_predict(x, self._w1c, self._b1, self._w2c, float(self.b2), probs)
            return probs
        return self.predict_py(x)

    def predict_py(self, x: np.ndarray) -> np.ndarray:
        """`predict` with numpy: the reference, and the path for other dtypes or without the module."""
        n = x.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        if n <= _ROWS_PER_PRODUCT:
            h = x @ self._w1
        else:
            # In blocks of rows: OpenBLAS hands a product of a few hundred rows to its threads, and
            # on a loaded machine the hand-off cost ~0.4 ms per documentation page (measured: 493 us
            # against 90 us for 245 lines with one thread); every row's sums are the same either way.
            h = np.empty((n, self._w1.shape[1]), dtype=np.float64)
            for lo in range(0, n, _ROWS_PER_PRODUCT):
                np.matmul(x[lo: lo + _ROWS_PER_PRODUCT], self._w1, out=h[lo: lo + _ROWS_PER_PRODUCT])
        h += self._b1
        np.maximum(h, 0.0, out=h)
        z = np.clip(h @ self.w2 + self.b2, -30, 30)
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> str:
        doc = {
            "format": "goldpan-line-mlp/1",
            "features": self.features,
            "mean": _r(self.mean), "scale": _r(self.scale),
            "w1": _r(self.w1), "b1": _r(self.b1), "w2": _r(self.w2), "b2": round(float(self.b2), 7),
            "threshold": self.threshold,
            "meta": self.meta,
        }
        return json.dumps(doc, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> LineModel:
        d = json.loads(text)
        if d.get("format") != "goldpan-line-mlp/1":
            raise ValueError(f"not a goldpan line model: format={d.get('format')!r}")
        a = {k: np.asarray(d[k], dtype=np.float64) for k in ("mean", "scale", "w1", "b1", "w2")}
        return cls(d["features"], a["mean"], a["scale"], a["w1"], a["b1"], a["w2"], float(d["b2"]),
                   float(d["threshold"]), d.get("meta", {}))

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.to_json().encode()).hexdigest()


def _r(a: np.ndarray) -> list:
    return np.round(np.asarray(a, dtype=np.float64), 7).tolist()


def resolve_model_path(ref: str) -> Path:
    """`shipped:<file>` (goldpan/data/extract) or a filesystem path."""
    if ref.startswith(SHIPPED_PREFIX):
        return SHIPPED_DIR / ref[len(SHIPPED_PREFIX):]
    return Path(ref)


@lru_cache(maxsize=8)
def load_line_model(ref: str) -> LineModel:
    """The model at `ref`, loaded once per process (pooled workers each load it on first use)."""
    return LineModel.from_json(resolve_model_path(ref).read_text(encoding="utf-8"))


def train_line_model(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    features: list[str],
    seed: int,
    hidden: int = 32,
    epochs: int = 400,
    lr: float = 0.01,
    l2: float = 1e-4,
) -> LineModel:
    """Weighted logistic loss, one ReLU layer, full-batch Adam; deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float32)
    w = np.asarray(weight, dtype=np.float64)
    w = w / w.sum()
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    # float32 for the epochs (half the time of float64 on ~100k lines); the stored model is float64.
    xs = ((x - mean) / scale).astype(np.float32)
    w = w.astype(np.float32)
    d = x.shape[1]
    params = {
        "w1": rng.normal(0.0, np.sqrt(2.0 / d), size=(d, hidden)).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "w2": rng.normal(0.0, np.sqrt(1.0 / hidden), size=hidden).astype(np.float32),
        "b2": np.zeros(1, dtype=np.float32),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    b1_, b2_, eps = 0.9, 0.999, 1e-8
    for t in range(1, epochs + 1):
        pre = xs @ params["w1"] + params["b1"]
        h = np.maximum(pre, 0.0)
        z = h @ params["w2"] + params["b2"][0]
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        gz = (p - y) * w
        grads = {
            "w2": h.T @ gz + l2 * params["w2"],
            "b2": np.array([gz.sum()], dtype=np.float32),
        }
        gh = np.outer(gz, params["w2"]) * (pre > 0)
        grads["w1"] = xs.T @ gh + l2 * params["w1"]
        grads["b1"] = gh.sum(axis=0)
        for k in list(params):
            m[k] = b1_ * m[k] + (1 - b1_) * grads[k]
            v[k] = b2_ * v[k] + (1 - b2_) * grads[k] ** 2
            mh = m[k] / (1 - b1_**t)
            vh = v[k] / (1 - b2_**t)
            params[k] = (params[k] - lr * mh / (np.sqrt(vh) + eps)).astype(np.float32)
    p64 = {k: val.astype(np.float64) for k, val in params.items()}
    return LineModel(list(features), mean, scale, p64["w1"], p64["b1"], p64["w2"], float(p64["b2"][0]),
                     0.5, {"seed": seed, "hidden": hidden, "epochs": epochs, "lr": lr, "l2": l2})


def merge_members(members: list[LineModel]) -> LineModel:
    """One network whose logit is the mean of the members' logits: their hidden layers side by side.

    Why: an average of networks trained from different seeds is steadier than any one of them (the
    seed-to-seed spread of page-level F1 is ~0.005 on the news sets), and folded into a single wider
    layer it still scores a page in one matrix product, so it costs no more numpy calls than one member.
    The members must share the standardisation (they do when trained on the same examples).
    """
    if len(members) == 1:
        return members[0]
    first = members[0]
    for m in members[1:]:
        if m.features != first.features or not (np.array_equal(m.mean, first.mean)
                                                and np.array_equal(m.scale, first.scale)):
            raise ValueError("ensemble members must share features and standardisation")
    k = len(members)
    return LineModel(
        list(first.features), first.mean, first.scale,
        np.hstack([m.w1 for m in members]), np.concatenate([m.b1 for m in members]),
        np.concatenate([m.w2 for m in members]) / k, float(sum(m.b2 for m in members) / k),
        first.threshold,
        {**first.meta, "seed": first.meta.get("seed"), "seeds": [m.meta.get("seed") for m in members],
         "ensemble": k, "hidden_per_member": first.meta.get("hidden"), "hidden": sum(m.w1.shape[1] for m in members)},
    )


__all__ = ["LineModel", "load_line_model", "merge_members", "resolve_model_path", "train_line_model"]
