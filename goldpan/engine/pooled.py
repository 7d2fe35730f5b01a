"""The shape every pooled stage shares: stream input batches through the engine into one Delta write.

read (DuckDB, streamed in record batches) -> engine.map_batches(fn) (ordered) -> Lake.write (one
commit for the stage and batch); on Ray, workers read their slices and write Parquet parts and the
driver makes the one commit (goldpan.engine.slices); local worker processes do the same. Meanwhile a `StageMeter` records documents,
time and peak memory of the process tree. The stage's `run()` supplies the query, the batch function and the table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from goldpan.engine.base import BatchFn, Engine
from goldpan.engine.memory import release_memory
from goldpan.engine.meter import StageMeter
from goldpan.engine.progress import StageProgress, report
from goldpan.engine.slices import LakeQuery, SliceJob, plan_slices
from goldpan.lake.delta import Lake, WriteResult, predicate_partition
from goldpan.lake.parts import PartTarget, commit_parts


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
    inputs: Iterable[pa.RecordBatch] | None = None,
    query: LakeQuery | None = None,
    predicate: str | None,
    partition_by: list[str] | None = None,
    mode: str = "overwrite",
    commit_metadata: Mapping[str, str] | None = None,
    status_column: str | None = "status",
    sum_columns: tuple[str, ...] = (),
    total: int | None = None,
) -> StageRun:
    """Run `fn` over the stage's input on `engine` and write its output to `table` in one commit.

    The input is `query` (lake tables) or, for input that is not in the lake, `inputs`. On an engine
    whose workers reach the lake (`workers_reach_lake`: Ray, local processes), the workers read their slices of `query` and
    write Parquet parts themselves and this process only commits them; otherwise this process streams
    the query through `engine.map_batches` into one Delta write. Either way: one commit, same rows.
    `sum_columns`: output columns summed into `extra["sums"]` (e.g. tokens counted); `total` (input
    rows, when known) lets a progress display show a fraction and an ETA."""
    run, before = start_run(engine)
    progress = StageProgress(table, 0, total, time.perf_counter())
    report(progress)
    sums = {c: 0 for c in sum_columns}
    replace = predicate_partition(predicate)
    # Parts are committed as an append or as the replacement of one partition (a batch's slice).
    fits = (mode == "append" and predicate is None) or (
        mode == "overwrite" and replace is not None and set(replace) <= set(partition_by or ()))
    direct = query is not None and fits and _reads_slices(engine, query)
    with run.meter:
        if direct:
            run.written = _run_direct(lake, engine, run, progress, sums, table=table, schema=schema, fn=fn,
                                      context=context, query=query, replace=replace, partition_by=partition_by,
                                      mode=mode, commit_metadata=commit_metadata, status_column=status_column)
        else:
            source = inputs if inputs is not None else (query.batches(lake) if query is not None else iter(()))

            def add(b: pa.RecordBatch) -> None:
                for c in sum_columns:
                    sums[c] += pc.sum(b.column(c)).as_py() or 0

            out = counted(engine.map_batches(fn, source, context), run, status_column, add, progress)
            run.written = lake.write(
                table, out, schema, mode=mode, predicate=predicate, partition_by=partition_by,
                commit_metadata=commit_metadata,
            )
    progress.finished = True
    report(progress)
    finish_run(run, engine, before)
    release_memory()  # the stage's buffers go back to the OS, not into the next step's peak
    run.extra["sums"] = sums
    run.extra["lake_io"] = "workers" if direct else "driver"
    return run


def _reads_slices(engine: Engine, query: LakeQuery) -> bool:
    """The engine's choice (`reads_slices`), else whether its workers reach the lake at all (Ray)."""
    choose = getattr(engine, "reads_slices", None)
    return bool(choose(query)) if choose is not None else bool(getattr(engine, "workers_reach_lake", False))


def _run_direct(lake: Lake, engine: Engine, run: StageRun, progress: StageProgress, sums: dict, *, table: str,
                schema: pa.Schema, fn: BatchFn, context: Any, query: LakeQuery, replace: dict[str, str] | None,
                partition_by: list[str] | None, mode: str, commit_metadata: Mapping[str, str] | None,
                status_column: str | None) -> WriteResult:
    """Workers read slices and write parts (goldpan.engine.slices); here: plan, count, one commit."""
    snapshot = lake.snapshot(query.tables)
    slices, units, cut = plan_slices(lake, query, snapshot, engine)
    job = SliceJob(lake_root=lake.root, storage_options=lake.storage_options, snapshot=snapshot,
                   query=query, slices=slices,
                   target=PartTarget(lake.uri(table), lake.storage_options, schema, dict(replace or {})),
                   sum_columns=tuple(sums), status_column=status_column, files=units)
    run.extra["slices"] = cut
    run.extra["tasks"] = slices
    parts = []
    for res in engine.map_slices(fn, context, job):  # type: ignore[attr-defined]
        progress.done += res.rows_in
        report(progress)
        run.meter.docs += res.rows_out
        run.outcomes.update(res.outcomes)
        for c, v in res.sums.items():
            sums[c] += v
        if res.part is not None:
            parts.append(res.part)
    # Parts in slice order: the commit (and so the table's file list) does not depend on timing.
    parts.sort(key=lambda p: p.path)
    return commit_parts(lake, table, parts, schema, mode=mode, partition_by=partition_by, replace=replace,
                        commit_metadata=commit_metadata)


def count_rows(lake: Lake, sql: str, params: list | None, tables: list[str]) -> int | None:
    """`SELECT count(*)` of a stage's input query (for progress), None when a table is missing."""
    if not all(lake.exists(t) for t in tables):
        return None
    with lake.connect(tables=tables) as con:
        return int(con.execute(f"SELECT count(*) FROM ({sql})", params or []).fetchone()[0])
