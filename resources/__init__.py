"""Dagster resources: the lake, the recipe, and the models. Thin wrappers over goldpan."""

from resources.lake import LakeResource
from resources.models import ModelsResource
from resources.recipe import RecipeResource

__all__ = ["LakeResource", "ModelsResource", "RecipeResource"]
