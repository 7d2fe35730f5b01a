"""Jobs, the crawl schedule and the sensor that carries each new batch downstream."""


import logging
import os
import re
from datetime import UTC, datetime

import dagster as dg

from assets.partitions import crawl_batches

log = logging.getLogger(__name__)
DEFAULT_CRON = "0 3 * * *"


def crawl_cron() -> str:
    """The crawl schedule's cron: $GOLDPAN_CRAWL_CRON, else the recipe's `crawl.schedule_cron`.

    Read when the code location loads (a schedule's cron is part of its definition); a recipe that
    cannot be read here falls back to the default rather than failing the whole location.
    """
    env = os.environ.get("GOLDPAN_CRAWL_CRON")
    if env:
        return env
    from goldpan.recipe import RecipeError
    from goldpan.recipe_loader import load_recipe

    try:
        return load_recipe(os.environ.get("GOLDPAN_RECIPE", "recipes/demo.yaml")).crawl.schedule_cron
    except (RecipeError, OSError) as exc:
        log.warning("crawl schedule: recipe unreadable (%s); using %s", exc, DEFAULT_CRON)
        return DEFAULT_CRON

crawl_job = dg.define_asset_job(
    "crawl_job",
    selection=dg.AssetSelection.assets("pages"),
    description="Crawl one batch into `pages`.",
)

process_batch_job = dg.define_asset_job(
    "process_batch_job",
    # Everything but the crawl, not only what lies downstream of `pages`: the mix also needs assets
    # with no path from pages (curated_documents, the classifiers), which a fresh lake lacks.
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("pages"),
    description="Everything after the crawl for one batch: extract, dedup, filter, then the cross-batch "
    "mix (with the curated corpora and classifiers it needs), candidate, gate and promotion.",
)

full_batch_job = dg.define_asset_job(
    "full_batch_job",
    selection=dg.AssetSelection.all(),
    description="Crawl one batch and carry it all the way to the gated training corpus in one run.",
)


def new_batch_id(label: str = "crawl", now: datetime | None = None) -> str:
    """Batch ids sort in creation order (dedup compares a batch with the batches before it), for
    crawls and WARC imports alike: `b<UTC time>-<label>`, label cut to safe characters."""
    now = now or datetime.now(UTC)
    label = re.sub(r"[^A-Za-z0-9_.\-]+", "-", label).strip("-")[:96] or "batch"
    return f"b{now:%Y%m%dT%H%M%S}-{label}"


@dg.schedule(
    job=crawl_job,
    cron_schedule=crawl_cron(),
    execution_timezone="UTC",
    description="Registers a new crawl batch and crawls it (cron from the recipe's crawl.schedule_cron or "
    "GOLDPAN_CRAWL_CRON; default daily 03:00 UTC).",
)
def crawl_schedule(context: dg.ScheduleEvaluationContext):
    batch = new_batch_id("crawl", context.scheduled_execution_time)
    # Schedules cannot return partition add requests; register the batch before requesting its run.
    context.instance.add_dynamic_partitions(crawl_batches.name, [batch])
    return dg.RunRequest(run_key=batch, partition_key=batch, tags={"goldpan/batch": batch})


MAX_RUNS_PER_TICK = 50  # pages materializations turned into runs per tick (the rest wait for the next)


@dg.sensor(
    job=process_batch_job,
    minimum_interval_seconds=30,
    description="When a batch's pages are written, process that batch downstream (one run per pages "
    "materialization, every one of them, oldest first).",
)
def new_batch_sensor(context: dg.SensorEvaluationContext):
    """One run per `pages` materialization since the cursor (the last storage id handled).

    A plain sensor rather than `asset_sensor`: the latter hands over only the newest materialization
    per tick, so batches written between two ticks (a WARC sensor registers up to 20 at once) would
    never be processed, and its event has no storage id to key the run on.
    """
    after = int(context.cursor) if context.cursor and context.cursor.isdigit() else None
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("pages"), after_storage_id=after),
        limit=MAX_RUNS_PER_TICK,
        ascending=True,
    ).records
    if not records:
        return dg.SkipReason("no new pages materialization")
    requests = []
    for record in records:
        partition = record.partition_key
        if partition:
            # The storage id is unique: a re-crawl is processed again, an old batch never by itself.
            requests.append(dg.RunRequest(run_key=f"{partition}:{record.storage_id}", partition_key=partition,
                                          tags={"goldpan/batch": partition}))
    return dg.SensorResult(run_requests=requests, cursor=str(records[-1].storage_id))
