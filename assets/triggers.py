"""Jobs, the crawl schedule and the sensor that carries each new batch downstream."""


import os
from datetime import UTC, datetime

import dagster as dg

from assets.partitions import crawl_batches

crawl_job = dg.define_asset_job(
    "crawl_job",
    selection=dg.AssetSelection.assets("pages"),
    description="Crawl one batch into `pages`.",
)

process_batch_job = dg.define_asset_job(
    "process_batch_job",
    selection=dg.AssetSelection.assets("pages").downstream(include_self=False),
    description="Everything after the crawl for one batch: extract, dedup, filter, then the cross-batch "
    "mix, candidate, gate and promotion.",
)

full_batch_job = dg.define_asset_job(
    "full_batch_job",
    selection=dg.AssetSelection.all(),
    description="Crawl one batch and carry it all the way to the gated training corpus in one run.",
)


def new_batch_id(label: str = "crawl", now: datetime | None = None) -> str:
    """Batch ids sort in creation order (dedup compares a batch with the batches before it)."""
    now = now or datetime.now(UTC)
    return f"b{now:%Y%m%dT%H%M%S}-{label}"


@dg.schedule(
    job=crawl_job,
    cron_schedule=os.environ.get("GOLDPAN_CRAWL_CRON", "0 3 * * *"),
    execution_timezone="UTC",
    description="Registers a new crawl batch and crawls it (cron from GOLDPAN_CRAWL_CRON, default daily 03:00 UTC).",
)
def crawl_schedule(context: dg.ScheduleEvaluationContext):
    batch = new_batch_id("crawl", context.scheduled_execution_time)
    # Schedules cannot return partition add requests; register the batch before requesting its run.
    context.instance.add_dynamic_partitions(crawl_batches.name, [batch])
    return dg.RunRequest(run_key=batch, partition_key=batch, tags={"goldpan/batch": batch})


@dg.asset_sensor(
    asset_key=dg.AssetKey("pages"),
    job=process_batch_job,
    minimum_interval_seconds=30,
    description="When a batch's pages are written, process that batch downstream (once per materialization).",
)
def new_batch_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    partition = asset_event.dagster_event.partition if asset_event.dagster_event else None
    if not partition:
        return dg.SkipReason("pages materialization without a partition")
    # One run per pages materialization: the storage id is unique, so a re-crawl is processed again
    # but an old batch is never reprocessed by itself.
    return dg.RunRequest(
        run_key=f"{partition}:{asset_event.storage_id}", partition_key=partition, tags={"goldpan/batch": partition}
    )
