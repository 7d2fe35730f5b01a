"""The shape every pooled stage shares: stream input batches through the engine into one Delta write.

read (DuckDB, streamed in record batches) -> engine.map_batches(fn) (ordered) -> Lake.write (one
commit for the stage and batch), while a `StageMeter` records documents, time and peak memory of
the process tree. The stage's `run()` supplies the query, the batch function and the table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from goldpan.engine.base import BatchFn, Engine
from goldpan.engine.meter import StageMeter
from goldpan.engine.progress import StageProgress, report
from goldpan.lake.delta import Lake, WriteResult


@dataclass
class StageRun:
    """What a stage wrote and how the run went: rows, outcomes, throughput and memory, engine."""

    written: WriteResult | None
    outcomes: Counter = field(default_factory=Counter)
    meter: StageMeter = field(default_factory=StageMeter)
    engine: str = "inprocess"
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    #: rows, busy seconds and rows per busy second of each worker that ran a batch of this stage
    per_worker: dict[str, dict[str, float]] = field(default_factory=dict)

    def perf(self) -> dict[str, Any]:
        """Throughput, peak memory and engine: what each asset shows in the UI."""
        return {**self.meter.as_metadata(), "engine": self.engine, "workers": self.workers,
                "per_worker": self.per_worker}


def start_run(engine: Engine) -> tuple[StageRun, dict]:
    """A StageRun for `engine` and the tally snapshot its per-worker figures are counted from."""
    run = StageRun(written=None, engine=engine.name, workers=engine.workers)
    tally = getattr(engine, "tally", None)
    return run, (tally.snapshot() if tally is not None else {})


def finish_run(run: StageRun, engine: Engine, before: dict) -> None:
    tally = getattr(engine, "tally", None)
    if tally is not None:
        run.per_worker = tally.since(before)


def counted(
    batches: Iterable[pa.RecordBatch],
    run: StageRun,
    status_column: str | None = "status",
    on_batch: Callable[[pa.RecordBatch], None] | None = None,
    progress: StageProgress | None = None,
) -> Iterator[pa.RecordBatch]:
    """Pass batches through, counting documents (and outcomes by `status_column`) into `run`."""
    for b in batches:
        if progress is not None:
            progress.done += b.num_rows
            report(progress)
        run.meter.docs += b.num_rows
        if status_column and status_column in b.schema.names:
            run.outcomes.update(b.column(status_column).to_pylist())
        if on_batch is not None:
            on_batch(b)
        yield b


def run_pooled(
    lake: Lake,
    engine: Engine,
    *,
    table: str,
    schema: pa.Schema,
    fn: BatchFn,
    context: Any,
    inputs: Iterable[pa.RecordBatch],
    predicate: str | None,
    partition_by: list[str] | None = None,
    mode: str = "overwrite",
    commit_metadata: Mapping[str, str] | None = None,
    status_column: str | None = "status",
    on_batch: Callable[[pa.RecordBatch], None] | None = None,
    total: int | None = None,
) -> StageRun:
    """Run `fn` over `inputs` on `engine` and write its output to `table` in one commit.

    `on_batch` sees every output batch (in order) before it is written, e.g. to sum a column;
    `total` (input rows, when known) lets a progress display show a fraction and an ETA."""
    run, before = start_run(engine)
    progress = StageProgress(table, 0, total, time.perf_counter())
    report(progress)
    with run.meter:
        out = counted(engine.map_batches(fn, inputs, context), run, status_column, on_batch, progress)
        run.written = lake.write(
            table, out, schema, mode=mode, predicate=predicate, partition_by=partition_by,
            commit_metadata=commit_metadata,
        )
    progress.finished = True
    report(progress)
    finish_run(run, engine, before)
    return run


def count_rows(lake: Lake, sql: str, params: list | None, tables: list[str]) -> int | None:
    """`SELECT count(*)` of a stage's input query (for progress), None when a table is missing."""
    if not all(lake.exists(t) for t in tables):
        return None
    with lake.connect(tables=tables) as con:
        return int(con.execute(f"SELECT count(*) FROM ({sql})", params or []).fetchone()[0])
