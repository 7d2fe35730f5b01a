"""The recipe resource: which YAML recipe this deployment runs."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from goldpan.recipe import Recipe
from goldpan.recipe_loader import load_recipe


class RecipeResource(dg.ConfigurableResource):
    path: str = Field(default="recipes/demo.yaml", description="Path of the YAML recipe.")

    def load(self) -> Recipe:
        return load_recipe(self.path)
