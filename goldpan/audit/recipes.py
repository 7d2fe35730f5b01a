"""Recipe snapshots: the full recipe behind each release, so a diff can name the changed thresholds.

`corpus_releases` stores only the recipe's id and hash. A hash says *that* a recipe changed, not
*what* changed; months later the YAML file may be edited or gone. `record_recipe` stores the
validated recipe (env vars expanded) once per hash in `recipe_snapshots`; promotion calls it, and
`recipe_changes` flattens two snapshots into dotted keys and lists what differs.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from goldpan.lake import Lake
from goldpan.lake.releases import PROMOTED, releases
from goldpan.lake.schemas import RECIPE_SNAPSHOTS


def record_recipe(lake: Lake, recipe, run_id: str = "") -> bool:
    """Store `recipe` (a goldpan.recipe.Recipe) unless its hash is already stored; True if written."""
    if snapshot(lake, recipe.sha1) is not None:
        return False
    row = {
        "recipe_sha1": recipe.sha1,
        "recipe_id": recipe.recipe_id,
        "name": recipe.name,
        "recipe_json": json.dumps(recipe.model_dump(), sort_keys=True, default=str),
        "recorded_at": datetime.now(UTC),
        "run_id": run_id,
    }
    lake.write("recipe_snapshots", [pa.RecordBatch.from_pylist([row], schema=RECIPE_SNAPSHOTS)], RECIPE_SNAPSHOTS,
               mode="append", commit_metadata={"dagster_run_id": run_id} if run_id else None)
    return True


def snapshot(lake: Lake, recipe_sha1: str | None) -> dict | None:
    """The stored recipe for a hash, as {recipe_id, recipe_sha1, recipe: dict}, else None."""
    if not recipe_sha1 or not lake.exists("recipe_snapshots"):
        return None
    with lake.connect(tables=["recipe_snapshots"]) as con:
        row = next(iter(con.execute("SELECT recipe_id, recipe_sha1, recipe_json FROM recipe_snapshots WHERE recipe_sha1 = ? "
                          "ORDER BY recorded_at LIMIT 1", [recipe_sha1]).fetchall()), None)
    if row is None:
        return None
    return {"recipe_id": row[0], "recipe_sha1": row[1], "recipe": json.loads(row[2])}


def recipe_for(lake: Lake, release_row: dict | None, search: list[str] | None = None) -> dict | None:
    """The recipe a release was gated with: its snapshot, else a recipe file on disk with the same hash."""
    if release_row is None:
        return None
    snap = snapshot(lake, release_row.get("recipe_sha1"))
    if snap is not None:
        return snap
    return _from_files(release_row.get("recipe_sha1"), search)


def _from_files(sha1: str | None, search: list[str] | None) -> dict | None:
    """Fallback for releases promoted before snapshots existed: a recipe file that hashes the same."""
    from goldpan.recipe import RecipeError
    from goldpan.recipe_loader import load_recipe

    if not sha1:
        return None
    paths = list(search or [])
    if os.environ.get("GOLDPAN_RECIPE"):
        paths.append(os.environ["GOLDPAN_RECIPE"])
    paths += [str(p) for p in sorted(Path("recipes").glob("*.y*ml"))]
    for p in dict.fromkeys(paths):
        try:
            r = load_recipe(p)
        except (RecipeError, OSError):
            continue
        if r.sha1 == sha1:
            return {"recipe_id": r.recipe_id, "recipe_sha1": r.sha1, "recipe": r.model_dump(), "from_file": p}
    return None


def latest_recipe(lake: Lake) -> dict | None:
    """The recipe of the latest promoted release, else the latest recorded snapshot."""
    promoted = [r for r in releases(lake) if r["status"] == PROMOTED]
    if promoted:
        snap = recipe_for(lake, promoted[-1])
        if snap is not None:
            return snap
    if not lake.exists("recipe_snapshots"):
        return None
    with lake.connect(tables=["recipe_snapshots"]) as con:
        row = next(iter(con.execute("SELECT recipe_sha1 FROM recipe_snapshots ORDER BY recorded_at DESC LIMIT 1").fetchall()), None)
    return snapshot(lake, row[0]) if row else None


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """{'filter.rules.default.gopher_min_words.min': 50, ...}: one dotted key per leaf."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return {prefix: obj}


def recipe_changes(a: dict | None, b: dict | None) -> list[dict]:
    """[{key, before, after}] for every leaf that differs between two recipe dicts."""
    if a is None or b is None:
        return []
    fa, fb = flatten(a), flatten(b)
    return [{"key": k, "before": fa.get(k), "after": fb.get(k)}
            for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def snapshot_by_id(lake: Lake, recipe_id: str | None) -> dict | None:
    """The stored recipe for a recipe id (`name@sha1[:12]`, as decision rows carry it)."""
    if not recipe_id or not lake.exists("recipe_snapshots"):
        return None
    with lake.connect(tables=["recipe_snapshots"]) as con:
        rows = con.execute("SELECT recipe_sha1 FROM recipe_snapshots WHERE recipe_id = ? ORDER BY recorded_at LIMIT 1",
                           [recipe_id]).fetchall()
    return snapshot(lake, rows[0][0]) if rows else None
