"""Run `full_batch_job` for one batch in this process, as a separate Dagster run would (used by the
concurrency tests to start several runs at the same time against one instance and one lake).

Usage: python tests/integration/job_process.py BATCH [WARC_FILE ...]
       python tests/integration/job_process.py --each BATCH [BATCH ...]
`--each` runs each batch's job one after the other in this one process (batches registered with their
files), one Dagster run per batch: a sequential reference without a process start-up and warm-up
(imports, the GX context, the engine) per run.
Environment: DAGSTER_HOME (a prepared instance), GOLDPAN_LAKE, GOLDPAN_RECIPE.
Exit code 0 when every run succeeded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    import dagster as dg

    from definitions import defs

    if argv[0] == "--each":
        runs = [(batch, []) for batch in argv[1:]]
    else:
        runs = [(argv[0], argv[1:])]
    job = defs.resolve_job_def("full_batch_job")
    ok = True
    for batch, files in runs:
        run_config = {"ops": {"pages": {"config": {"warc_files": files}}}} if files else None
        with dg.DagsterInstance.get() as instance:
            result = job.execute_in_process(instance=instance, partition_key=batch, run_config=run_config,
                                            raise_on_error=False)
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        print(f"{batch}: success={result.success} failed_steps={json.dumps(failed)}", flush=True)
        ok = ok and result.success
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
