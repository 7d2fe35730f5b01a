"""Training and scoring of supervised fastText binary classifiers, deterministic for a fixed seed.

Why the care: fasttext-numpy2 0.10.4 initialises only the first `thread`×10% of the input matrix
and leaves the rest as whatever memory malloc returned (tests/unit/test_fasttext_env.py). With many
threads every block is initialised, but Hogwild updates race, so two runs differ (measured: three
runs with thread=2 or 12 gave three different models). We therefore train on one thread and make
glibc zero-fill every heap block allocated during training (see _ZeroFilledAllocations): the
uninitialised rows are then exactly zero on every run, even in a long-lived process whose heap is
full of stale bytes, and one-thread SGD with a fixed seed is reproducible bit for bit. Word bigrams
(hash buckets) are required as a second line of defence off glibc: the matrix is then large enough to
come from fresh, zeroed mmap pages. The trained matrices are checked for NaN before a model is accepted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from goldpan.classify.text import fasttext_line

POSITIVE, NEGATIVE = "__label__pos", "__label__neg"
_M_MMAP_THRESHOLD, _M_PERTURB = -3, -6  # glibc mallopt parameters


class TrainingError(RuntimeError):
    """A model could not be trained (bad input, or fastText produced NaN)."""


@dataclass(frozen=True)
class FastTextParams:
    """fastText hyper-parameters (the recipe's `classify.fasttext` section maps onto this)."""

    dim: int = 64
    epoch: int = 5
    lr: float = 0.1
    word_ngrams: int = 2
    min_count: int = 1
    bucket: int = 50_000
    max_chars: int = 10_000
    seed: int = 42

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class _ZeroFilledAllocations:
    """While active, glibc hands out every new heap block filled with zero bytes.

    mallopt(M_PERTURB, 0xff) makes malloc fill each block with `0xff ^ 0xff = 0` (and free fill with
    0xff); large blocks served from fresh mmap pages are zero anyway. Only pinning the mmap threshold
    is not enough: a long-running process (a test session, a Dagster worker) has big free chunks on
    its heap that malloc recycles with stale bytes, which made training give NaN or differ between
    runs. Restored on exit, so the rest of the process pays no memset. Returns False from __enter__
    where mallopt is unavailable (non-glibc); the NaN check then still refuses a broken model.

    The setting is process-wide and trainings run on several threads at once (math and code mining,
    `quality_model` beside `domain_models` under the threaded executor): it is counted, switched on by
    the first training to enter and off by the last to leave, never under a training still running.
    """

    _lock = threading.Lock()
    _active = 0
    _libc = None
    _ok = False

    def __enter__(self) -> bool:
        cls = type(self)
        with cls._lock:
            if cls._active == 0:
                cls._ok = cls._switch_on()
            cls._active += 1
            return cls._ok

    def __exit__(self, *exc) -> None:
        cls = type(self)
        with cls._lock:
            cls._active -= 1
            if cls._active == 0 and cls._libc is not None:
                cls._libc.mallopt(_M_PERTURB, 0)

    @classmethod
    def _switch_on(cls) -> bool:
        try:
            cls._libc = cls._libc or ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            ok = bool(cls._libc.mallopt(_M_PERTURB, 0xFF))
            cls._libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
            return ok
        except (OSError, AttributeError):
            cls._libc = None
            return False


def train_binary(
    positives: Sequence[str], negatives: Sequence[str], params: FastTextParams, workdir: str | None = None
):
    """Train P(positive) on raw texts; returns the fastText model. Deterministic for fixed inputs+seed."""
    return train_binary_lines([fasttext_line(t, params.max_chars) for t in positives],
                              [fasttext_line(t, params.max_chars) for t in negatives], params, workdir)


def train_binary_lines(
    positives: Sequence[str], negatives: Sequence[str], params: FastTextParams, workdir: str | None = None
):
    """`train_binary` on texts already turned into fastText lines (`text.fasttext_line`): a caller that
    trains several models on the same documents (domain mining rounds) preprocesses them once."""
    import fasttext

    if not positives or not negatives:
        raise TrainingError(f"need both classes: {len(positives)} positives, {len(negatives)} negatives")
    if params.word_ngrams < 2 or params.bucket <= 0:
        raise TrainingError("word_ngrams >= 2 and bucket > 0 are required (single-thread init defect)")
    rows = [(POSITIVE, t) for t in positives] + [(NEGATIVE, t) for t in negatives]
    # Interleave deterministically so SGD does not see one class then the other.
    order = np.random.default_rng(params.seed).permutation(len(rows))
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = os.path.join(tmp, "train.txt")
        n = 0
        with open(path, "w", encoding="utf-8") as fh:
            for i in order:
                label, line = rows[i]
                if line:
                    fh.write(f"{label} {line}\n")
                    n += 1
        if n == 0:
            raise TrainingError("every training text was empty after preprocessing")
        with _ZeroFilledAllocations():
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
    return line_probability(model, [fasttext_line(t, max_chars) for t in texts])


def line_probability(model, lines: Sequence[str]) -> np.ndarray:
    """P(positive) for preprocessed lines (see text.fasttext_line); lets one tokenisation serve many models."""
    out = np.zeros(len(lines), dtype=np.float64)
    idx = [i for i, line in enumerate(lines) if line]
    if not idx:
        return out
    sel = [lines[i] for i in idx] if len(idx) < len(lines) else list(lines)
    labels, probs = _predict_top1(model, sel)
    p = np.fromiter((float(pr[0]) for pr in probs), dtype=np.float64, count=len(idx))
    is_pos = np.fromiter((lab[0] == POSITIVE for lab in labels), dtype=bool, count=len(idx))
    # Binary softmax: P(pos) = 1 - P(neg). fastText adds 1e-5 before its log, so clip to 0..1.
    out[idx] = np.clip(np.where(is_pos, p, 1.0 - p), 0.0, 1.0)
    return out


def _predict_top1(model, lines: list[str]):
    """model.predict(lines, k=1) without its per-line Python check: our lines never contain a newline
    (fasttext_line folds whitespace), so we append the end-of-line token fastText trained with and call
    the C++ batch predictor directly; ~25% faster on 800-character documents (bench/classify_score.py)."""
    f = getattr(model, "f", None)
    if f is not None and hasattr(f, "multilinePredict"):
        return f.multilinePredict([line + "\n" for line in lines], 1, 0.0, "strict")
    return model.predict(lines, k=1)


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
