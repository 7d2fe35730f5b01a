"""Runs whose process was killed: marked failed, their batch rows failed, their unfinished files dropped.

Dagster marks a run failed when its process reports the failure; a process killed with SIGKILL (or
a machine that lost power) reports nothing, and the run stays STARTED in the UI forever. Dagster's
run monitoring cannot help here: the default run launcher (`dagster dev`, `make ui`) and in-process
runs (`make demo`) have no worker health check. So goldpan checks itself, at the start of the demo
and of `make ui`, and on a sensor tick while the instance runs:

* a run in progress whose process (the pid of its RUN_START event, on this machine) no longer exists,
  or is a different process started later under a reused pid, is reported failed;
* its batch (the run's partition) in the `batches` registry, if still `running`, becomes `failed`, so the pages asset and
  `goldpan` see that the batch did not finish (committed crawl chunks stay: a re-run resumes them);
* data files it wrote but never committed (Parquet files under a local lake table that no Delta log
  entry references, written after the run started) are deleted, but only when no other run is in
  progress, because a live writer's files are also uncommitted until its commit lands.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from goldpan.lake import Lake
from resources import LakeResource

IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
PID_REUSE_SLACK_S = 2.0


@dataclass
class Recovery:
    failed_runs: list[str] = field(default_factory=list)
    failed_batches: list[str] = field(default_factory=list)
    dropped_files: list[str] = field(default_factory=list)


def process_alive(pid: int, started_at: float) -> bool:
    """Whether `pid` is still the process that started at `started_at` (epoch seconds)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":  # killed, not yet reaped by its parent
            return False
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime"))
        born = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return born <= started_at + PID_REUSE_SLACK_S
    except (OSError, ValueError, IndexError, StopIteration):
        return True  # no /proc: trust kill(0)


def _run_start(instance: dg.DagsterInstance, run_id: str) -> tuple[int | None, float | None]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    if not records:
        return None, None
    entry = records[0].event_log_entry
    return (entry.dagster_event.pid if entry.dagster_event else None), entry.timestamp


def dead_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, float]]:
    """(run, start time) of runs in progress whose process is gone."""
    out = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        pid, started = _run_start(instance, run.run_id)
        if pid is None or started is None:
            continue  # not started yet (STARTING): Dagster's own start timeout covers it
        if not process_alive(pid, started):
            out.append((run, started))
    return out


def recover(instance: dg.DagsterInstance, lake: Lake | None = None) -> Recovery:
    """Mark dead runs failed and clean up after them (see the module docstring)."""
    result = Recovery()
    dead = dead_runs(instance)
    for run, _started in dead:
        instance.report_run_failed(run, "goldpan: the run's process is gone (killed); marked failed at the next "
                                        "start. Committed Delta versions stay; uncommitted files are dropped.")
        result.failed_runs.append(run.run_id)
    if lake is None or not dead:
        return result
    result.failed_batches = _fail_batches(lake, [r.tags.get("dagster/partition") for r, _ in dead])
    still_running = instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS), limit=1)
    if not still_running and lake.is_local:
        result.dropped_files = drop_uncommitted(lake, since=min(s for _, s in dead))
    return result


def _fail_batches(lake: Lake, batches: list[str | None]) -> list[str]:
    """The dead runs' batches (their partition keys) still `running` in the registry become `failed`."""
    from goldpan.crawl.batch_table import TABLE

    keys = [b for b in batches if b]
    if not keys or not lake.exists(TABLE):
        return []
    ids = ", ".join("'" + b.replace("'", "''") + "'" for b in keys)
    where = f"state = 'running' AND batch_id IN ({ids})"
    rows = list(lake.iter_rows(f"SELECT batch_id FROM {TABLE} WHERE {where}", tables=[TABLE]))
    if rows:
        lake.table(TABLE).update(updates={"state": "'failed'"}, predicate=where)
    return [r["batch_id"] for r in rows]


def _committed_paths(table_dir: Path) -> set[str]:
    """Every data file any commit in the log added or removed (relative paths, decoded)."""
    from urllib.parse import unquote

    paths: set[str] = set()
    for commit in sorted((table_dir / "_delta_log").glob("*.json")):
        for line in commit.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            action = json.loads(line)
            for kind in ("add", "remove"):
                if kind in action:
                    paths.add(unquote(action[kind]["path"]))
    return paths


def drop_uncommitted(lake: Lake, since: float, tables: Iterable[str] | None = None) -> list[str]:
    """Delete Parquet files written at or after `since` that no Delta commit references."""
    dropped = []
    root = Path(lake.root)
    for name in tables or lake.list_tables():
        table_dir = root / name
        dt = lake.table(name)
        if dt is None:
            continue
        known = _committed_paths(table_dir) | {unquote_rel(u, table_dir) for u in dt.file_uris()}
        for f in table_dir.rglob("*.parquet"):
            rel = f.relative_to(table_dir).as_posix()
            if rel.startswith("_delta_log") or rel in known:
                continue
            if f.stat().st_mtime >= since:
                f.unlink()
                dropped.append(f"{name}/{rel}")
    return dropped


def unquote_rel(uri: str, table_dir: Path) -> str:
    from urllib.parse import unquote

    path = unquote(uri.removeprefix("file://"))
    try:
        return Path(path).resolve().relative_to(table_dir.resolve()).as_posix()
    except ValueError:
        return path


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process was killed as failed (Dagster's default launcher cannot tell), "
    "fails their batches and drops the files they never committed.",
)
def dead_run_sensor(context: dg.SensorEvaluationContext, lake: LakeResource):
    res = recover(context.instance, lake.lake())
    if not res.failed_runs:
        return dg.SkipReason("no run in progress has lost its process")
    context.log.info(f"marked failed: {res.failed_runs}; batches failed: {res.failed_batches}; "
                     f"uncommitted files dropped: {len(res.dropped_files)}")
    return dg.SkipReason(f"marked {len(res.failed_runs)} dead run(s) failed")


def main() -> int:
    """`python -m assets.recovery`: run the check once against $DAGSTER_HOME and $GOLDPAN_LAKE."""
    with dg.DagsterInstance.get() as instance:
        root = os.environ.get("GOLDPAN_LAKE", "lake")
        res = recover(instance, Lake(root) if os.path.isdir(root) or "://" in root else None)
    for run_id in res.failed_runs:
        print(f"run {run_id} lost its process: marked failed")
    if res.failed_batches or res.dropped_files:
        print(f"batches marked failed: {res.failed_batches}; uncommitted files dropped: {len(res.dropped_files)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
