"""Run the real asset graph into a temporary lake with a Dagster test instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.partitions import crawl_batches
from definitions import ASSETS, build_resources
from quality_checks.checks import ASSET_CHECKS

REPO_RECIPE = str(Path(__file__).resolve().parents[2] / "recipes" / "demo.yaml")

# The same assets and checks as the code location, so a new asset is tested without listing it here.
ALL_ASSETS = list(ASSETS)


def run_batch(instance, lake_root: Path, batch: str, recipe: str = "recipes/demo.yaml", selection=None,
              raise_on_error: bool = False, partitioned: bool = True, run_config=None):
    """Materialize `selection` (default: everything) for `batch`; release-only selections hold no
    partitioned asset, so they run without a partition key (`partitioned=False`)."""
    if batch not in instance.get_dynamic_partitions(crawl_batches.name):
        instance.add_dynamic_partitions(crawl_batches.name, [batch])
    return dg.materialize(
        [*ALL_ASSETS, *ASSET_CHECKS],
        selection=selection,
        partition_key=batch if partitioned else None,
        instance=instance,
        resources=build_resources(str(lake_root), recipe),
        raise_on_error=raise_on_error,
        run_config=run_config,
    )


def seed_env(site, monkeypatch) -> None:
    monkeypatch.setenv("GOLDPAN_SEED_URL", site.url("/"))
