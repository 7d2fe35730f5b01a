"""The code location's jobs, schedule and sensors bound to a test lake, and reconstructable jobs for
tests that run them as Dagster's CLI and daemon do (`dagster job execute`: the run in its own
execution path, with the partition only in the run's tags) rather than through `materialize`."""

from __future__ import annotations

import os

import dagster as dg


def bound_definitions(lake_root: str, recipe: str = "recipes/demo.yaml") -> dg.Definitions:
    """definitions.defs with its resources pointed at `lake_root` and steps run in process (fast,
    and what a test instance can execute); jobs, schedule and sensors are the real objects."""
    from assets.recovery import dead_run_sensor
    from assets.triggers import crawl_job, crawl_schedule, full_batch_job, new_batch_sensor, process_batch_job
    from assets.warc import warc_folder_sensor, warc_import_job
    from definitions import ASSETS, build_resources
    from quality_checks.checks import ASSET_CHECKS

    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        resources=build_resources(lake_root, recipe),
        jobs=[crawl_job, process_batch_job, full_batch_job, warc_import_job],
        schedules=[crawl_schedule],
        sensors=[new_batch_sensor, warc_folder_sensor, dead_run_sensor],
        executor=dg.in_process_executor,
    )


def warc_import_job():
    return bound_definitions(os.environ["GOLDPAN_LAKE"]).resolve_job_def("warc_import_job")
