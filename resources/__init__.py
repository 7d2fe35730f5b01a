"""Dagster resources: the lake, the recipe, the models and the LLM endpoint. Thin wrappers over goldpan."""

from resources.lake import LakeResource
from resources.llm import LLMEndpointResource
from resources.models import ModelsResource
from resources.recipe import RecipeResource

__all__ = ["LLMEndpointResource", "LakeResource", "ModelsResource", "RecipeResource"]
