"""Work units finer than files: runs of Parquet row groups handed out largest first, for dynamic scheduling.

Why: a sliced stage's input files follow how the previous stage cut its work (the WARC import writes
one part per WARC shard, each later Ray stage one part per slice). When one file's documents cost
more (longer pages, a language with a slower pipeline), a slice made of whole files sets the stage's
wall time while the other workers wait. Cutting the batch's partition into more units than workers,
each a run of whole row groups (a Parquet file is written one row group per record batch), lets Ray
hand the next unit to whichever worker is free, so the slowest unit is small.

A unit is a tuple of `FileRange`s: a file of the table (relative path, as in the Delta log) and a
half-open range of its rows that starts and ends on row-group boundaries, so a scan reads only those
row groups (DuckDB prunes row groups on `file_row_number`; on object storage the Arrow dataset is cut
to those row groups). Every row of the partition is in exactly one unit: the same rows whatever the cut.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import NamedTuple

import pyarrow.parquet as pq

from goldpan.lake.ranges import FileRange


class RowGroup(NamedTuple):
    path: str
    lo: int
    hi: int
    nbytes: int  # uncompressed size: a proxy for the work its rows cost


def row_groups(table_uri: str, storage_options, paths: Sequence[str]) -> list[RowGroup]:
    """Every row group of `paths` (relative to the table) in file then row order, from the footers."""
    from goldpan.lake.parts import table_filesystem

    fs, root = table_filesystem(table_uri, storage_options)
    out: list[RowGroup] = []
    for path in paths:
        md = pq.read_metadata(f"{root.rstrip('/')}/{path}", filesystem=fs)
        start = 0
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            out.append(RowGroup(path, start, start + rg.num_rows, rg.total_byte_size))
            start += rg.num_rows
    return out


def unit_shares(units: int, workers: int | None = None) -> list[float]:
    """Each unit's share of the bytes, in the order tasks are handed out: equal, or with `workers`
    (fewer than `units`) *factoring*: rounds of one unit per worker, each round half the last's size
    (1/4, 1/4, 1/8, 1/8, ... for 2 workers), scaled to sum to 1.

    Why: bytes are only a proxy for a unit's cost (a page in a slow language costs several times
    another of its size), so equal units end unevenly, and the stage waits for the last one: on the
    6,000 real pages, extract's 8 equal units took 2.9-5.2 s each on 2 Ray workers and one worker sat
    idle for the last 1.1 s. Handing the big units out first and the small ones last keeps the idle
    tail to a fraction of the smallest unit, with the same number of tasks (Hummel, Schonberg and
    Flynn, "Factoring: a method for scheduling parallel loops", 1992)."""
    n = max(1, units)
    if not workers or workers <= 1 or n <= workers:
        return [1.0 / n] * n
    raw = [0.5 ** (i // workers + 1) for i in range(n)]
    total = sum(raw)
    return [r / total for r in raw]


def cut_units(groups: Sequence[RowGroup], units: int, workers: int | None = None) -> tuple[tuple[FileRange, ...], ...]:
    """`groups` (in file and row order) cut into at most `units` contiguous runs whose bytes follow
    `unit_shares` (about equal without `workers`, largest first with them); a run's rows of one file
    become one FileRange (the whole file when it spans all of it)."""
    if not groups:
        return ()
    total = sum(g.nbytes or 1 for g in groups)
    rows_in = {}
    for g in groups:
        rows_in[g.path] = max(rows_in.get(g.path, 0), g.hi)
    shares = unit_shares(units, workers)
    bounds, acc_share = [], 0.0
    for share in shares[:-1]:
        acc_share += share
        bounds.append(acc_share * total)
    # a row group goes to the unit its middle byte falls in: contiguous, monotone, sized by `shares`
    runs: list[list[RowGroup]] = [[] for _ in shares]
    acc = 0
    for g in groups:
        w = g.nbytes or 1
        runs[bisect.bisect_right(bounds, acc + w / 2)].append(g)
        acc += w
    runs = [r for r in runs if r]
    out = []
    for run in runs:
        ranges: list[FileRange] = []
        for g in run:
            if ranges and ranges[-1].path == g.path and ranges[-1].hi == g.lo:
                ranges[-1] = FileRange(g.path, ranges[-1].lo, g.hi)
            else:
                ranges.append(FileRange(g.path, g.lo, g.hi))
        out.append(tuple(FileRange(r.path) if r.lo == 0 and r.hi == rows_in[r.path] else r for r in ranges))
    return tuple(out)
