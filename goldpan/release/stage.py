"""The release stage's entry point: promote an approved candidate version into `training_corpus`.

`run` records the recipe text behind the release (so `diff` can compare recipes later), counts what
takedowns keep out of it compared with the last release, and promotes the candidate version the gate
approved (goldpan.release.promote refuses any other). The gate itself runs before, as a blocking check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from goldpan.audit.recipes import record_recipe
from goldpan.audit.takedowns import removed_by_takedowns
from goldpan.lake import Lake
from goldpan.recipe import Recipe
from goldpan.release.promote import PromotionRefused, promote, releases


@dataclass(frozen=True)
class PromotionRun:
    candidate_version: int
    attempt: dict  # the `corpus_releases` row of this promotion (promoted or unchanged)
    taken_down: dict[str, int]  # {takedown request id: documents of the last release it keeps out}
    history: list[dict]  # every promotion attempt, oldest first


def run(lake: Lake, recipe: Recipe, run_id: str, *, candidate_version: int | None = None,
        commit_metadata: Mapping[str, str] | None = None) -> PromotionRun:
    """Promote `candidate_version` (None: the latest candidate); raises PromotionRefused when the gate
    did not approve that version, or when no candidate was ever written."""
    version = candidate_version if candidate_version is not None else lake.version("corpus_candidate")
    if version is None:
        raise PromotionRefused("corpus_candidate has never been materialized")
    record_recipe(lake, recipe, run_id)
    taken_down = removed_by_takedowns(lake, version)
    attempt = promote(lake, candidate_version=version, run_id=run_id, commit_metadata=commit_metadata)
    return PromotionRun(version, attempt, taken_down, releases(lake))
