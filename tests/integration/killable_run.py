"""A real Dagster run, in its own process, that records its batch as running and leaves a data file
its Delta commit never added (what a crawl killed between writing Parquet and committing leaves),
then waits to be killed. Used by test_recovery.py: `python -m tests.integration.killable_run READY`."""


import os
import sys
import time
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from goldpan.crawl.batch_table import CRAWL, record_batch
from goldpan.lake import Lake

BATCH = "b20260101T000000-killed"
UNCOMMITTED = "pages/batch_id=" + BATCH + "/part-00000-uncommitted.zstd.parquet"


@dg.asset(partitions_def=dg.StaticPartitionsDefinition([BATCH]))
def crawl_that_gets_killed(context: dg.AssetExecutionContext) -> None:
    lake = Lake(os.environ["GOLDPAN_LAKE"])
    record_batch(lake, BATCH, kind=CRAWL, sources=["http://127.0.0.1:8765/"], recipe_id="demo@test",
                 state="running", run_id=context.run.run_id)  # fmt: skip
    path = Path(lake.root) / UNCOMMITTED
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"page_id": ["p1"], "url": ["http://127.0.0.1:8765/zh/茶.html"]}), path)
    Path(sys.argv[1]).write_text(context.run.run_id)
    time.sleep(600)


if __name__ == "__main__":
    with dg.DagsterInstance.get() as instance:
        dg.materialize([crawl_that_gets_killed], instance=instance, partition_key=BATCH)
