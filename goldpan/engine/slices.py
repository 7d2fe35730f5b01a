"""Tasks that read their slice of a stage's input from the lake and write their output to it.

On a cluster the driver only plans: it pins the input tables' Delta versions, cuts the input into
`slices` by a hash of a key column and sends each task (query, versions, slice number, where to
write). The task opens the lake itself (local path or object store, the lake's storage options),
streams its slice through the stage's batch function in batches of `batch_rows` and writes one
Parquet part under the output table (`goldpan.lake.parts`). It returns the part's description and a
few counts, never rows. The driver then commits every part in one Delta commit.

Identical results: every input row is in exactly one slice (DuckDB's `hash` is deterministic), the
batch functions are per-document (a row's output does not depend on its batch neighbours) and the
input versions are pinned, so the table holds the same rows as a run on one process. A retried task
reads the same pinned slice again and writes a new part; the dead attempt's file is never committed.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from goldpan.engine.base import BatchFn
from goldpan.engine.cache import enter_stage, stage_of
from goldpan.engine.units import cut_units, row_groups
from goldpan.lake.delta import Lake
from goldpan.lake.parts import PartFile, PartTarget, PartWriter
from goldpan.lake.ranges import FileRange
from goldpan.lake.snapshot import Snapshot


@dataclass(frozen=True)
class LakeQuery:
    """A stage's input: a DuckDB query over lake tables, streamed in batches of `batch_rows`.

    `key` names a column of the result whose hash cuts the input into slices (a document id).
    `slice_table`: the scanned table that holds `key` under the same name and gives each result row
    exactly one row (the query's driving table, joined to the others by `key`): the slice predicate
    then goes into that table's view, where DuckDB pushes it into the Parquet scan, so a slice decodes
    only its own rows' wide columns (page bodies, texts). Without it (a query that unions several
    sources) the predicate wraps the whole query and every slice reads every row."""

    sql: str
    params: Sequence[Any] | Mapping[str, Any] | None
    tables: Sequence[str]
    batch_rows: int = 256
    key: str = "doc_id"
    slice_table: str | None = None
    #: the partition of `slice_table` the query reads (e.g. (("batch_id", batch),)): when it holds at
    #: least one file per slice, slices are cut by file instead (`file_slices`)
    slice_partition: tuple[tuple[str, str], ...] = ()
    #: for a query with no one driving table (a UNION of sources): every scanned table that holds `key`
    #: and contributes to a result row only rows with that row's key (each union source, and tables
    #: joined to them on `key`). Each one's view gets the slice predicate, as `slice_table`'s would, so
    #: a slice reads only its own rows of every source instead of the whole query per slice.
    hash_tables: tuple[str, ...] = ()
    #: tasks per worker for this input, instead of the engine's `tasks_per_worker` (None). Stages whose
    #: per-document work is light (dedup's features, scores, token counts) set 1: each task pays a fixed
    #: cost (open the lake, plan and run its slice's query: ~0.15 s) that several small tasks per worker
    #: multiply, while the tail a single task per worker risks is short when the whole stage is.
    tasks_per_worker: int | None = None

    def batches(self, lake: Lake, snapshot: Snapshot | None = None):
        """The whole input, read here (engines that do not read the lake on their workers)."""
        return lake.iter_batches(self.sql, list(self.params) if isinstance(self.params, (list, tuple)) else self.params,
                                 tables=list(self.tables), batch_size=self.batch_rows, snapshot=snapshot)

    def _predicate(self, index: int, slices: int, alias: str = "") -> str:
        if not self.key.isidentifier():
            raise ValueError(f"bad slice key {self.key!r}")
        return f'hash({alias}"{self.key}") % {int(slices)} = {int(index)}'

    def slice_sql(self, index: int, slices: int) -> str:
        """The query of slice `index`: the stage's own when the slice is cut in the scanned table."""
        if slices <= 1 or self.slice_table is not None or self.hash_tables:
            return self.sql
        return f"SELECT * FROM ({self.sql}) AS q WHERE {self._predicate(index, slices, 'q.')}"

    def _partition_files(self, lake: Lake, snapshot: Snapshot) -> list[tuple[int, str]] | None:
        """(size, path) of every file of `slice_table`'s partition at the pinned version, by path."""
        if self.slice_table is None or not self.slice_partition:
            return None
        dt = lake.table(self.slice_table, snapshot.versions.get(self.slice_table))
        if dt is None:
            return None
        actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
        return sorted((a["size_bytes"], a["path"]) for a in actions
                      if all(a.get(f"partition.{c}") == v for c, v in self.slice_partition))

    def file_slices(self, lake: Lake, snapshot: Snapshot, slices: int) -> tuple[tuple[str, ...], ...] | None:
        """The files of `slice_table`'s partition at the pinned version, dealt into `slices` groups of
        about equal bytes (largest first onto the lightest), or None when there are fewer files than
        slices. Every row is in one file, so in one slice: a slice then reads only its own files,
        which no predicate can give on object storage (the scan there cannot evaluate DuckDB's hash).
        Tables a Ray stage wrote have one part per slice of the stage that wrote them."""
        files = self._partition_files(lake, snapshot) if slices > 1 else None
        if files is None or len(files) < slices:
            return None
        groups: list[list[str]] = [[] for _ in range(slices)]
        load = [0] * slices
        for size, path in sorted(files, key=lambda f: (-f[0], f[1])):
            i = min(range(slices), key=lambda j: (load[j], j))
            groups[i].append(path)
            load[i] += size
        return tuple(tuple(sorted(g)) for g in groups)

    def row_group_slices(self, lake: Lake, snapshot: Snapshot, units: int, workers: int | None = None
                         ) -> tuple[tuple[FileRange, ...], ...] | None:
        """`slice_table`'s partition cut into at most `units` runs of row groups (goldpan.engine.units:
        about equal bytes, or largest first for `workers` fewer than `units`), or None without a driving
        table or files. Finer than whole files: a heavy file no longer makes one slow slice that the
        other workers wait for."""
        files = self._partition_files(lake, snapshot) if units > 1 else None
        if not files:
            return None
        groups = row_groups(lake.uri(self.slice_table), lake.storage_options, [p for _, p in sorted(files, key=lambda f: f[1])])
        return cut_units(groups, units, workers) or None

    def slice_filters(self, index: int, slices: int) -> dict[str, str]:
        """table -> predicate restricting that table's view to slice `index` (see `slice_table`)."""
        if slices <= 1 or (self.slice_table is None and not self.hash_tables):
            return {}
        tables = (self.slice_table,) if self.slice_table is not None else self.hash_tables
        return {t: self._predicate(index, slices) for t in tables}


@dataclass(frozen=True)
class SliceJob:
    """Everything one task needs, small and picklable: where to read, what to run, where to write."""

    lake_root: str
    storage_options: Mapping[str, str] | None
    snapshot: Snapshot
    query: LakeQuery
    slices: int
    target: PartTarget
    #: per slice, the files (or row-group runs) of `query.slice_table` it reads (`plan_slices`); None: hash slices
    files: tuple[tuple[str | FileRange, ...], ...] | None = None
    #: output columns whose sums the driver needs (e.g. tokens counted); the status column is counted
    sum_columns: tuple[str, ...] = ()
    status_column: str | None = "status"


@dataclass
class SliceResult:
    """What a task hands back: its part (None when the slice was empty) and counts, never rows."""

    index: int
    part: PartFile | None
    rows_in: int = 0
    rows_out: int = 0
    outcomes: Counter = field(default_factory=Counter)
    sums: dict[str, float] = field(default_factory=dict)
    worker: str = ""
    busy_s: float = 0.0


def read_slice(lake: Lake, q: LakeQuery, snapshot: Snapshot, slices: int,
               files: tuple[tuple[str | FileRange, ...], ...] | None, index: int) -> Iterator[pa.RecordBatch]:
    """Slice `index` of `q` at the pinned `snapshot`: its files of the driving table (`files`, from
    `LakeQuery.file_slices`) or, without them, the rows whose key hashes to it."""
    params = list(q.params) if isinstance(q.params, (list, tuple)) else q.params
    if files is not None:  # this slice's files of the driving table, whole
        return lake.iter_batches(q.sql, params, tables=list(q.tables), batch_size=q.batch_rows,
                                 snapshot=snapshot, files={q.slice_table: files[index]})
    return lake.iter_batches(q.slice_sql(index, slices), params, tables=list(q.tables), batch_size=q.batch_rows,
                             snapshot=snapshot, row_filters=q.slice_filters(index, slices))


def run_slice(fn: BatchFn, context: Any, job: SliceJob, index: int, worker_label: str = "") -> SliceResult:
    """In the worker: read slice `index` from the lake, run `fn` over it, write one part."""
    enter_stage(stage_of(fn, context))  # a new stage: the last stage's own models are dropped
    t0 = time.perf_counter()
    reader = read_slice(Lake(job.lake_root, job.storage_options), job.query, job.snapshot, job.slices, job.files,
                        index)
    writer = PartWriter(job.target, f"{index:05d}")
    res = SliceResult(index=index, part=None, sums={c: 0 for c in job.sum_columns})
    for batch in reader:
        res.rows_in += batch.num_rows
        out = fn(batch, context)
        res.rows_out += out.num_rows
        if job.status_column and job.status_column in out.schema.names:
            res.outcomes.update(out.column(job.status_column).to_pylist())
        for c in job.sum_columns:
            res.sums[c] += pc.sum(out.column(c)).as_py() or 0
        writer.write(out)
    res.part = writer.close()
    res.worker = worker_label or f"pid{os.getpid()}"
    res.busy_s = time.perf_counter() - t0
    return res


#: slices per worker of the whole-file and hash cuts (and the default without an engine setting): every
#: slice of a hash cut scans the whole partition, and whole files run out (see `plan_slices`)
WHOLE_CUT_PER_WORKER = 2


def slice_count(workers: int, per_worker: int = WHOLE_CUT_PER_WORKER) -> int:
    """Slices per stage: a few per worker, so a slow or retried task does not leave the others idle."""
    return max(1, workers * per_worker)


def plan_slices(lake: Lake, query: LakeQuery, snapshot: Snapshot, engine: Any
                ) -> tuple[int, tuple[tuple[str | FileRange, ...], ...] | None, str]:
    """(slices, what each reads, how it was cut) for a stage on `engine`: `engine.tasks_per_worker`
    units per worker, cut as `engine.slice_unit` says (`row_group`: runs of row groups, `file`: whole
    files), else by the hash of the key when the driving table's partition cannot be cut that way.
    Row groups that give fewer tasks than workers (a file written in one process can be one big row
    group) fall back to the other cuts, which keep every worker busy. Those take at most two slices
    per worker: every slice of a hash cut scans the whole partition, and whole files cannot be cut
    finer than the files there are (8 tasks per worker would ask 2 workers for 16 files)."""
    per_worker = query.tasks_per_worker or getattr(engine, "tasks_per_worker", WHOLE_CUT_PER_WORKER)
    n = slice_count(engine.workers, per_worker)
    if getattr(engine, "slice_unit", "file") == "row_group":
        units = query.row_group_slices(lake, snapshot, n, engine.workers)
        if units and len(units) >= min(n, engine.workers):
            return len(units), units, "row_groups"
    n = slice_count(engine.workers, min(per_worker, WHOLE_CUT_PER_WORKER))
    files = query.file_slices(lake, snapshot, n)
    return n, files, "files" if files is not None else "hash"

