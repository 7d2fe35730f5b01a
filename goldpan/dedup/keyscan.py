"""Key probes into local Parquet files: read the int64 key column only, and the other columns only
for the row groups that hold a match.

Why: a batch's band and anchor keys are random 64-bit values, ~1 % of which hit an index of 1M
documents, so a lookup must look at every index key once, but it needs the string columns
(doc_id, cluster_id, batch_id, config) of a few thousand rows. DuckDB's semi-join decodes the
selected string columns of every row before the join, which made the lookup grow with the index
(2.3x from 10k to 200k documents). Here the per-index-row work is a decode of one int64 and a
lookup in a byte map of the probe keys' top bits (no hashing, no sort of the index keys); only the
~1 % of keys that pass the byte map go through a binary search in the sorted probes, and string
columns are decoded only for the matching row groups. `store.write_index` writes the index with
small row groups (`INDEX_ROW_GROUP_ROWS`) so that a match costs a few thousand rows of strings,
not a whole file's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from goldpan.dedup.shingles import sorted_unique

# Bits of the probe-key byte map: 2^26 bytes (64 MiB). With K probe keys, a non-matching index key
# passes the map with probability ~K / 2^26 (0.8 % for a 10k-document batch's 540k band keys).
MAP_BITS = 26
_SHIFT = np.uint64(64 - MAP_BITS)


class ProbeSet:
    """Sorted unique probe keys plus their top-bit byte map (built once per lookup)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = sorted_unique(np.asarray(keys, dtype=np.int64))  # numpy 2's hash-based np.unique is ~10x slower
        self.map = np.zeros(1 << MAP_BITS, dtype=bool)
        self.map[(self.keys.view(np.uint64) >> _SHIFT).astype(np.intp)] = True

    def member_rows(self, column: np.ndarray) -> np.ndarray:
        """Positions of `column`'s values that are probe keys, ascending."""
        if column.size == 0 or self.keys.size == 0:
            return np.empty(0, np.intp)
        cand = np.flatnonzero(self.map[(column.view(np.uint64) >> _SHIFT).astype(np.intp)])
        if cand.size == 0:
            return cand
        vals = column[cand]
        at = np.searchsorted(self.keys, vals)
        np.minimum(at, self.keys.size - 1, out=at)
        return cand[self.keys[at] == vals]


def _int64_column(t: pa.Table, name: str) -> np.ndarray:
    col = t.column(name)
    return col.to_numpy() if col.num_chunks == 1 else np.concatenate([c.to_numpy() for c in col.chunks]) \
        if col.num_chunks else np.empty(0, np.int64)


_VIEW_TYPES = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}


def _without_views(t: pa.Table) -> pa.Table:
    """`t` with string_view/binary_view columns as plain string/binary. Why: files that deltalake
    rewrote (a takedown's delete, a compaction) record Utf8View in their Arrow schema, and pyarrow
    has no `take` kernel for view types."""
    if not any(f.type in _VIEW_TYPES for f in t.schema):
        return t
    return t.cast(pa.schema([f.with_type(_VIEW_TYPES.get(f.type, f.type)) for f in t.schema]))


def matching_rows(files: Sequence[str], probes: ProbeSet, cols: list[str], key: str = "key") -> Iterator[tuple]:
    """(key, *cols) of every row of `files` whose `key` is a probe key, file by file."""
    for path in files:
        pf = pq.ParquetFile(path, memory_map=True)
        keys = _int64_column(pf.read(columns=[key]), key)
        rows = probes.member_rows(keys)
        if rows.size == 0:
            continue
        md = pf.metadata
        starts = np.cumsum([0] + [md.row_group(g).num_rows for g in range(md.num_row_groups)])
        groups = np.searchsorted(starts, rows, side="right") - 1
        wanted = np.unique(groups)
        part = _without_views(pf.read_row_groups(wanted.tolist(), columns=cols))
        # position of each matching row inside the concatenation of the wanted row groups
        base = np.cumsum(np.concatenate([[0], starts[wanted + 1] - starts[wanted]]))[:-1]
        local = rows - starts[groups] + base[np.searchsorted(wanted, groups)]
        picked = part.take(pa.array(local))
        values = [picked.column(c).to_pylist() for c in cols]
        yield from zip(keys[rows].tolist(), *values, strict=True)
