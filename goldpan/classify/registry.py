"""Model files versioned in the lake (a folder or an object store): `<lake>/models/<name>/<sha1>.bin` plus one `models` row per attempt.

Why content addressing: the sha1 stored on every `doc_scores` row names exactly the bytes that
produced the score, so a score can be re-derived (or audited) long after newer models were trained;
retraining the same data with the same seed gives the same sha1 and overwrites nothing.
A refused training is a row too (status 'refused', with the reason), so "why are scores null?" is
answered from the lake.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from goldpan.classify.model import Metrics, file_sha1
from goldpan.lake.objectstore import filesystem_for, is_uri
from goldpan.lake.schemas import MODELS


@dataclass
class ModelRecord:
    """One training attempt; `sha1`/`path` are None when it was refused."""

    name: str
    kind: str
    status: str
    reason: str | None = None
    round: int = 1
    sha1: str | None = None
    path: str | None = None
    n_train_pos: int = 0
    n_train_neg: int = 0
    n_mined: int = 0
    metrics: Metrics | None = None
    train_seconds: float = 0.0
    config: dict = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    trained_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def row(self, recipe_id: str, run_id: str | None) -> dict:
        m = self.metrics
        return {
            "name": self.name, "kind": self.kind, "round": self.round, "status": self.status,
            "reason": self.reason, "sha1": self.sha1, "path": self.path, "trained_at": self.trained_at,
            "n_train_pos": self.n_train_pos, "n_train_neg": self.n_train_neg,
            "n_heldout_pos": m.n_pos if m else 0, "n_heldout_neg": m.n_neg if m else 0,
            "n_mined": self.n_mined,
            "precision": m.precision if m else None, "recall": m.recall if m else None,
            "f1": m.f1 if m else None, "eval_threshold": m.threshold if m else None,
            "train_seconds": round(self.train_seconds, 3),
            "config_json": json.dumps(self.config, sort_keys=True), "sources_json": json.dumps(self.sources),
            "recipe_id": recipe_id, "run_id": run_id,
        }


def models_dir(lake) -> str:
    """`<lake root>/models`: a local folder, or a prefix in the lake's object store."""
    root = lake.root.removeprefix("file://")
    return f"{root.rstrip('/')}/models" if is_uri(root) else os.path.join(root, "models")


def store_model(lake, name: str, model) -> tuple[str, str]:
    """Save `model` under its content hash; returns (sha1, path). Atomic: written aside, then renamed
    (local lakes) or uploaded as one object once complete (object stores: fastText only writes local files)."""
    target_dir = f"{models_dir(lake)}/{name}" if not lake.is_local else os.path.join(models_dir(lake), name)
    local_dir = target_dir if lake.is_local else tempfile.mkdtemp(prefix="goldpan-model-")
    os.makedirs(local_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".bin", dir=local_dir)
    os.close(fd)
    try:
        model.save_model(tmp)
        sha1 = file_sha1(tmp)
        if lake.is_local:
            path = os.path.join(target_dir, f"{sha1}.bin")
            os.replace(tmp, path)
        else:
            path = f"{target_dir}/{sha1}.bin"
            fs, key = filesystem_for(path, lake.storage_options)
            with open(tmp, "rb") as src, fs.open_output_stream(key) as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if not lake.is_local:
            shutil.rmtree(local_dir, ignore_errors=True)
    return sha1, path


def local_model_path(path: str, sha1: str | None = None, storage_options=None) -> str:
    """A local file fastText can load for `path`: itself when local, else a sha1-verified cached download.

    The cache (`$GOLDPAN_MODEL_CACHE`, default ~/.cache/goldpan/models) is keyed by content hash, so
    a model is fetched once per machine and a corrupted or truncated download is never loaded.
    """
    if not is_uri(path):
        return path.removeprefix("file://")
    cache = os.environ.get("GOLDPAN_MODEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "goldpan",
                                                                   "models")
    os.makedirs(cache, exist_ok=True)
    local = os.path.join(cache, os.path.basename(path))
    if os.path.exists(local) and (sha1 is None or file_sha1(local) == sha1):
        return local
    fs, key = filesystem_for(path, storage_options)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".bin", dir=cache)
    try:
        with os.fdopen(fd, "wb") as dst, fs.open_input_stream(key) as src:
            while block := src.read(1 << 20):
                dst.write(block)
        got = file_sha1(tmp)
        if sha1 is not None and got != sha1:
            raise ValueError(f"model file {path} has sha1 {got}, the models table says {sha1}")
        os.replace(tmp, local)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return local


def record_models(lake, records: list[ModelRecord], recipe_id: str, run_id: str | None,
                  commit_metadata: dict | None = None) -> int:
    """Append the attempts to the `models` table; returns its new Delta version."""
    rows = [r.row(recipe_id, run_id) for r in records]
    table = pa.Table.from_pylist(rows, schema=MODELS)
    return lake.write("models", table, MODELS, mode="append", commit_metadata=commit_metadata).version


def latest_model(lake, name: str, prefer_run: str | None = None) -> dict | None:
    """The most recent attempt for `name` (trained or refused), or None if never attempted.

    `prefer_run`: the attempts of that run come first. A batch's scores must use the model its own run
    trained: a run of a later batch started at the same time trains (on both batches) as soon as this
    run's training step is done, and "the latest" would then hand this batch the later batch's model,
    a decision a run after the other would never make."""
    if not lake.exists("models"):
        return None
    with lake.connect(tables=["models"]) as con:
        rel = con.execute(
            "SELECT * FROM models WHERE name = ? "
            "ORDER BY coalesce(run_id = ?, false) DESC, trained_at DESC, round DESC LIMIT 1", [name, prefer_run]
        )
        cols = [d[0] for d in rel.description]
        row = rel.fetchone()
    return None if row is None else dict(zip(cols, row, strict=True))
