"""Parquet parts written by workers straight into a Delta table's location, committed by the driver.

Why: on a cluster the driver must not carry the data (issue "Scale out", points 3 and 4). Each task
writes its output as Parquet files under the table's own location (local path or `s3://`, with the
lake's storage options); nothing is visible until the driver makes ONE Delta commit that adds every
part of the stage and batch (`commit_parts`). A task that dies leaves a file no commit references (an
orphan, removed by `VACUUM` like any uncommitted file); its retry writes a new part under a new name.
So readers only ever see the table before the stage or after it, never half of it.

The layout is delta-rs's own: partition columns live in the path (`batch_id=<value>/part-...parquet`)
and in the add action, not in the file; stats carry the row and null counts.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, create_table_with_add_actions

from goldpan.lake.delta import _SAFE_VALUE, COMMIT_RETRIES, CommitConflict, Lake, WriteResult, _conform
from goldpan.lake.objectstore import filesystem_for, is_uri


@dataclass(frozen=True)
class PartTarget:
    """Where a task writes: the table's URI and credentials, the schema, and the partition it fills."""

    table_uri: str
    storage_options: Mapping[str, str] | None
    schema: pa.Schema
    #: partition column -> the one value every row of this stage and batch has (empty: unpartitioned)
    partition: Mapping[str, str] = field(default_factory=dict)

    @property
    def file_schema(self) -> pa.Schema:
        """Partition columns are in the path, not in the file (as delta-rs writes them)."""
        return pa.schema([f for f in self.schema if f.name not in self.partition])


@dataclass(frozen=True)
class PartFile:
    """One Parquet file a task wrote; becomes an `AddAction` when the driver commits it."""

    path: str  # relative to the table root
    size: int
    rows: int
    partition: Mapping[str, str]
    stats: str
    modified_ms: int

    def add_action(self) -> AddAction:
        return AddAction(path=self.path, size=self.size, partition_values=dict(self.partition),
                         modification_time=self.modified_ms, data_change=True, stats=self.stats)


def table_filesystem(table_uri: str, storage_options: Mapping[str, str] | None):
    """(pyarrow file system, path of the table's root in it) for a local path or an object store URI."""
    import pyarrow.fs as pafs

    if is_uri(table_uri):
        return filesystem_for(table_uri, storage_options)
    return pafs.LocalFileSystem(), table_uri.removeprefix("file://")


class PartWriter:
    """Streams record batches of one task into one Parquet part under the table (opened lazily: a task
    with no output writes no file). Rows outside the target partition raise: a part can only be
    committed to the partition its path names."""

    def __init__(self, target: PartTarget, label: str):
        for k, v in target.partition.items():
            if not _SAFE_VALUE.match(v):
                raise ValueError(f"unsafe partition value {k}={v!r}")
        self.target = target
        prefix = "/".join(f"{k}={v}" for k, v in target.partition.items())
        name = f"part-{label}-{uuid.uuid4().hex}.snappy.parquet"
        self.rel_path = f"{prefix}/{name}" if prefix else name
        self._fs, root = table_filesystem(target.table_uri, target.storage_options)
        self._path = f"{root.rstrip('/')}/{self.rel_path}"
        self._writer: pq.ParquetWriter | None = None
        self._sink = None
        self.rows = 0
        self._nulls = {f.name: 0 for f in target.file_schema}

    def write(self, batch: pa.RecordBatch) -> None:
        for b in _conform([batch], self.target.schema):
            for col, value in self.target.partition.items():
                values = b.column(col)
                if values.null_count or not pc.all(pc.equal(values, value)).as_py():
                    raise ValueError(f"a row outside the partition {col}={value!r} cannot go in this part")
            b = pa.RecordBatch.from_arrays([b.column(f.name) for f in self.target.file_schema],
                                           schema=self.target.file_schema)
            if self._writer is None:
                if not is_uri(self.target.table_uri):  # object stores have no folders to make
                    self._fs.create_dir(self._path.rsplit("/", 1)[0], recursive=True)
                self._sink = self._fs.open_output_stream(self._path)
                self._writer = pq.ParquetWriter(self._sink, self.target.file_schema, compression="snappy")
            self._writer.write_batch(b)
            self.rows += b.num_rows
            for f in self.target.file_schema:
                self._nulls[f.name] += b.column(f.name).null_count

    def close(self) -> PartFile | None:
        """Finish the file; None when no row was written (no file exists)."""
        if self._writer is None:
            return None
        self._writer.close()
        self._sink.close()
        size = self._fs.get_file_info(self._path).size
        stats = json.dumps({"numRecords": self.rows, "nullCount": self._nulls})
        return PartFile(self.rel_path, int(size), self.rows, dict(self.target.partition), stats,
                        int(time.time() * 1000))


def commit_parts(
    lake: Lake,
    table: str,
    parts: Iterable[PartFile],
    schema: pa.Schema,
    *,
    mode: str = "overwrite",
    partition_by: list[str] | None = None,
    replace: Mapping[str, str] | None = None,
    commit_metadata: Mapping[str, str] | None = None,
) -> WriteResult:
    """One Delta commit adding `parts` to `table`: `mode="overwrite"` with `replace` (partition column ->
    value) replaces exactly that partition, as `Lake.write` with a `batch_id = '...'` predicate does;
    `mode="append"` adds. The first commit of a table creates it. Raises CommitConflict, like
    `Lake.write`, when a concurrent writer changed what this commit replaces."""
    parts = list(parts)
    actions = [p.add_action() for p in parts]
    meta = {k: str(v) for k, v in (commit_metadata or {}).items()}
    props = CommitProperties(custom_metadata=meta or None, max_commit_retries=COMMIT_RETRIES)
    uri = lake.uri(table)
    try:
        try:
            dt = DeltaTable(uri, storage_options=lake.storage_options)
        except TableNotFoundError:
            dt = None
        if dt is None:
            create_table_with_add_actions(uri, DeltaSchema.from_arrow(schema), actions, mode="error", partition_by=partition_by or None,
                                          storage_options=lake.storage_options, commit_properties=props)
        else:
            filters = [(k, "=", v) for k, v in (replace or {}).items()] or None
            if mode == "overwrite" and filters is None:
                raise ValueError("a parts commit replaces one partition (`replace`) or appends; not the whole table")
            dt.create_write_transaction(actions, mode, pa.schema(dt.schema()), partition_by=partition_by or None,
                                        partition_filters=filters, commit_properties=props)
    except CommitFailedError as exc:
        raise CommitConflict(f"{table}: a concurrent writer changed what this commit replaces "
                             f"({replace or 'append'}); nothing was committed: {exc}") from exc
    dt = lake.table(table)
    assert dt is not None
    return WriteResult(table=table, uri=uri, version=dt.version(), rows=sum(p.rows for p in parts))
