"""The WARC import as tasks over files: each worker reads one WARC/WET/ARC/WACZ file from where it lives
(local path or object store) and writes its `pages` rows as a Parquet part; the driver commits once.

Why: on a cluster the driver must not carry the page bodies (issue "Scale out", point 4). The driver
lists the inputs (goldpan.warc.stage), hands each file to a task (`import_file`) and gets back only
what a file's rows need from the others: its counters, its originals by payload digest and its
held-back revisit rows (no bodies) -- goldpan.warc.revisits. Merged in file order these are the
index one pass over the files builds, so one more task (`resolve_task`) turns the revisits into rows
exactly as `import_warc_batch` does, rereading only the originals it needs. The driver then makes one
Delta commit that replaces the batch's partition of `pages` with every part (goldpan.lake.parts): a
killed import commits nothing, so there is nothing to resume and a rerun rewrites the batch whole.

Identical rows to `import_warc_batch`: page ids depend on the batch and the record only, rows of a
file depend on that file only (and the takedown list), and the revisit index is merged in file
order. The one thing a file cannot know alone is whether an id already came from an earlier file
(the local import keeps the first copy: the same file listed under two names, or two files sharing
record ids). Each task returns a 64-bit key per id; when two files share one, the driver drops the
parts (never committed) and imports the batch in this process instead, so the rows stay identical.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goldpan.lake.delta import Lake, WriteResult
from goldpan.lake.parts import PartFile, PartTarget, PartWriter, commit_parts
from goldpan.lake.schemas import PAGES
from goldpan.recipe import WarcSection
from goldpan.warc.importer import WarcStats, page_record_batches, resolve_revisits, rows_from_file
from goldpan.warc.revisits import RevisitIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportJob:
    """What every task of one import needs (small, picklable): the batch, the recipe's `warc` section
    with its storage options, the takedown lookup, and where the parts go."""

    batch_id: str
    cfg: WarcSection
    target: PartTarget
    takedowns: Callable[[str], str | None] | None = None


@dataclass
class FilePart:
    """What a task hands back: its part (None when the file had no page rows) and small facts, never rows."""

    index: int
    part: PartFile | None
    stats: WarcStats
    #: 64-bit keys of the page ids written (the driver checks no id came from two files)
    id_keys: np.ndarray
    #: originals by payload digest and revisit rows waiting for them (no bodies)
    revisits: RevisitIndex = field(default_factory=RevisitIndex)


def id_key(page_id: str) -> int:
    """A page id (hex sha1 prefix) as a signed 64-bit key: equal ids give equal keys."""
    return int(page_id[:16], 16) - (1 << 63)


def _write_rows(rows: Iterable[dict[str, Any]], target: PartTarget, label: str, stats: WarcStats
                ) -> tuple[PartFile | None, np.ndarray]:
    """Stream rows into one part, in record batches of the importer's size, skipping an id seen
    before in this part (as the local import's `fresh` does) and counting the rest into `stats`."""
    writer = PartWriter(target, label)
    seen: set[str] = set()

    def fresh() -> Iterator[dict[str, Any]]:
        for row in rows:
            if row["page_id"] not in seen:
                seen.add(row["page_id"])
                stats.count(row)
                yield row

    for batch in page_record_batches(fresh()):
        writer.write(batch)
    return writer.close(), np.array(sorted(id_key(p) for p in seen), dtype=np.int64)


def import_file(uri: str, job: ImportJob, index: int) -> FilePart:
    """In the worker: one file's page rows into one part; revisits held back for `resolve_task`."""
    stats = WarcStats()
    revisits = RevisitIndex()
    rows = rows_from_file(uri, job.batch_id, job.cfg, stats, takedowns=job.takedowns, revisits=revisits)
    part, keys = _write_rows(rows, job.target, f"{index:05d}", stats)
    return FilePart(index, part, stats, keys, revisits)


def resolve_task(revisits: RevisitIndex, job: ImportJob, index: int) -> FilePart:
    """In the worker: the held-back revisits of the whole import (merged in file order) as rows."""
    stats = WarcStats()
    rows = resolve_revisits(revisits, job.batch_id, job.cfg, stats, job.takedowns)
    part, keys = _write_rows(rows, job.target, f"{index:05d}-revisits", stats)
    return FilePart(index, part, stats, keys, RevisitIndex())


def _rows_of(p: FilePart) -> int:
    return p.stats.rows


def _shared_ids(parts: list[FilePart]) -> int:
    keys = np.concatenate([p.id_keys for p in parts]) if parts else np.empty(0, np.int64)
    return int(keys.size - np.unique(keys).size)


def import_on_workers(lake: Lake, engine, uris: list[str], batch_id: str, cfg: WarcSection, *,
                      takedowns: Callable[[str], str | None] | None = None,
                      commit_metadata: dict[str, str] | None = None) -> tuple[WarcStats, WriteResult] | None:
    """Import `uris` as `batch_id` with one `engine.map_tasks` task per file and one commit.

    Returns None (nothing committed, the parts left as orphans) when two files hold the same page
    id: the caller then imports in process, which keeps the first copy as the local import does."""
    target = PartTarget(lake.uri("pages"), lake.storage_options, PAGES, {"batch_id": batch_id})
    job = ImportJob(batch_id, cfg, target, takedowns)
    done = dict(engine.map_tasks(import_file, uris, job, rows=_rows_of))
    parts = [done[i] for i in range(len(uris))]
    merged = RevisitIndex()
    for p in parts:  # file order: the first capture of a payload is the original, as in one pass
        merged.absorb(p.revisits)
    if merged:
        parts += [r for _, r in engine.map_tasks(resolve_task, [merged], job, rows=_rows_of)]
    if (shared := _shared_ids(parts)) > 0:
        log.warning("batch %s: %d page ids occur in more than one file; importing in process", batch_id, shared)
        return None
    stats = WarcStats()
    for p in parts:
        stats.merge(p.stats)
    files = [p.part for p in parts if p.part is not None]
    written = commit_parts(lake, "pages", sorted(files, key=lambda f: f.path), PAGES, mode="overwrite",
                           partition_by=["batch_id"], replace={"batch_id": batch_id},
                           commit_metadata=commit_metadata)
    return stats, written


def runs_on_workers(engine) -> bool:
    """Whether `engine` runs tasks that read and write the lake themselves (Ray)."""
    return engine is not None and hasattr(engine, "map_tasks")

