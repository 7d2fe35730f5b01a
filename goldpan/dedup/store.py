"""The dedup index in Delta: what earlier batches left behind, read back only where a batch needs it.

Tables (schemas in `goldpan.lake.schemas`):

- `dedup_index`: one row per (kind, key, doc_id) a batch added: `url` keys (canonical URL of every
  document that survived URL dedup), `sha1` keys (first 8 bytes of the normalised-text SHA-1, one
  per distinct text), `band` keys (the LSH band keys of cluster representatives). Partitioned by
  `kind` and `bucket = key & (N_BUCKETS-1)`: a URL or SHA-1 lookup never reads band rows. A batch's
  keys are random, so its lookup touches every bucket and must look at every key of its kind once;
  what keeps that cheap is (1) on a local lake, only the int64 key column is decoded for every
  row, and the string columns only for the row groups holding a match (`keyscan`; files are
  written with `INDEX_ROW_GROUP_ROWS`-row groups), with the batch/config filters applied to the few
  matches; (2) few files: `write_index` compacts a table once a partition holds more than
  `compact_files` files, because the per-file cost dominated (1M documents in 100 batches = 1,600
  band files). On an object store the lookup is a DuckDB join over the Arrow dataset.
  That scan still reads every key of the kind, so on a local lake the lookups are answered by the
  key runs beside the table (`keyruns`: each batch's keys sorted and memory-mapped, merged LSM
  style, checked against the Delta log), and the scan is the fallback when they are off or cannot
  vouch for the table's current version.
- `dedup_clusters` (the stage's per-document table) holds each document's signature; it is read
  only for the candidate documents the index returned (partition pruning on their batch ids).
- `dedup_paragraphs`: per batch, the number of distinct documents containing each paragraph key.
- `dedup_merges`: per batch, the changes it made to earlier clusters (merged clusters, new
  representatives); the index keeps the cluster ids it was written with and lookups resolve them.

Every read is restricted to `batch_id < current batch` (batch ids sort in creation order), so a
re-run of a batch never sees its own earlier rows and reproduces its first run exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from goldpan.dedup import keyruns
from goldpan.dedup.clusters import (
    KIND_ANCHOR,
    KIND_BAND,
    KIND_SHA1,
    KIND_URL,
    BatchOutcome,
    ClusterMerge,
    IndexHit,
    with_batch,
)
from goldpan.dedup.keyscan import ProbeSet, matching_rows
from goldpan.lake import Lake

N_BUCKETS = 16
# Rows per Parquet row group of dedup_index files: a lookup decodes the string columns of the row
# groups holding a match only (`keyscan`), so a match costs this many rows, not a whole file's.
INDEX_ROW_GROUP_ROWS = 4096
URL_CONFIG = "url-v1"
SHA1_CONFIG = "sha1-v1"
_SAFE = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def bucket_of(keys: np.ndarray) -> np.ndarray:
    return (np.asarray(keys, dtype=np.int64) & (N_BUCKETS - 1)).astype(np.int32)


def _in_list(values) -> str:
    vals = sorted(set(values))
    for v in vals:
        if not _SAFE.match(str(v)):
            raise ValueError(f"unsafe id {v!r}")
    return "(" + ", ".join(f"'{v}'" for v in vals) + ")"


class DeltaPriorStore:
    """`PriorStore` over the lake for batch `batch_id` (sees only batches that sort before it)."""

    def __init__(self, lake: Lake, batch_id: str, band_config: str, text_table: str = "documents",
                 keyruns: bool = True) -> None:
        self.lake = lake
        self.batch_id = batch_id
        self.band_config = band_config
        self.text_table = text_table
        self.rows_read: dict[str, int] = {"index": 0, "signatures": 0, "texts": 0, "paragraphs": 0}
        #: How index lookups were answered: by the key runs, or by scanning the table's files.
        self.lookups: dict[str, int] = {"runs": 0, "scan": 0}
        self.use_keyruns = keyruns
        self._view: keyruns.RunView | None = None
        self._merges: list[ClusterMerge] | None = None

    def _run_view(self, dt) -> keyruns.RunView | None:
        """The key runs valid for the table version `dt` (cached while the version holds), or None."""
        if not self.use_keyruns:
            return None
        if self._view is None or self._view.version != dt.version():
            self._view = keyruns.open_view(self.lake, dt)
        return self._view

    def _config(self, kind: str) -> str:
        return {KIND_URL: URL_CONFIG, KIND_SHA1: SHA1_CONFIG, KIND_BAND: self.band_config,
                KIND_ANCHOR: self.band_config}[kind]

    def _kind_files(self, table: str, part: str) -> list[str] | None:
        """Local Parquet paths of `table`'s files under hive partition `part` (e.g. "kind=band"),
        or None when the lake is not local (then the Arrow-dataset view is used)."""
        if not self.lake.is_local:
            return None
        dt = self.lake.table(table)
        if dt is None:
            return []
        seg = f"/{part}/" if part else "/"
        return sorted(u.removeprefix("file://") for u in dt.file_uris() if seg in u)

    def _matching_rows(self, files: list[str], keys: np.ndarray, cols: list[str], key: str = "key") -> list[tuple]:
        """Rows of `files` whose `key` is one of `keys`: (key, *cols), unfiltered and unordered.

        A semi-join against a registered Arrow table of the keys. No other predicate goes into
        the scan: filters on the string columns (config, batch_id) would be evaluated on every
        index row before the key probe; the caller applies them to the few matching rows. A
        constant `IN (...)` list is avoided too: DuckDB evaluates a long one slowly. What is left
        is decoding the selected string columns (doc_id, cluster_id) of every row, which DuckDB
        does before the join: ~2/3 of the band lookup's cost at 1M documents (see issue-6 notes).
        """
        import duckdb

        paths = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con = duckdb.connect()
        try:
            con.register("q", pa.table({"key": pa.array(np.unique(np.asarray(keys, dtype=np.int64)))}))
            return con.execute(
                f"SELECT {key}, {', '.join(cols)} FROM read_parquet([{paths}], union_by_name = true) "
                f"WHERE {key} IN (SELECT key FROM q)"
            ).fetchall()
        finally:
            con.close()

    def lookup(self, kind: str, keys: np.ndarray) -> list[IndexHit]:
        if keys.size == 0:
            return []
        dt = self.lake.table("dedup_index")
        if dt is None:
            return []
        config = self._config(kind)
        if self.lake.is_local:
            view = self._run_view(dt)
            if view is not None:
                rows = view.lookup(kind, keys, config, self.batch_id)
                self.lookups["runs"] += 1
            else:
                # Same rows and order as the SQL below: config and batch filters, then sorted by
                # (key, batch_id, doc_id); strings compare by code point here and bytewise (UTF-8) in
                # DuckDB, which is the same order.
                files = sorted(u.removeprefix("file://") for u in dt.file_uris() if f"/kind={kind}/" in u)
                found = matching_rows(files, ProbeSet(keys), ["doc_id", "cluster_id", "batch_id", "config"]) \
                    if files else []
                rows = sorted(
                    ((k, d, c, b) for k, d, c, b, cfg in found if cfg == config and b < self.batch_id),
                    key=lambda r: (r[0], r[3], r[1]),
                )
                self.lookups["scan"] += 1
            self.rows_read["index"] += len(rows)
            return [IndexHit(kind, int(k), d, c, b) for k, d, c, b in rows]
        buckets = sorted(set(bucket_of(keys).tolist()))
        q = pa.table({"key": pa.array(np.asarray(keys, dtype=np.int64))})
        sql = (
            "SELECT i.key, i.doc_id, i.cluster_id, i.batch_id FROM dedup_index i JOIN q ON q.key = i.key "
            f"WHERE i.kind = ? AND i.config = ? AND i.batch_id < ? AND i.bucket IN ({', '.join(map(str, buckets))}) "
            "ORDER BY i.key, i.batch_id, i.doc_id"
        )
        with self.lake.connect(tables=["dedup_index"]) as con:
            con.register("q", q)
            rows = con.execute(sql, [kind, self._config(kind), self.batch_id]).fetchall()
        self.rows_read["index"] += len(rows)
        return [IndexHit(kind, int(k), d, c, b) for k, d, c, b in rows]

    def signatures(self, refs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
        if not refs or not self.lake.exists("dedup_clusters"):
            return {}
        q = pa.table({"doc_id": [d for _, d in refs]})
        sql = (f"SELECT c.doc_id, c.signature FROM dedup_clusters c JOIN q USING (doc_id) "
               f"WHERE c.batch_id IN {_in_list(b for b, _ in refs)} AND c.minhash_config = ?")
        with self.lake.connect(tables=["dedup_clusters"]) as con:
            con.register("q", q)
            found = con.sql(sql, params=[self.band_config]).to_arrow_table()
        # As Arrow, not Python lists: a batch against a large index reads tens of thousands of
        # signatures (62k in bench/dedup_scale.py at 100k documents, 6 s as lists). Stored as int64
        # (Delta has no unsigned types); the values are 0 .. 2^32-1.
        sigs = found.column("signature").combine_chunks() if found.num_rows else None
        out: dict[str, np.ndarray] = {}
        if sigs is not None:
            offsets = sigs.offsets.to_numpy()
            values = sigs.values.to_numpy(zero_copy_only=False).astype(np.uint32)
            for i, d in enumerate(found.column("doc_id").to_pylist()):
                out[d] = values[offsets[i]:offsets[i + 1]]
        self.rows_read["signatures"] += len(out)
        return out

    def texts(self, refs: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
        if not refs or not self.lake.exists(self.text_table):
            return {}
        q = pa.table({"doc_id": [d for _, d in refs]})
        sql = (f"SELECT t.doc_id, t.text, t.lang FROM {self.text_table} t JOIN q USING (doc_id) "
               f"WHERE t.batch_id IN {_in_list(b for b, _ in refs)}")
        with self.lake.connect(tables=[self.text_table]) as con:
            con.register("q", q)
            out = {d: (t or "", lg or "unknown") for d, t, lg in con.execute(sql).fetchall()}
        self.rows_read["texts"] += len(out)
        return out

    def paragraph_counts(self, keys: np.ndarray) -> dict[int, int]:
        if keys.size == 0 or not self.lake.exists("dedup_paragraphs"):
            return {}
        files = self._kind_files("dedup_paragraphs", "")
        if files is not None:
            out: dict[int, int] = {}
            for k, n, b in self._matching_rows(files, keys, ["n_docs", "batch_id"], key="para_key") if files else []:
                if b < self.batch_id:
                    out[int(k)] = out.get(int(k), 0) + int(n)
            self.rows_read["paragraphs"] += len(out)
            return out
        buckets = sorted(set(bucket_of(keys).tolist()))
        q = pa.table({"key": pa.array(np.asarray(keys, dtype=np.int64))})
        sql = ("SELECT p.para_key, sum(p.n_docs)::BIGINT FROM dedup_paragraphs p JOIN q ON q.key = p.para_key "
               f"WHERE p.batch_id < ? AND p.bucket IN ({', '.join(map(str, buckets))}) GROUP BY 1")
        with self.lake.connect(tables=["dedup_paragraphs"]) as con:
            con.register("q", q)
            out = {int(k): int(c) for k, c in con.execute(sql, [self.batch_id]).fetchall()}
        self.rows_read["paragraphs"] += len(out)
        return out

    def merges(self) -> list[ClusterMerge]:
        """Every cluster change recorded by earlier batches, in batch order (read once per batch)."""
        if self._merges is None:
            self._merges = read_merges(self.lake, before_batch=self.batch_id)
        return self._merges

    def cluster_sizes(self, cluster_ids: list[str]) -> dict[str, int]:
        if not cluster_ids or not self.lake.exists("dedup_clusters"):
            return {}
        q = pa.table({"cluster_id": cluster_ids})
        sql = ("SELECT c.cluster_id, count(*) FROM dedup_clusters c JOIN q USING (cluster_id) "
               "WHERE c.batch_id < ? GROUP BY 1")
        with self.lake.connect(tables=["dedup_clusters"]) as con:
            con.register("q", q)
            return {c: int(n) for c, n in con.execute(sql, [self.batch_id]).fetchall()}


def index_batches(batch_id: str, band_config: str, out: BatchOutcome, chunk: int = 65536) -> Iterator[pa.RecordBatch]:
    """The batch's `dedup_index` rows as Arrow record batches (schema DEDUP_INDEX)."""
    from goldpan.lake.schemas import DEDUP_INDEX

    rows = out.index_rows
    keys = np.asarray(rows.keys, dtype=np.int64)
    configs = {KIND_URL: URL_CONFIG, KIND_SHA1: SHA1_CONFIG, KIND_BAND: band_config, KIND_ANCHOR: band_config}
    for s in range(0, len(keys), chunk):
        e = min(len(keys), s + chunk)
        k = keys[s:e]
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(bucket_of(k)),
                pa.array(rows.kinds[s:e], pa.string()),
                pa.array(k),
                pa.array(rows.doc_ids[s:e], pa.string()),
                pa.array(rows.cluster_ids[s:e], pa.string()),
                pa.array([batch_id] * (e - s), pa.string()),
                pa.array([configs[x] for x in rows.kinds[s:e]], pa.string()),
            ],
            schema=DEDUP_INDEX,
        )


def paragraph_batches(batch_id: str, out: BatchOutcome, chunk: int = 65536) -> Iterator[pa.RecordBatch]:
    """The batch's `dedup_paragraphs` rows (distinct-document count per paragraph key)."""
    from goldpan.lake.schemas import DEDUP_PARAGRAPHS

    items = sorted(out.paragraph_counts.items())
    for s in range(0, len(items), chunk):
        part = items[s : s + chunk]
        k = np.array([x[0] for x in part], dtype=np.int64)
        yield pa.RecordBatch.from_arrays(
            [pa.array(bucket_of(k)), pa.array(k), pa.array([x[1] for x in part], pa.int64()),
             pa.array([batch_id] * len(part), pa.string())],
            schema=DEDUP_PARAGRAPHS,
        )


MERGE_FIELDS = ["cluster_id", "into_cluster_id", "old_representative", "new_representative",
                "new_representative_batch", "via_doc_id", "linked_to", "similarity", "match", "reason",
                "representative_rule"]


def merge_batches(batch_id: str, out: BatchOutcome) -> Iterator[pa.RecordBatch]:
    """The batch's `dedup_merges` rows (schema DEDUP_MERGES)."""
    from goldpan.lake.schemas import DEDUP_MERGES

    rows = []
    for seq, m in enumerate(out.merges):
        m = with_batch(m, batch_id)
        rows.append({"batch_id": batch_id, "seq": seq, **{f: getattr(m, f) for f in MERGE_FIELDS}})
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=DEDUP_MERGES)


def read_merges(lake: Lake, before_batch: str | None = None) -> list[ClusterMerge]:
    """Recorded cluster changes (of batches sorting before `before_batch`, or all), in order."""
    if not lake.exists("dedup_merges"):
        return []
    where, params = ("WHERE batch_id < ?", [before_batch]) if before_batch is not None else ("", [])
    with lake.connect(tables=["dedup_merges"]) as con:
        rows = con.execute(f"SELECT {', '.join(MERGE_FIELDS)} FROM dedup_merges {where} ORDER BY batch_id, seq",
                           params).fetchall()
    return [ClusterMerge(**dict(zip(MERGE_FIELDS, r, strict=True))) for r in rows]


def partition_file_counts(lake: Lake, table: str) -> dict[str, int]:
    """Number of live Parquet files per partition directory of `table` (empty when absent)."""
    dt = lake.table(table)
    if dt is None:
        return {}
    counts: dict[str, int] = {}
    for uri in dt.file_uris():
        part = uri.rsplit("/", 1)[0]
        counts[part] = counts.get(part, 0) + 1
    return counts


def index_writer_properties():
    """Parquet settings of dedup_index files: small row groups (`INDEX_ROW_GROUP_ROWS`), plain int64
    keys (random 64-bit keys gain nothing from a dictionary)."""
    from deltalake import ColumnProperties, WriterProperties

    return WriterProperties(max_row_group_size=INDEX_ROW_GROUP_ROWS,
                            column_properties={"key": ColumnProperties(dictionary_enabled=False)})


def compact_if_fragmented(lake: Lake, table: str, max_files: int, commit_metadata=None,
                          writer_properties=None) -> dict[str, int]:
    """Bin-pack `table`'s small files (Delta `optimize.compact`) once a partition holds more than
    `max_files` files; 0 disables it.

    Why: every batch adds one file per partition, and a lookup scans the key column of every file
    of its kind. What a lookup costs per file (opening it, parsing its footer, one scan task) is
    more than reading its keys, so without compaction the lookup cost grows with the number of
    batches, not with the number of keys (1M documents in 100 batches = 1,600 band files). The
    rows and their values do not change, so lookups (which sort what they return) give the same
    answer before and after. Replaced files stay on disk until `vacuum`, as Delta time travel
    needs them.
    """
    counts = partition_file_counts(lake, table)
    if max_files <= 0 or not counts or max(counts.values()) <= max_files:
        return {}
    from deltalake import CommitProperties

    dt = lake.table(table)
    assert dt is not None
    meta = {k: str(v) for k, v in (commit_metadata or {}).items()}
    res = dt.optimize.compact(commit_properties=CommitProperties(custom_metadata=meta) if meta else None,
                              writer_properties=writer_properties)
    return {f"{table}_files_removed": int(res.get("numFilesRemoved", 0)),
            f"{table}_files_added": int(res.get("numFilesAdded", 0))}


def write_index(lake: Lake, batch_id: str, band_config: str, out: BatchOutcome, commit_metadata=None,
                compact_files: int = 16, keyruns_on: bool = True, run_fanin: int = 4) -> dict[str, int]:
    """Replace the batch's rows in `dedup_index`, `dedup_paragraphs` and `dedup_merges` (idempotent
    per batch), compact the index tables once a partition holds more than `compact_files` files,
    then bring the key runs (`keyruns`, merged per `run_fanin`) to the index's new version.

    This is the one place that commits what a batch adds to the dedup index: a scheduler that must
    serialise or re-check index commits of overlapping runs wraps this function. A crash after the
    Delta commits and before the runs' update leaves runs that lookups recognise as behind (they
    read this batch's rows from the table) and that the next call brings up to date."""
    import uuid

    from goldpan.lake import batch_predicate
    from goldpan.lake.schemas import DEDUP_INDEX, DEDUP_MERGES, DEDUP_PARAGRAPHS

    pred = batch_predicate("batch_id", batch_id)
    token = uuid.uuid4().hex
    rows = list(index_batches(batch_id, band_config, out))  # written, then the batch's key run
    w1 = lake.write("dedup_index", rows, DEDUP_INDEX, predicate=pred,
                    partition_by=["kind", "bucket"],
                    commit_metadata={**(commit_metadata or {}), keyruns.WRITE_TOKEN: token},
                    writer_properties=index_writer_properties())
    w2 = lake.write("dedup_paragraphs", paragraph_batches(batch_id, out), DEDUP_PARAGRAPHS, predicate=pred,
                    partition_by=["bucket"], commit_metadata=commit_metadata)
    w3 = lake.write("dedup_merges", merge_batches(batch_id, out), DEDUP_MERGES, predicate=pred,
                    commit_metadata=commit_metadata)
    res = {"dedup_index_rows": w1.rows, "dedup_index_version": w1.version,
           "dedup_paragraphs_rows": w2.rows, "dedup_paragraphs_version": w2.version,
           "dedup_merges_rows": w3.rows}
    res.update(compact_if_fragmented(lake, "dedup_index", compact_files, commit_metadata, index_writer_properties()))
    res.update(compact_if_fragmented(lake, "dedup_paragraphs", compact_files, commit_metadata))
    if keyruns_on and lake.is_local:
        res.update(keyruns.update(lake, run_fanin, own=(batch_id, token, lambda: rows)))
    return res
