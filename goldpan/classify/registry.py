"""Model files versioned in the lake: `<lake>/models/<name>/<sha1>.bin` plus one `models` row per attempt.

Why content addressing: the sha1 stored on every `doc_scores` row names exactly the bytes that
produced the score, so a score can be re-derived (or audited) long after newer models were trained;
retraining the same data with the same seed gives the same sha1 and overwrites nothing.
A refused training is a row too (status 'refused', with the reason), so "why are scores null?" is
answered from the lake.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from goldpan.classify.model import Metrics, file_sha1
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
    if not lake.is_local:
        # fastText loads models from a local path only; remote lakes would need a download step.
        raise NotImplementedError(f"model files need a local lake root, got {lake.root}")
    return os.path.join(lake.root.removeprefix("file://"), "models")


def store_model(lake, name: str, model) -> tuple[str, str]:
    """Save `model` under its content hash; returns (sha1, path). Atomic: written aside, then renamed."""
    target_dir = os.path.join(models_dir(lake), name)
    os.makedirs(target_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".bin", dir=target_dir)
    os.close(fd)
    try:
        model.save_model(tmp)
        sha1 = file_sha1(tmp)
        path = os.path.join(target_dir, f"{sha1}.bin")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha1, path


def record_models(lake, records: list[ModelRecord], recipe_id: str, run_id: str | None,
                  commit_metadata: dict | None = None) -> int:
    """Append the attempts to the `models` table; returns its new Delta version."""
    rows = [r.row(recipe_id, run_id) for r in records]
    table = pa.Table.from_pylist(rows, schema=MODELS)
    return lake.write("models", table, MODELS, mode="append", commit_metadata=commit_metadata).version


def latest_model(lake, name: str) -> dict | None:
    """The most recent attempt for `name` (trained or refused), or None if never attempted."""
    if not lake.exists("models"):
        return None
    with lake.connect(tables=["models"]) as con:
        rel = con.execute(
            "SELECT * FROM models WHERE name = ? ORDER BY trained_at DESC, round DESC LIMIT 1", [name]
        )
        cols = [d[0] for d in rel.description]
        row = rel.fetchone()
    return None if row is None else dict(zip(cols, row, strict=True))
