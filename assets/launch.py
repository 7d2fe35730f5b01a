"""`goldpan run`: register a batch and run the whole graph for it on the Dagster instance.

The run is an ordinary Dagster run of `goldpan_run_job` (all assets, in one process), recorded
in the instance at $DAGSTER_HOME, so `make ui` (or `dagster dev`) shows it, its step timings and
every asset's metadata. In process on purpose: the steps share one worker pool and one set of
loaded models (`goldpan.engine`), where the multiprocess executor would start both again for
every step. Independent steps can run side by side on threads (`assets/executor.py`, up to the
recipe's `engine.concurrent_steps` or $GOLDPAN_CONCURRENT_STEPS; by default 2 with a pool of workers, 1 heavy:
goldpan.engine.resolve_concurrent_steps, assets/step_load.py). Per-document stages
report progress (`goldpan.engine.progress`); this module shows it and ends with the funnel.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from assets.executor import executor_config, threaded_in_process_executor
from assets.partitions import crawl_batches
from assets.triggers import new_batch_id
from assets.warc import batch_label, warc_run_config
from goldpan.engine import progress as stage_progress
from goldpan.lake import Lake
from goldpan.lineage.report import format_funnel

RUN_JOB = "goldpan_run_job"

goldpan_run_job = dg.define_asset_job(
    RUN_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=threaded_in_process_executor,
    description="One batch (WARC import or crawl) through every stage to the gated training corpus, in one "
    "process whose worker pool the per-document stages share, independent steps side by side on threads "
    "(launched by `goldpan run`).",
)


def run_job_def() -> dg.JobDefinition:
    """The job over the code location's assets and checks, with resources read from the environment
    now (GOLDPAN_LAKE, GOLDPAN_RECIPE), not when definitions.py was first imported. A module-level
    function, so the run is reconstructable."""
    from definitions import ASSETS, build_resources
    from goldpan.recipe_loader import load_recipe
    from quality_checks.checks import ASSET_CHECKS

    recipe = load_recipe(os.environ.get("GOLDPAN_RECIPE", "recipes/demo.yaml"))
    job = dg.define_asset_job(RUN_JOB, selection=goldpan_run_job.selection, description=goldpan_run_job.description,
                              executor_def=threaded_in_process_executor.configured(executor_config(recipe.engine)))
    defs = dg.Definitions(assets=ASSETS, asset_checks=ASSET_CHECKS, resources=build_resources(), jobs=[job])
    return defs.resolve_job_def(RUN_JOB)


class ProgressDisplay:
    """One line per stage: rows done/total, rate, ETA; redrawn in place on a terminal."""

    def __init__(self, stream=None, every_s: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, p: stage_progress.StageProgress) -> None:
        now = time.perf_counter()
        with self._lock:
            if self.tty:
                if not p.finished and p.done and now - self._last.get(p.stage, 0.0) < self.every_s:
                    return
                self._last[p.stage] = now
                self.stream.write("\r\033[K" + p.line() + ("\n" if p.finished else ""))
            else:  # a log file: a line at the start, at every further tenth (or 30 s), and at the end
                step = self._step(p)
                if not (p.finished or p.done == 0 or step > self._last.get(p.stage, -1)
                        or now - self._last.get(p.stage + "@t", now) > 30):
                    return
                self._last[p.stage] = step
                self._last[p.stage + "@t"] = now
                self.stream.write(p.line() + "\n")
            self.stream.flush()

    @staticmethod
    def _step(p: stage_progress.StageProgress) -> int:
        return int(10 * p.done / p.total) if p.total else p.done // 1000


def launch(
    *,
    warc: Sequence[str] = (),
    crawl: bool = False,
    lake_root: str,
    recipe_path: str,
    batch: str | None = None,
    stream=None,
) -> tuple[bool, str]:
    """Register a batch, run the graph for it on the instance, print progress and the funnel.

    Returns (success, batch id). The caller has set GOLDPAN_LAKE / GOLDPAN_RECIPE (the code
    location's resources read them) and DAGSTER_HOME."""
    stream = stream or sys.stderr
    if bool(warc) == bool(crawl):
        raise ValueError("give WARC files or --crawl (one of them)")
    files = list(warc)
    batch = batch or new_batch_id(batch_label(files) if files else "crawl")
    from resources.instance import prepare_instance

    prepare_instance()  # the project's instance config, created and migrated once under a lock
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(crawl_batches.name, [batch])
    stream.write(f"goldpan run: batch {batch} ({'WARC ' + ', '.join(files) if files else 'crawl'})\n"
                 f"  lake {lake_root}, recipe {recipe_path}, Dagster instance {os.environ.get('DAGSTER_HOME')}\n")
    t0 = time.perf_counter()
    result = _execute(instance, batch, files, stream)
    stream.write(f"run {result.run_id} {'succeeded' if result.success else 'FAILED'} in "
                 f"{time.perf_counter() - t0:.1f}s (open the Dagster UI: `make ui`, Runs)\n\n")
    lake = Lake(lake_root)
    if lake.exists("pages"):
        stream.write(format_funnel(lake, batch) + "\n")
    return result.success, batch


def _execute(instance: dg.DagsterInstance, batch: str, files: list[str], stream):
    """Run the graph for `batch` on `instance`, with the progress display on `stream`, then its steps."""
    # The progress display is the console output; Dagster's own log lines go to the UI (warnings shown).
    run_config = {**(warc_run_config(files) if files else {}),
                  "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    display = ProgressDisplay(stream)
    stage_progress.add_listener(display)
    try:
        result = dg.execute_job(
            dg.reconstructable(run_job_def),
            instance=instance,
            run_config=run_config,
            tags={"dagster/partition": batch, "goldpan/batch": batch,
                  "goldpan/source": "warc" if files else "crawl"},
            raise_on_error=False,
        )
        print_steps(instance, result.run_id, stream)
    finally:
        stage_progress.remove_listener(display)
    return result


def print_steps(instance: dg.DagsterInstance, run_id: str, stream) -> None:
    """Each step's wall time, from the run's event log (what the UI's timeline shows)."""
    starts: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        ev = entry.dagster_event
        if ev is None or not ev.step_key:
            continue
        if ev.event_type_value == "STEP_START":
            starts[ev.step_key] = entry.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = entry.timestamp - starts.get(ev.step_key, entry.timestamp)
            mark = "ok" if ev.event_type_value == "STEP_SUCCESS" else "FAILED"
            stream.write(f"  {ev.step_key:<36} {mark:<6} {took:7.1f}s\n")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
