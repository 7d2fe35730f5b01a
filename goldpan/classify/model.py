"""Training and scoring of supervised fastText binary classifiers, deterministic for a fixed seed.

Why the care: fasttext-numpy2 0.10.4 initialises only the first `thread`×10% of the input matrix
and leaves the rest as whatever memory malloc returned (tests/unit/test_fasttext_env.py). With many
threads every block is initialised, but Hogwild updates race, so two runs differ. We therefore train
on one thread with word bigrams (hash buckets make the matrix large) and force glibc to serve every
large allocation from fresh mmap pages, which the kernel zero-fills: the untouched rows are then
exactly zero on every run, and one-thread SGD with a fixed seed is reproducible bit for bit. The
trained matrices are checked for NaN before a model is accepted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from goldpan.classify.text import fasttext_line

POSITIVE, NEGATIVE = "__label__pos", "__label__neg"
_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


class TrainingError(RuntimeError):
    """A model could not be trained (bad input, or fastText produced NaN)."""


@dataclass(frozen=True)
class FastTextParams:
    """fastText hyper-parameters (the recipe's `classify.fasttext` section maps onto this)."""

    dim: int = 100
    epoch: int = 5
    lr: float = 0.1
    word_ngrams: int = 2
    min_count: int = 1
    bucket: int = 200_000
    max_chars: int = 10_000
    seed: int = 42

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _fresh_pages_for_large_allocations() -> bool:
    """Pin glibc's mmap threshold at 128 KiB so large blocks are always fresh, zeroed pages.

    glibc raises the threshold dynamically (up to 32 MiB) after a large block is freed; a second
    training in the same process could then get a recycled heap block with old floats in it.
    Returns False where mallopt is unavailable (non-glibc): callers then rely on the NaN check.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024))
    except (OSError, AttributeError):
        return False


def train_binary(
    positives: Sequence[str], negatives: Sequence[str], params: FastTextParams, workdir: str | None = None
):
    """Train P(positive) on raw texts; returns the fastText model. Deterministic for fixed inputs+seed."""
    import fasttext

    if not positives or not negatives:
        raise TrainingError(f"need both classes: {len(positives)} positives, {len(negatives)} negatives")
    if params.word_ngrams < 2 or params.bucket <= 0:
        raise TrainingError("word_ngrams >= 2 and bucket > 0 are required (single-thread init defect)")
    rows = [(POSITIVE, t) for t in positives] + [(NEGATIVE, t) for t in negatives]
    # Interleave deterministically so SGD does not see one class then the other.
    order = np.random.default_rng(params.seed).permutation(len(rows))
    _fresh_pages_for_large_allocations()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = os.path.join(tmp, "train.txt")
        n = 0
        with open(path, "w", encoding="utf-8") as fh:
            for i in order:
                label, text = rows[i]
                line = fasttext_line(text, params.max_chars)
                if line:
                    fh.write(f"{label} {line}\n")
                    n += 1
        if n == 0:
            raise TrainingError("every training text was empty after preprocessing")
        model = fasttext.train_supervised(
            input=path,
            dim=params.dim,
            epoch=params.epoch,
            lr=params.lr,
            wordNgrams=params.word_ngrams,
            minCount=params.min_count,
            bucket=params.bucket,
            thread=1,
            seed=params.seed,
            loss="softmax",
            verbose=0,
        )
    if np.isnan(model.get_output_matrix()).any() or np.isnan(model.get_input_matrix()).any():
        raise TrainingError("fastText produced NaN weights (uninitialised input matrix)")
    return model


def load(path: str):
    import fasttext

    return fasttext.load_model(path)


def positive_probability(model, texts: Iterable[str | None], max_chars: int = 10_000) -> np.ndarray:
    """P(positive) for each text, in 0..1 (an empty text scores 0.0: nothing to vouch for it)."""
    lines = [fasttext_line(t, max_chars) for t in texts]
    out = np.zeros(len(lines), dtype=np.float64)
    idx = [i for i, line in enumerate(lines) if line]
    if not idx:
        return out
    labels, probs = model.predict([lines[i] for i in idx], k=2)
    for j, i in enumerate(idx):
        p = 0.0
        for lab, pr in zip(labels[j], probs[j], strict=False):
            if lab == POSITIVE:
                p = float(pr)
                break
        out[i] = min(1.0, max(0.0, p))
    return out


def file_sha1(path: str) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Metrics:
    """Held-out binary metrics at `threshold` (positives = the class the model scores)."""

    n_pos: int
    n_neg: int
    threshold: float
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"n_pos": self.n_pos, "n_neg": self.n_neg, "threshold": self.threshold,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def evaluate(model, positives: Sequence[str], negatives: Sequence[str], threshold: float,
             max_chars: int = 10_000) -> Metrics:
    ps = positive_probability(model, positives, max_chars)
    ns = positive_probability(model, negatives, max_chars)
    tp = int((ps >= threshold).sum())
    fp = int((ns >= threshold).sum())
    return Metrics(len(positives), len(negatives), threshold, tp, fp, len(positives) - tp)
