"""The Ray engine on a real local Ray instance (2 CPUs): order, per-worker tallies, the band-key
shuffle, every pooled stage's rows identical to the in-process engine, and a Ray worker killed
mid-stage (SIGKILL from outside): retried to the same rows, or, with no retries left, a failed stage
with the table at its previous version and a rerun that completes.

Last (slow): the whole Dagster graph on Ray with the lake on a real S3-compatible server on
127.0.0.1, the same assets, partitions and checks as the code location; only the resource switch
differs (`RecipeResource(engine="ray")`). Every table must be row-for-row the in-process run's:
same ids, decisions and release. Columns that record *when* or *how long* (timestamps, durations,
run and attempt ids) differ between any two runs and are left out of the comparison.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pytest

from assets.ordering import OrderingResource
from assets.partitions import crawl_batches
from definitions import build_resources
from goldpan.dedup import stage as dedup_stage
from goldpan.engine import EngineWorkerDied, InProcessEngine, make_engine
from goldpan.engine.shuffle import local_group_by_key, ray_group_by_key
from goldpan.extract import stage as extract_stage
from goldpan.filter import stage as filter_stage
from goldpan.lake import Lake
from goldpan.lake.schemas import TABLES
from goldpan.recipe import DedupSection, EngineSection, ExtractSection
from goldpan.warc.importer import WarcImportConfig, import_warc_batch
from quality_checks.checks import ASSET_CHECKS
from resources import LakeResource, ModelsResource, RecipeResource
from tests.fixtures.pipeline_helpers import ALL_ASSETS
from tests.fixtures.stage_runs import run_all_stages, table_digest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BATCH = "b-engine"


def slow_square(batch: pa.RecordBatch, delay: float) -> pa.RecordBatch:
    """Earlier batches sleep longer, so workers finish them out of order."""
    x = batch.column("x").to_pylist()
    time.sleep(max(0.0, delay * (10 - x[0])))
    return pa.RecordBatch.from_pydict({"x": x, "sq": [v * v for v in x], "pid": [os.getpid()] * len(x)})


def _numbers(n: int, pulled: list[int]):
    for i in range(n):
        pulled.append(i)
        yield pa.RecordBatch.from_pydict({"x": [i]})


def ray_engine(workers: int = 2, max_retries: int = 3):
    return make_engine(EngineSection(kind="ray", workers=workers, ray={"max_retries": max_retries}), env={})


def test_ray_engine_keeps_input_order_bounds_batches_and_tallies_each_worker(ray_local) -> None:
    engine = ray_engine()
    assert engine.name == "ray" and engine.workers == 2
    pulled: list[int] = []
    out = []
    for b in engine.map_batches(slow_square, _numbers(10, pulled), 0.02):
        out.append(b)
        assert len(pulled) - len(out) <= engine.in_flight
    assert [b.column("x")[0].as_py() for b in out] == list(range(10))
    assert [b.column("sq")[0].as_py() for b in out] == [i * i for i in range(10)]
    pids = {b.column("pid")[0].as_py() for b in out}
    assert os.getpid() not in pids
    per_worker = engine.tally.since({})
    assert sum(v["rows"] for v in per_worker.values()) == 10
    assert set(engine.tally.local_pids()) == pids
    assert all(v["rows_per_s"] > 0 for v in per_worker.values())


def test_band_key_shuffle_on_ray_gives_the_local_groups(ray_local) -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(-(2**63), 2**63 - 1, size=300, dtype=np.int64)
    keys = np.concatenate([keys, keys[:120], keys[:40], np.array([-1, -1, 5, 5, 5], np.int64)])  # shared band keys
    owners = rng.permutation(keys.size).astype(np.int64)
    local = local_group_by_key(keys, owners)
    assert len(local) == 120 + 2
    for parts in (1, 2, 3):
        got = ray_group_by_key(keys, owners, partitions=parts)
        assert len(got) == len(local)
        assert all(np.array_equal(a, b) for a, b in zip(got, local, strict=True))
    assert ray_group_by_key(keys[:1], owners[:1], partitions=2) == []


@pytest.fixture(scope="module")
def pages_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-engine") / "pages"
    import_warc_batch(Lake(root), [str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")], BATCH,
                      WarcImportConfig(chunk_rows=16))
    return root


def test_every_pooled_stage_writes_identical_tables_on_ray(ray_local, pages_lake: Path, tmp_path) -> None:
    digests = {}
    for name, engine in (("inprocess", InProcessEngine()), ("ray2", ray_engine())):
        root = tmp_path / name
        shutil.copytree(pages_lake, root)
        digests[name] = run_all_stages(Lake(root), engine, BATCH, rows=8)
    assert digests["inprocess"]["dedup_clusters"][0] > 0 and digests["inprocess"]["doc_signals"][0] > 0
    assert digests["ray2"] == digests["inprocess"]


# -- a Ray worker killed mid-stage ----------------------------------------------------------------

def stall_once(batch: pa.RecordBatch, ctx: tuple) -> pa.RecordBatch:
    """The first batch to arrive records its worker's pid and waits to be killed; retries run normally."""
    fn, marker, inner = ctx
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return fn(batch, inner)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(120)  # the test SIGKILLs this process long before
    return fn(batch, inner)


class StallingEngine:
    """A Ray engine whose first task stalls until the test kills its worker (the stage is unchanged)."""

    def __init__(self, inner, marker: Path):
        self.inner, self.marker = inner, str(marker)
        self.name, self.workers, self.tally = inner.name, inner.workers, inner.tally

    def map_batches(self, fn, batches, context=None):
        return self.inner.map_batches(stall_once, batches, (fn, self.marker, context))

    def group_by_key(self, keys, owners):
        return self.inner.group_by_key(keys, owners)

    def worker_pids(self):
        return self.inner.worker_pids()

    def close(self):
        self.inner.close()


def _kill_when_stalled(marker: Path, killed: list[int]) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text():
                pid = int(marker.read_text())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.fixture(scope="module")
def deduped_lake(pages_lake: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-kill") / "lake"
    shutil.copytree(pages_lake, root)
    lake = Lake(root)
    extract_stage.run(lake, ExtractSection(), BATCH, engine=InProcessEngine())
    dedup_stage.run(lake, DedupSection(), BATCH, engine=InProcessEngine())
    return root


def test_a_killed_ray_worker_is_retried_and_the_stage_writes_the_same_rows(ray_local, deduped_lake, tmp_path) -> None:
    ref_root = tmp_path / "ref"
    shutil.copytree(deduped_lake, ref_root)
    filter_stage.run(Lake(ref_root), BATCH, engine=InProcessEngine(), batch_rows=4)
    expected = table_digest(Lake(ref_root), "doc_signals")

    root = tmp_path / "ray"
    shutil.copytree(deduped_lake, root)
    lake = Lake(root)
    marker, killed = tmp_path / "stalled.pid", []
    t = _kill_when_stalled(marker, killed)
    run = filter_stage.run(lake, BATCH, engine=StallingEngine(ray_engine(max_retries=2), marker), batch_rows=4)
    t.join(timeout=5)
    assert killed, "no worker stalled, so none was killed"
    assert run.written is not None and run.written.version == 0  # one commit
    assert table_digest(lake, "doc_signals") == expected


def test_a_killed_ray_worker_without_retries_fails_the_stage_and_leaves_the_table_as_it_was(
        ray_local, deduped_lake, tmp_path) -> None:
    root = tmp_path / "lake"
    shutil.copytree(deduped_lake, root)
    lake = Lake(root)
    first = filter_stage.run(lake, BATCH, engine=ray_engine(), batch_rows=4)
    before = (lake.version("doc_signals"), table_digest(lake, "doc_signals"))
    assert before[0] == first.written.version

    marker, killed = tmp_path / "stalled.pid", []
    t = _kill_when_stalled(marker, killed)
    with pytest.raises(EngineWorkerDied, match="Ray worker died"):
        filter_stage.run(lake, BATCH, engine=StallingEngine(ray_engine(max_retries=0), marker), batch_rows=4)
    t.join(timeout=5)
    assert killed
    assert (lake.version("doc_signals"), table_digest(lake, "doc_signals")) == before  # nothing committed

    rerun = filter_stage.run(lake, BATCH, engine=ray_engine(), batch_rows=4)
    assert rerun.written.version == before[0] + 1
    assert table_digest(lake, "doc_signals") == before[1]


# -- the whole Dagster graph on Ray, the lake on a local S3 server ------------------------------------

WARC = str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")
GRAPH_BATCH = "b20260301T000000-ray"
VOLATILE = {"attempt_id", "run_id", "dagster_run_id", "elapsed_ms", "train_seconds", "seconds", "created_by_run"}
POOLED = ("documents", "dedup_clusters", "doc_signals", "doc_scores", "doc_tokens")


def _run_graph(lake_root: str, opts: dict, engine: str) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(crawl_batches.name, [GRAPH_BATCH])
        return dg.materialize(
            [*ALL_ASSETS, *ASSET_CHECKS], partition_key=GRAPH_BATCH, instance=instance,
            resources={"lake": LakeResource(root=lake_root, storage_options=opts),
                       "recipe": RecipeResource(path="recipes/warc.yaml", engine=engine, workers=2),
                       "models": ModelsResource(), "ordering": OrderingResource(),
                       "llm": build_resources()["llm"]},  # the code location's endpoint (synthesis is off here)
            run_config={"ops": {"pages": {"config": {"warc_files": [WARC]}}}},
            raise_on_error=False,
        )


def _stable_rows(lake: Lake, table: str) -> list[tuple]:
    """Rows without the volatile columns, the lake's own root replaced by `<lake>` (model paths) and
    the recorded engine section dropped (recipe snapshots): what must not depend on the engine."""
    t = lake.read_table(table)
    keep = [f.name for f in t.schema if not pa.types.is_timestamp(f.type) and f.name not in VOLATILE
            and not f.name.endswith(("_seconds", "_at"))]
    return sorted(tuple(_stable_value(v, lake.root) for v in row.values()) for row in t.select(keep).to_pylist())


def _stable_value(v, root: str) -> str:
    if isinstance(v, str):
        v = v.replace(root, "<lake>")
        if v.startswith("{") and '"engine"' in v:
            obj = json.loads(v)
            obj.pop("engine", None)
            v = json.dumps(obj, sort_keys=True)
    return repr(v)


@pytest.mark.slow
def test_the_graph_on_ray_over_s3_writes_the_in_process_tables(ray_local, local_s3, tmp_path) -> None:
    """Reference: in process on a local lake. Under test: Ray, the lake on the S3 server."""
    _endpoint, s3, opts = local_s3
    s3.create_bucket(Bucket="lake")
    roots = {"inprocess": (str(tmp_path / "lake"), {}), "ray": ("s3://lake/ray", opts)}
    runs = {}
    for name, (root, storage) in roots.items():
        t0 = time.perf_counter()
        runs[name] = _run_graph(root, storage, name)
        print(f"whole graph, {name}: {time.perf_counter() - t0:.1f}s")
    for name, res in runs.items():
        failed = [e.step_key for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
        assert res.success, f"{name}: failed steps {failed}"

    # Metadata: the engine, its workers and each worker's throughput, one materialization per asset.
    mats = {m.asset_key.to_user_string(): m.metadata for m in
            (e.materialization for e in runs["ray"].get_asset_materialization_events())}
    docs = mats["documents"]
    assert docs["engine_kind"].value == "ray" and docs["engine_workers"].value == 2
    assert docs["workers_used"].value >= 1 and docs["per_worker_docs_per_s"].value > 0
    assert "| worker |" in docs["per_worker"].value
    assert len(mats) == len(runs["ray"].get_asset_materialization_events())
    assert mats["documents"]["engine_kind"].value == "ray"
    assert {m.asset_key.to_user_string() for m in (e.materialization for e in
            runs["inprocess"].get_asset_materialization_events())} == set(mats)

    lakes = {name: Lake(root, storage) for name, (root, storage) in roots.items()}
    tables = [t for t in sorted(set(TABLES) | {"doc_signals"}) if lakes["inprocess"].exists(t)]
    assert set(POOLED) <= set(tables) and "training_corpus" in tables
    differ = {}
    for table in tables:
        assert lakes["ray"].exists(table), table
        ref, got = _stable_rows(lakes["inprocess"], table), _stable_rows(lakes["ray"], table)
        if got != ref:
            differ[table] = (len(ref), len(got), next((a, b) for a, b in zip(ref, got, strict=False) if a != b))
    assert not differ, f"tables where the Ray run differs from the in-process run: {differ}"
    # every pooled table was written in one commit per stage and batch
    for table in POOLED:
        assert lakes["ray"].version(table) == lakes["inprocess"].version(table)
