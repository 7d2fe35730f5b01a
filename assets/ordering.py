"""Batch order across concurrent runs: the cross-batch steps of a batch run after those of earlier batches.

Why: per-batch work (fetch, extract, signals) is independent and runs in parallel, but the cross-batch
steps are not: dedup compares a batch with everything kept before it, the classifiers train on every
batch, and the mix, candidate and promotion see all batches. Two runs that reach these steps at the
same moment would each miss the other (duplicates across them kept) or read each other half-written.
So a run of batch X, before each cross-batch step, waits until no run of an earlier batch (partition
key sorts before X: batch ids start with their creation time) that will execute the same step is
still before it. The result is the one of processing the batches one after the other in batch order,
while extraction and filtering of all of them still overlap. Dagster pools cannot give this: a step
waiting for an earlier batch while holding a pool slot would block that very batch.

Runs that are queued (not started) are not waited for, or a queue limit could deadlock them; runs of
the same batch are kept apart by the run queue's per-batch tag limit (see `dagster.yaml`). A waiting
step logs what it waits for, and gives up after `OrderingResource.wait_timeout_s` with an error that
names the blocking run (a run killed without being marked failed can be marked failed in the UI).
"""

from __future__ import annotations

import time

import dagster as dg
from pydantic import Field

#: Statuses of a run that is executing (a queued run is not: see the module docstring).
RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
PARTITION_TAG = "dagster/partition"
#: The last per-batch step: a batch is complete for the mix once it has run in the batch's run.
LAST_PER_BATCH_ASSET = "quality_decisions"


class OrderingResource(dg.ConfigurableResource):
    """How long a cross-batch step waits for runs of earlier batches, and how often it looks."""

    wait_timeout_s: float = Field(default=6 * 3600.0, description="Give up waiting after this long.")
    poll_s: float = Field(default=1.0, description="Seconds between two looks at the running runs.")


def _selects(run: dg.DagsterRun, asset: str) -> bool:
    sel = run.asset_selection  # None or empty when the run executes its whole job (execute_in_process)
    return not sel or dg.AssetKey(asset) in sel


def _materialized_in(instance: dg.DagsterInstance, run_id: str, asset: str) -> bool:
    key = dg.AssetKey(asset)
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return any(e.dagster_event is not None and e.dagster_event.asset_key == key for e in events)


def runs_before(instance: dg.DagsterInstance, run_id: str, asset: str, partition: str | None) -> list[dg.DagsterRun]:
    """Running runs of batches sorted before `partition` (all other batches when `partition` is None is
    *not* meant: an unpartitioned run waits for no one) that will still execute `asset`."""
    if partition is None:
        return []
    out = []
    for run in instance.get_runs(dg.RunsFilter(statuses=RUNNING)):
        other = run.tags.get(PARTITION_TAG)
        if run.run_id == run_id or other is None or other >= partition:
            continue
        if _selects(run, asset) and not _materialized_in(instance, run.run_id, asset):
            out.append(run)
    return out


def wait_for_earlier_batches(context: dg.AssetExecutionContext, asset: str, ordering: OrderingResource) -> float:
    """Block until no running run of an earlier batch still has `asset` ahead of it; returns seconds waited."""
    # The run's partition (also for the unpartitioned cross-batch assets a partitioned run carries).
    partition = context.run.tags.get(PARTITION_TAG)
    started = time.monotonic()
    said = None
    while True:
        blocking = runs_before(context.instance, context.run.run_id, asset, partition)
        if not blocking:
            return time.monotonic() - started
        waited = time.monotonic() - started
        names = ", ".join(f"{r.tags.get(PARTITION_TAG)} (run {r.run_id[:8]})" for r in blocking)
        if names != said:
            context.log.info(f"{asset}: waiting for earlier batches to pass this step first: {names}")
            said = names
        if waited > ordering.wait_timeout_s:
            raise dg.Failure(f"{asset}: waited {waited:.0f} s for earlier batches' runs ({names}); if such a run "
                             "was killed, mark it failed in the UI (or terminate it) and re-execute this run")
        time.sleep(ordering.poll_s)


def batches_in_flight(context: dg.AssetExecutionContext, needs: str = LAST_PER_BATCH_ASSET) -> set[str]:
    """Batches a cross-batch step of this run leaves out, so that it decides what a run processing the
    batches one after the other in batch order would: batches of later runs still running (in batch order
    they come after this run), and batches another running run has not yet carried through `needs` (the
    last per-batch step the cross-batch step reads: never read half-written). Each is taken in by its own
    run's step."""
    mine = context.run.tags.get(PARTITION_TAG)
    out = set()
    for run in context.instance.get_runs(dg.RunsFilter(statuses=RUNNING)):
        batch = run.tags.get(PARTITION_TAG)
        if run.run_id == context.run.run_id or batch is None:
            continue
        if (mine is not None and batch > mine) or (
                _selects(run, needs) and not _materialized_in(context.instance, run.run_id, needs)):
            out.add(batch)
    return out


def version_written_in_run(context, asset: str) -> int | None:
    """The Delta version `asset` was written at in this run (its materialization's `delta_version`), so
    the gate judges and promotion copies this run's candidate, not one another run wrote meanwhile."""
    key = dg.AssetKey(asset)
    found = None
    for e in context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        ev = e.dagster_event
        if ev is not None and ev.asset_key == key:
            meta = ev.event_specific_data.materialization.metadata
            if "delta_version" in meta:
                found = int(meta["delta_version"].value)
    return found
