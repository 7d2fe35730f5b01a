"""The boilerplate line model in the lake's `models` table, next to the quality and domain classifiers.

Why register a shipped model: every `documents` row names its extractor version
(`<resiliparse>+lines-<sha1 prefix>`); the `models` row with that sha1 says what the model is, how
it was trained (gold sets, seed, split) and how it scored on pages it never saw, and the lake keeps
a copy of the exact bytes under `<lake>/models/extract_lines/<sha1>.json`, so a lake stays auditable
after the package ships a retrained model. The model itself is trained by
scripts/train_extract_model.py from public gold sets (they are not lake data), so the row's status is
`trained` with the held-out metrics the training script measured; registering the same model again
adds nothing (content addressed, like goldpan.classify.registry).
"""

from __future__ import annotations

import json
import os

from goldpan.classify.model import Metrics
from goldpan.classify.registry import ModelRecord, latest_model, models_dir, record_models
from goldpan.extract.line_model import LineModel
from goldpan.lake.objectstore import filesystem_for

NAME = "extract_lines"
KIND = "extract"


def held_out_metrics(model: LineModel) -> Metrics | None:
    """Line-level held-out confusion counts the training script stored, as `Metrics`."""
    m = model.meta.get("held_out_lines")
    if not m:
        return None
    return Metrics(n_pos=int(m["n_pos"]), n_neg=int(m["n_neg"]), threshold=float(model.threshold),
                   tp=int(m["tp"]), fp=int(m["fp"]), fn=int(m["fn"]))


def store_line_model(lake, model: LineModel) -> str:
    """Write the model's JSON (the bytes its sha1 names) under `<lake>/models/extract_lines/`; its path."""
    data = model.to_json().encode("utf-8")
    if lake.is_local:
        folder = os.path.join(models_dir(lake), NAME)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{model.sha1}.json")
        if not os.path.exists(path):
            tmp = f"{path}.tmp-{os.getpid()}"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return path
    path = f"{models_dir(lake)}/{NAME}/{model.sha1}.json"
    fs, key = filesystem_for(path, lake.storage_options)
    with fs.open_output_stream(key) as dst:
        dst.write(data)
    return path


def line_model_record(model: LineModel, path: str) -> ModelRecord:
    meta = model.meta
    lines = meta.get("held_out_lines") or {}
    return ModelRecord(
        name=NAME, kind=KIND, status="trained", sha1=model.sha1, path=path,
        n_train_pos=int(meta.get("train_lines_pos", 0)), n_train_neg=int(meta.get("train_lines_neg", 0)),
        metrics=held_out_metrics(model),
        config={"features": model.features, "threshold": model.threshold, "hidden": meta.get("hidden"),
                "seed": meta.get("seed"), "epochs": meta.get("epochs"),
                "held_out_pages": meta.get("held_out_report_split"), "held_out_lines_pages": lines.get("pages")},
        sources=[json.dumps(meta.get("training_data", {}), sort_keys=True)],
    )


def register_line_model(lake, model: LineModel, recipe_id: str, run_id: str | None,
                        commit_metadata: dict | None = None) -> bool:
    """Record `model` in `models` unless the latest extract_lines row already names its sha1."""
    latest = latest_model(lake, NAME)
    if latest is not None and latest.get("sha1") == model.sha1:
        return False
    path = store_line_model(lake, model)
    record_models(lake, [line_model_record(model, path)], recipe_id, run_id, commit_metadata)
    return True


__all__ = ["KIND", "NAME", "held_out_metrics", "line_model_record", "register_line_model", "store_line_model"]
