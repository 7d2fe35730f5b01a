"""The recipe resource: which YAML recipe this deployment runs, and (optionally) on which engine.

The engine settings here override the recipe's `engine` section: the switch that runs the same
assets, partitions and checks on Ray (`RecipeResource(path=..., engine="ray", ray_address=...)`)
without editing the recipe. The engine is not part of the recipe id, so the tables say the same
recipe made them whichever engine ran it.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from goldpan.recipe import Recipe
from goldpan.recipe_loader import load_recipe


class RecipeResource(dg.ConfigurableResource):
    path: str = Field(default="recipes/demo.yaml", description="Path of the YAML recipe.")
    engine: str | None = Field(default=None, description="Override engine.kind: local, inprocess or ray.")
    workers: int | None = Field(default=None, description="Override engine.workers.")
    ray_address: str | None = Field(default=None, description="Override engine.ray.address (auto, ray://host:10001).")
    ray_runtime_env: dict[str, Any] | None = Field(default=None, description="Override engine.ray.runtime_env.")

    def load(self) -> Recipe:
        rc = load_recipe(self.path)
        if self.engine is None and self.workers is None and self.ray_address is None and self.ray_runtime_env is None:
            return rc
        eng = rc.engine.model_dump()
        if self.engine is not None:
            eng["kind"] = self.engine
        if self.workers is not None:
            eng["workers"] = self.workers
        if self.ray_address is not None:
            eng["ray"]["address"] = self.ray_address
        if self.ray_runtime_env is not None:
            eng["ray"]["runtime_env"] = self.ray_runtime_env
        return rc.model_copy(update={"engine": type(rc.engine).model_validate(eng)})
