"""WARC/WET import wiring: a job and a sensor that turns new files in the recipe's WARC folder
(or object-store prefix) into batches of the same `pages` asset.

Each batch is a partition of the same dynamic partitions as crawls (`b<time>-warc-<file>`, so it
sorts with crawl batches by time, which dedup relies on); its files travel in the run config and
are recorded in the `batches` table, where a later re-materialization finds them again.
"""

import json

import dagster as dg

from assets.partitions import crawl_batches
from assets.triggers import new_batch_id
from goldpan.warc.sources import expand_sources
from resources import LakeResource, RecipeResource

MAX_BATCHES_PER_TICK = 20  # sensor ticks must stay well under Dagster's 60 s evaluation timeout

warc_import_job = dg.define_asset_job(
    "warc_import_job",
    selection=dg.AssetSelection.assets("pages"),
    description="Import WARC/WET files (run config `ops.pages.config.warc_files`) as one batch of `pages`.",
)


def warc_run_config(files: list[str]) -> dict:
    return {"ops": {"pages": {"config": {"warc_files": files}}}}


def batch_label(files: list[str]) -> str:
    name = files[0].rsplit("/", 1)[-1]
    for ext in (".gz", ".warc", ".wet", ".arc", ".wacz"):
        name = name.removesuffix(ext)
    name = name.removesuffix(".warc").removesuffix(".wet")
    return f"warc-{name}" + (f"-n{len(files)}" if len(files) > 1 else "")


def plan_warc_batches(files: list[str], cursor: str | None, per_batch: int, limit: int = MAX_BATCHES_PER_TICK):
    """Groups of new files (name order after `cursor`), full groups only, and the new cursor.

    Files are taken in sorted order, which for Common Crawl names is crawl-segment order; a file
    that sorts before the cursor is treated as already imported."""
    new = [f for f in sorted(files) if cursor is None or f > cursor]
    groups = [new[i : i + per_batch] for i in range(0, len(new), per_batch)]
    groups = [g for g in groups if len(g) == per_batch][:limit]
    return groups, (groups[-1][-1] if groups else cursor)


@dg.sensor(
    job=warc_import_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Registers one batch per new WARC/WET file (or group of `warc.files_per_batch`) matching the "
    "recipe's `warc.paths` and imports it into `pages`; the new-batch sensor then carries it downstream.",
)
def warc_folder_sensor(context: dg.SensorEvaluationContext, recipe: RecipeResource, lake: LakeResource):
    rc = recipe.load()
    if not rc.warc.paths:
        return dg.SkipReason("the recipe lists no warc.paths")
    storage = dict(rc.warc.storage_options) or dict(lake.storage_options)
    files = expand_sources(rc.warc.paths, storage)
    groups, cursor = plan_warc_batches(files, context.cursor, rc.warc.files_per_batch)
    if not groups:
        return dg.SkipReason(f"no new WARC/WET files among {len(files)}")
    requests, keys = [], []
    for group in groups:
        batch = new_batch_id(batch_label(group))
        while batch in keys:  # two groups in the same second
            batch += "x"
        keys.append(batch)
        requests.append(dg.RunRequest(run_key=f"{batch}:{json.dumps(group)}", partition_key=batch,
                                      run_config=warc_run_config(group),
                                      tags={"goldpan/batch": batch, "goldpan/source": "warc"}))  # fmt: skip
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[crawl_batches.build_add_request(keys)],
        cursor=cursor,
    )
