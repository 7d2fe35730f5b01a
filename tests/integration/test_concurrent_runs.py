"""Batches processed at the same time give the same corpus as one after the other (issue 22).

Four batches of real documentation pages (bench/realdocs.py: Debian packages in English, Chinese,
Japanese and German, downloaded once into a cache shared with the real-size test). Each later batch
holds copies of pages of the batch before it under mirror URLs, so its dedup must see that batch.

They are processed three ways, each on a fresh Dagster instance and lake:
- one `full_batch_job` run after the other, in batch order (two runs per process);
- the first two batches as two runs started at the same moment, in two processes;
- one backfill of all four (`dagster job backfill`), which the real `dagster-daemon` launches through
  the instance's run queue (`instance/dagster.yaml`): four runs at once in separate processes, as a
  backfill launched from the UI runs. `assets/ordering.py` keeps their cross-batch steps in batch order.

Every decision table must be identical (bench/concurrent_runs.py: the same harness, with timings, on
bigger batches), and the funnel invariant must hold.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel

# Ten real runs of the whole graph (four one after the other, two and four at once): ~6 min on an idle 2-core machine.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(3000)]

REPO = Path(__file__).resolve().parents[2]
PER_BATCH, COPIES = 20, 5
# Two Dagster steps at once in every run (one engine worker each), as a recipe with
# `engine.concurrent_steps: 2` runs them: independent steps of a run (GX suites, consent, variants)
# share the run's threads, so the runs also exercise that setting, and the ten runs took 262 s
# instead of 308 s (module alone, 2-core machine).
STEPS = 2


def _harness():
    """bench/concurrent_runs.py: real batches, the sequential and the queued (daemon) runs, the compared tables."""
    if "concurrent_runs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("concurrent_runs", REPO / "bench" / "concurrent_runs.py")
        mod = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        sys.modules["concurrent_runs"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["concurrent_runs"]


@pytest.fixture(scope="module")
def queued(tmp_path_factory):
    h = _harness()
    work = tmp_path_factory.mktemp("queued")
    try:
        batches = h.real_batches(work / "warc", PER_BATCH, n_batches=4, copies=COPIES)
    except h._realdocs().PackageUnavailable as exc:
        pytest.skip(f"Debian package mirror unreachable: {exc}")
    recipe = REPO / "recipes" / "warc.yaml"
    h.prepare(work / "seq_home", work / "seq_lake", batches, recipe)
    seq_env = h.env_for(work / "seq_home", work / "seq_lake", recipe, steps=STEPS)
    # one process per pair of sequential runs (a process start-up and warm-up fewer each): the first
    # two batches, the reference for two batches at once, then the last two
    _, seq_failed = h.run_sequential(seq_env, batches[:2], one_process=True)
    after_two = h.compared_tables(work / "seq_lake")
    seq_failed |= h.run_sequential(seq_env, batches[2:], one_process=True)[1]
    # two batches started at the same moment, each in its own process
    h.prepare(work / "two_home", work / "two_lake", batches[:2], recipe)
    _, two_failed = h.run_at_once(h.env_for(work / "two_home", work / "two_lake", recipe, steps=STEPS), batches[:2])
    # four batches as one backfill through the run queue
    h.prepare(work / "q_home", work / "q_lake", batches, recipe)
    _, runs = h.run_backfill(h.env_for(work / "q_home", work / "q_lake", recipe, steps=STEPS), batches, timeout_s=2400)
    return work, batches, seq_failed, runs, (after_two, two_failed)


def test_two_real_batches_started_at_once_decide_as_sequential_runs(queued):
    work, batches, seq_failed, _, (after_two, two_failed) = queued
    assert two_failed == {b: seq_failed[b] for b, _ in batches[:2]}
    two = _harness().compared_tables(work / "two_lake")
    assert any(r[1] != "kept" and r[3] for r in after_two["dedup_clusters"])  # the second found the first's copies
    for name in _harness().COMPARED:
        assert two[name] == after_two[name], f"{name} differs between two runs at once and one after the other"
    with Lake(work / "two_lake").connect() as con:
        assert all(r.balanced for r in compute_funnel(con))


def test_backfill_of_four_real_batches_through_the_run_queue_decides_as_sequential_runs(queued):
    work, batches, seq_failed, runs, _ = queued
    assert sorted(runs) == [b for b, _ in batches]
    # the same verdicts: only the release gate may refuse, and then in both ways of running
    assert {b: r["failed_steps"] for b, r in runs.items()} == seq_failed
    assert all(set(f) <= {"corpus_candidate_candidate_gate"} for f in seq_failed.values()), seq_failed
    with dg.DagsterInstance.from_config(str(work / "q_home")) as instance:
        records = [instance.get_run_by_id(r["run_id"]) for r in runs.values()]
        stats = [instance.get_run_stats(r.run_id) for r in records]
    # launched by the daemon from the queue, as a UI backfill is, and overlapping in time
    assert all(r.tags.get("dagster/backfill") for r in records)
    assert max(s.start_time for s in stats) < min(s.end_time for s in stats), "the runs never overlapped"
    h = _harness()
    seq, con = h.compared_tables(work / "seq_lake"), h.compared_tables(work / "q_lake")
    # each later batch really depends on the one before: its mirrored copies are duplicates of it
    assert sum(1 for r in seq["dedup_clusters"] if r[1] != "kept" and r[3]) >= 3 * COPIES
    for name in h.COMPARED:
        assert con[name] == seq[name], f"{name} differs between the queued backfill and the sequential runs"


def test_every_batch_is_balanced_and_released(queued):
    work, batches, _, _, _ = queued
    with Lake(work / "q_lake").connect() as con:
        rows = compute_funnel(con)
        released = con.sql("SELECT count(*) FROM corpus_releases WHERE status = 'promoted'").fetchall()[0][0]
    assert {r.batch_id for r in rows if r.stage == "dedup"} == {b for b, _ in batches}
    assert all(r.balanced for r in rows), [r for r in rows if not r.balanced]
    assert released >= 1


def test_instance_prepared_once_under_concurrency(tmp_path):
    """Four processes preparing one fresh DAGSTER_HOME at the same moment: none dies in a migration."""
    home = tmp_path / "home"
    code = "import sys; sys.path.insert(0, '.'); from resources.instance import prepare_instance; prepare_instance()"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "DAGSTER_HOME": str(home)},
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errs
    assert "max_concurrent_runs" in (home / "dagster.yaml").read_text()
