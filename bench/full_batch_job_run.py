"""Run `full_batch_job` for one registered WARC batch as a run launched from the Dagster UI would run.

Used by `bench/end_to_end.py --ui-job`: the schedule, the sensors and the UI launch the code location's
jobs, whose executor is not `goldpan run`'s. `--executor multiprocess` runs the same job under Dagster's
multiprocess executor (one spawned process per step, 2 at once: the code location's executor before
it ran every job in one process), for the comparison in one benchmark run.

Usage: python bench/full_batch_job_run.py BATCH WARC... [--executor location|multiprocess]
Environment: DAGSTER_HOME (created here), GOLDPAN_LAKE, GOLDPAN_RECIPE, GOLDPAN_WORKERS.
Exit code 0 when the run succeeded; prints each step's wall time from the run's event log
(`assets/launch.print_steps`, as `goldpan run` does).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENV_EXECUTOR = "GOLDPAN_BENCH_EXECUTOR"


def job_def():
    """`full_batch_job` of the code location, or the same selection under the multiprocess executor
    (module-level, so the run is reconstructable in the step processes)."""
    import dagster as dg

    from definitions import defs

    job = defs.resolve_job_def("full_batch_job")
    if os.environ.get(ENV_EXECUTOR, "location") == "location":
        return job
    from assets.triggers import full_batch_job
    from definitions import ASSET_CHECKS, ASSETS, build_resources

    mp = dg.define_asset_job("full_batch_job", selection=full_batch_job.selection,
                             executor_def=dg.multiprocess_executor.configured(
                                 {"max_concurrent": 2, "start_method": {"spawn": {}}}))
    return dg.Definitions(assets=ASSETS, asset_checks=ASSET_CHECKS, resources=build_resources(),
                          jobs=[mp]).resolve_job_def("full_batch_job")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("batch")
    ap.add_argument("warc", nargs="+")
    ap.add_argument("--executor", choices=["location", "multiprocess"], default="location")
    args = ap.parse_args(argv)
    os.environ[ENV_EXECUTOR] = args.executor

    import dagster as dg

    from assets.launch import print_steps
    from assets.partitions import crawl_batches
    from goldpan.crawl.batch_table import WARC, record_batch
    from goldpan.lake import Lake
    from goldpan.recipe_loader import load_recipe
    from resources.instance import prepare_instance

    home = os.environ["DAGSTER_HOME"]
    prepare_instance(home)
    with dg.DagsterInstance.from_config(home) as inst:
        inst.add_dynamic_partitions(crawl_batches.name, [args.batch])
    recipe = load_recipe(os.environ["GOLDPAN_RECIPE"])
    # As a batch the WARC folder sensor registered: the run carries no run config, as a UI launch.
    record_batch(Lake(os.environ["GOLDPAN_LAKE"]), args.batch, kind=WARC, sources=args.warc,
                 recipe_id=recipe.recipe_id, state="registered")
    t0 = time.perf_counter()
    with dg.DagsterInstance.get() as inst:
        res = dg.execute_job(dg.reconstructable(job_def), instance=inst, tags={"dagster/partition": args.batch},
                             raise_on_error=False)
        print(f"run {res.run_id} ({args.executor} executor) "
              f"{'succeeded' if res.success else 'FAILED'} in {time.perf_counter() - t0:.1f}s", flush=True)
        print_steps(inst, res.run_id, sys.stdout)
    return 0 if res.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
