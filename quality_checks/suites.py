"""Expectation suites, one function per validated frame, built from the recipe.

GX is imported inside functions: its import takes seconds and must not slow code-location loading.
"""

from __future__ import annotations

from goldpan.recipe import Recipe

FUNNEL_STAGES = ["crawl", "extract", "dedup", "filter", "mix", "candidate"]


def candidate_expectations(recipe: Recipe) -> list:
    """Row-level rules on the candidate: ids present and unique, text present, languages of the recipe."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=recipe.gate.min_docs),
        gxe.ExpectColumnValuesToNotBeNull(column="doc_id"),
        gxe.ExpectColumnValuesToBeUnique(column="doc_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="page_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="batch_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="url"),
        gxe.ExpectColumnValuesToBeBetween(column="text_chars", min_value=1),
        gxe.ExpectColumnValuesToBeInSet(column="lang", value_set=list(recipe.mix.languages)),
        gxe.ExpectColumnValuesToBeBetween(column="repeat", min_value=1),
    ]


def funnel_expectations() -> list:
    """Nothing lost: every stage of every batch balances, with no missing or invented rows."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnDistinctValuesToContainSet(column="stage", value_set=FUNNEL_STAGES),
        gxe.ExpectColumnValuesToBeBetween(column="unbalanced", min_value=0, max_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="missing", min_value=0, max_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="orphans", min_value=0, max_value=0),
    ]
