"""The whole Dagster graph on Ray, with the lake and the WARC inputs on a real S3-compatible server.

Input: the bundled sample WARC and a WARC of a few hundred real documentation pages (bench/realdocs.py:
Debian packages in English, Chinese, Japanese and German), both uploaded to moto's S3 server on
127.0.0.1; the recipe is `recipes/warc.yaml` with the demo's decontamination eval set and the S3
credentials as its WARC storage options. The same assets, partitions and checks as the code location
run twice: in process on a local lake (the reference), then on Ray through dagster-ray (`LocalRay`: a
real local Ray instance with 2 CPUs, started and stopped by the resource) with the lake on S3. On Ray
the per-document stages' workers read their input slices from S3 and write Parquet parts to it, the
band-key pairs and URL/text group-bys are Ray shuffles and decontamination runs on the workers.

Every table must be row-for-row the in-process run's: same ids, decisions and release. Columns that
record *when* or *how long* (timestamps, durations, run and attempt ids) differ between any two runs
and are left out of the comparison.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
import yaml

from assets.ordering import OrderingResource
from assets.partitions import crawl_batches
from definitions import build_resources
from goldpan.lake import Lake
from goldpan.lake.schemas import TABLES
from quality_checks.checks import ASSET_CHECKS
from resources import LakeResource, ModelsResource, RecipeResource
from tests.fixtures.pipeline_helpers import ALL_ASSETS
from tests.fixtures.real_pages import cached_real_warc

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WARC = REPO / "sample" / "warc" / "eskerford-sample.warc.gz"
REAL_PAGES = 240
BATCH = "b20260301T000000-ray"
VOLATILE = {"attempt_id", "run_id", "dagster_run_id", "elapsed_ms", "train_seconds", "seconds", "created_by_run"}
POOLED = ("documents", "dedup_clusters", "doc_signals", "doc_scores", "doc_tokens")
#: tables whose rows the workers read and write (pages: one task per WARC file read from S3; the others
#: read their input slices from the lake; dedup_clusters from the driver's decisions); the dedup index
#: tables (keys, no text) and the mix are written by the driver
WORKER_WRITTEN = ("pages", "documents", "dedup_clusters", "doc_signals", "doc_scores", "doc_tokens")
#: how goldpan.lake.parts names a part a worker wrote (delta-rs names its own files differently)
WORKER_PART = re.compile(r"part-\d{5}(-revisits)?-[0-9a-f]{32}\.snappy\.parquet$")


@pytest.fixture(scope="module")
def real_warc() -> Path:
    return cached_real_warc("ci-ray", REAL_PAGES)


def _recipe(tmp_path: Path, storage: dict[str, str]) -> str:
    """recipes/warc.yaml + the demo's eval set (so the mix decontaminates) + the S3 credentials."""
    rc = yaml.safe_load((REPO / "recipes" / "warc.yaml").read_text())
    demo = yaml.safe_load((REPO / "recipes" / "demo.yaml").read_text())
    rc["decontam"] = demo["decontam"]
    for es in rc["decontam"]["eval_sets"]:
        es["path"] = str(REPO / es["path"])
    rc.setdefault("warc", {})["storage_options"] = storage
    path = tmp_path / "ray-graph.yaml"
    path.write_text(yaml.safe_dump(rc, allow_unicode=True, sort_keys=False))
    return str(path)


def _run_graph(lake_root: str, opts: dict, recipe: RecipeResource, warcs: list[str]) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(crawl_batches.name, [BATCH])
        return dg.materialize(
            [*ALL_ASSETS, *ASSET_CHECKS], partition_key=BATCH, instance=instance,
            resources={"lake": LakeResource(root=lake_root, storage_options=opts), "recipe": recipe,
                       "models": ModelsResource(), "ordering": OrderingResource(),
                       "llm": build_resources()["llm"]},  # the code location's endpoint (synthesis is off here)
            run_config={"ops": {"pages": {"config": {"warc_files": warcs}}}},
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


def test_the_graph_on_ray_over_s3_writes_the_in_process_tables(local_s3, real_warc: Path, tmp_path) -> None:
    """Reference: in process on a local lake. Under test: Ray via dagster-ray, the lake on the S3 server.
    Both read the WARCs from the S3 server."""
    from resources.ray_cluster import RayRecipeResource, local_ray

    _endpoint, s3, opts = local_s3
    s3.create_bucket(Bucket="lake")
    s3.create_bucket(Bucket="warc")
    warcs = []
    for f in (SAMPLE_WARC, real_warc):
        s3.upload_file(str(f), "warc", f"in/{f.name}")
        warcs.append(f"s3://warc/in/{f.name}")
    recipe = _recipe(tmp_path, opts)
    runs_on = {
        "inprocess": (str(tmp_path / "lake"), {}, RecipeResource(path=recipe, engine="inprocess")),
        "ray": ("s3://lake/ray", opts, RayRecipeResource(path=recipe, workers=2, ray_cluster=local_ray(2))),
    }
    runs = {}
    for name, (root, storage, rc) in runs_on.items():
        t0 = time.perf_counter()
        runs[name] = _run_graph(root, storage, rc, warcs)
        print(f"whole graph, {name}: {time.perf_counter() - t0:.1f}s")
    for name, res in runs.items():
        failed = [e.step_key for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
        assert res.success, f"{name}: failed steps {failed}"

    # Metadata: the engine, its workers, where the lake I/O ran and each worker's throughput, one
    # materialization per asset.
    mats = {m.asset_key.to_user_string(): m.metadata for m in
            (e.materialization for e in runs["ray"].get_asset_materialization_events())}
    docs = mats["documents"]
    assert docs["engine_kind"].value == "ray" and docs["engine_workers"].value == 2
    assert docs["workers_used"].value >= 1 and docs["per_worker_docs_per_s"].value > 0
    assert "| worker |" in docs["per_worker"].value
    assert all(mats[t]["lake_io"].value == "workers"
               for t in ("pages", "documents", "dedup_clusters", "doc_signals", "doc_scores"))
    assert mats["pages"]["engine_kind"].value == "ray" and "| worker | pages |" in mats["pages"]["per_worker"].value
    assert len(mats) == len(runs["ray"].get_asset_materialization_events())
    assert {m.asset_key.to_user_string() for m in (e.materialization for e in
            runs["inprocess"].get_asset_materialization_events())} == set(mats)

    lakes = {name: Lake(root, storage) for name, (root, storage, _) in runs_on.items()}
    tables = [t for t in sorted(set(TABLES) | {"doc_signals"}) if lakes["inprocess"].exists(t)]
    assert set(POOLED) <= set(tables) and "training_corpus" in tables
    pages = lakes["inprocess"].read_table("documents").num_rows
    assert pages >= REAL_PAGES, pages
    with lakes["inprocess"].connect(tables=["mix_decisions"]) as con:
        assert con.execute("SELECT count(*) FROM mix_decisions WHERE rule = 'contaminated'").fetchone()[0] >= 1
    differ = {}
    for table in tables:
        assert lakes["ray"].exists(table), table
        ref, got = _stable_rows(lakes["inprocess"], table), _stable_rows(lakes["ray"], table)
        if got != ref:
            differ[table] = (len(ref), len(got), next((a, b) for a, b in zip(ref, got, strict=False) if a != b))
    assert not differ, f"tables where the Ray run differs from the in-process run: {differ}"
    for table in POOLED:  # one commit per stage and batch, as in process
        assert lakes["ray"].version(table) == lakes["inprocess"].version(table)
    for table in WORKER_WRITTEN:  # on Ray the workers wrote every committed file
        files = lakes["ray"].table(table).file_uris()
        assert files and all(WORKER_PART.search(f) for f in files), (table, files[:2])
