"""The WARC stage's entry point: WARC/WET files imported as one batch into `pages`, recorded in `batches`.

`run` resolves the recipe's (or the run's) file names to URIs and checks every one is readable before
anything is written (a refusal leaves no trace of the batch), marks the batch running, imports it in
resumable chunks (goldpan.warc.importer) and marks it done with its counters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from goldpan.crawl.batch_table import WARC, record_batch
from goldpan.lake import Lake
from goldpan.recipe import WarcSection
from goldpan.warc.importer import WarcStats, import_warc_batch
from goldpan.warc.inputs import WarcInputError, check_sources
from goldpan.warc.shards import import_on_workers, runs_on_workers
from goldpan.warc.sources import expand_sources


@dataclass(frozen=True)
class WarcRunResult:
    uris: list[str]
    stats: WarcStats
    #: where the rows were read and written: "workers" (one task per file, goldpan.warc.shards) or "driver"
    lake_io: str = "driver"
    #: the engine that ran the import, and each worker's rows and busy seconds (Ray: one task per file)
    engine: str = "inprocess"
    workers: int = 1
    per_worker: dict[str, dict[str, float]] = field(default_factory=dict)


def import_config(section: WarcSection, storage_options: Mapping[str, str]) -> WarcSection:
    """The recipe's `warc` section with the storage options resolved (its own, else the lake's)."""
    return section.model_copy(update={"storage_options": dict(storage_options)})


def run(
    lake: Lake,
    section: WarcSection,
    batch_id: str,
    files: Sequence[str],
    *,
    recipe_id: str,
    run_id: str | None = None,
    takedowns: Callable[[str], str | None] | None = None,
    progress: Callable[[WarcStats], None] | None = None,
    commit_metadata: Mapping[str, str] | None = None,
    restart: bool = False,
    engine=None,
) -> WarcRunResult:
    """Import `files` (paths, globs or URIs) as `batch_id`; raises WarcInputError before the batch is
    recorded when no file matches or one cannot be read. On an engine whose workers reach the lake
    (Ray), each file is read and written by a task and this process makes one commit
    (goldpan.warc.shards); otherwise this process imports in resumable chunks. Same rows either way."""
    storage = dict(section.storage_options) or lake.storage_options or {}
    uris = expand_sources(list(files), storage)
    if not uris:
        raise WarcInputError(f"no WARC/WET file matches {list(files)}")
    check_sources(uris, storage)
    started = datetime.now(UTC)
    record_batch(lake, batch_id, kind=WARC, sources=uris, recipe_id=recipe_id, state="running", run_id=run_id,
                 started_at=started)  # fmt: skip
    cfg = import_config(section, storage)
    tally_before = engine.tally.snapshot() if runs_on_workers(engine) else {}
    on_workers = import_on_workers(lake, engine, uris, batch_id, cfg, takedowns=takedowns,
                                   commit_metadata=dict(commit_metadata or {})) if runs_on_workers(engine) else None
    if on_workers is not None:
        stats = on_workers[0]
        if progress is not None:
            progress(stats)
    else:
        stats = import_warc_batch(lake, uris, batch_id, cfg, takedowns=takedowns, progress=progress,
                                  commit_metadata=dict(commit_metadata or {}), restart=restart)  # fmt: skip
    record_batch(lake, batch_id, kind=WARC, sources=uris, recipe_id=recipe_id, state="done", stats=stats.as_dict(),
                 run_id=run_id, started_at=started)  # fmt: skip
    if on_workers is None:
        return WarcRunResult(uris, stats)
    return WarcRunResult(uris, stats, "workers", engine.name, engine.workers, engine.tally.since(tally_before))
