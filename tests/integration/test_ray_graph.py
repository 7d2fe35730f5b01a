"""The whole Dagster graph on Ray, with the lake on a real S3-compatible server on 127.0.0.1.

The same assets, partitions and checks as the code location; only the resource switch differs
(`RecipeResource(engine="ray")`). Every table must be row-for-row the in-process run's: same ids,
same decisions, same release. Columns that record *when* or *how long* (timestamps, durations, run
ids) differ between any two runs and are left out of the comparison.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from assets.ordering import OrderingResource
from assets.partitions import crawl_batches
from goldpan.lake import Lake
from goldpan.lake.schemas import TABLES
from quality_checks.checks import ASSET_CHECKS
from resources import LakeResource, ModelsResource, RecipeResource
from tests.integration.pipeline_helpers import ALL_ASSETS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
WARC = str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")
BATCH = "b20260301T000000-ray"
VOLATILE = {"run_id", "dagster_run_id", "elapsed_ms", "train_seconds", "seconds", "created_by_run"}
POOLED = ("documents", "dedup_clusters", "doc_signals", "doc_scores", "doc_tokens")


def _run_graph(lake_root: str, opts: dict, engine: str) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(crawl_batches.name, [BATCH])
        return dg.materialize(
            [*ALL_ASSETS, *ASSET_CHECKS], partition_key=BATCH, instance=instance,
            resources={"lake": LakeResource(root=lake_root, storage_options=opts),
                       "recipe": RecipeResource(path="recipes/warc.yaml", engine=engine, workers=2),
                       "models": ModelsResource(), "ordering": OrderingResource()},
            run_config={"ops": {"pages": {"config": {"warc_files": [WARC]}}}},
            raise_on_error=False,
        )


def _stable_rows(lake: Lake, table: str) -> list[tuple]:
    t = lake.read_table(table)
    keep = [f.name for f in t.schema if not pa.types.is_timestamp(f.type) and f.name not in VOLATILE
            and not f.name.endswith(("_seconds", "_at"))]
    return sorted(tuple(repr(v) for v in row.values()) for row in t.select(keep).to_pylist())


def test_the_graph_on_ray_over_s3_writes_the_in_process_tables(ray_local, local_s3) -> None:
    _endpoint, s3, opts = local_s3
    s3.create_bucket(Bucket="lake")
    runs = {name: _run_graph(f"s3://lake/{name}", opts, name) for name in ("inprocess", "ray")}
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

    lakes = {name: Lake(f"s3://lake/{name}", opts) for name in runs}
    tables = [t for t in sorted(set(TABLES) | {"doc_signals"}) if lakes["inprocess"].exists(t)]
    assert set(POOLED) <= set(tables) and "training_corpus" in tables
    for table in tables:
        assert lakes["ray"].exists(table), table
        ref, got = _stable_rows(lakes["inprocess"], table), _stable_rows(lakes["ray"], table)
        assert got == ref, f"{table}: the Ray run differs from the in-process run"
    # every pooled table was written in one commit per stage and batch
    for table in POOLED:
        assert lakes["ray"].version(table) == lakes["inprocess"].version(table)
