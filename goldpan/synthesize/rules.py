"""Names of the faithfulness guard's rules (goldpan.synthesize.guard). They live with the recipe types
(`goldpan.recipe.GUARD_RULES`), which validate `skip_guard` and import nothing of goldpan."""

from goldpan.recipe import GUARD_RULES as RULES

__all__ = ["RULES"]
