"""Every schedule and sensor evaluated by a real tick against a real instance, and the run it
requests executed to the end (issue 20: the tests used to check only that the sensor existed,
while every tick of new_batch_sensor failed)."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from assets.partitions import crawl_batches
from definitions import build_resources
from goldpan.lake import Lake
from goldpan.release.promote import releases
from tests.fixtures.pipeline_helpers import seed_env
from tests.integration.trigger_jobs import bound_definitions

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _tick(sensor, instance, cursor=None, definitions=None, resources=None):
    """One tick as the daemon evaluates it: a context holding the instance ref (so partitions the
    tick itself requests count when its run requests are resolved), the repository, the cursor."""
    with (
        dg.SensorEvaluationContext(instance_ref=instance.get_ref(), instance=instance, cursor=cursor,
                                   definitions=definitions, resources=resources, sensor_name=sensor.name) as ctx,
        dg.partition_loading_context(dynamic_partitions_store=instance),
    ):
        return sensor.evaluate_tick(ctx)


def _run(defs: dg.Definitions, instance, request: dg.RunRequest, job: str):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=request.tags,
        run_config=request.run_config or None, raise_on_error=False)  # fmt: skip


def test_crawl_schedule_then_new_batch_sensor_carry_a_batch_to_a_release(tmp_path, sample_site, monkeypatch):
    seed_env(sample_site, monkeypatch)
    lake_root = str(tmp_path / "lake")
    defs = bound_definitions(lake_root)
    with dg.instance_for_test() as instance:
        schedule = defs.resolve_schedule_def("crawl_schedule")
        tick = schedule.evaluate_tick(dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 3, 1, 3, tzinfo=UTC),
            repository_def=defs.get_repository_def()))
        (crawl_request,) = tick.run_requests
        crawled = _run(defs, instance, crawl_request, "crawl_job")
        assert crawled.success

        sensor = defs.resolve_sensor_def("new_batch_sensor")
        result = _tick(sensor, instance, cursor=None, definitions=defs)
        assert [r.partition_key for r in result.run_requests] == [crawl_request.partition_key]
        # the next tick, from the cursor the first one left, has nothing new to do
        again = _tick(sensor, instance, cursor=result.cursor, definitions=defs)
        assert not again.run_requests and again.skip_message

        # A fresh lake: process_batch_job builds what the mix needs (curated corpora, classifiers) itself.
        processed = _run(defs, instance, result.run_requests[0], "process_batch_job")
        assert processed.success
    lake = Lake(lake_root)
    assert releases(lake)[-1]["status"] == "promoted"
    batch = crawl_request.partition_key
    with lake.connect(tables=["documents", "training_corpus"]) as con:
        assert con.execute("SELECT count(*) FROM documents WHERE batch_id = ?", [batch]).fetchone()[0] > 10
        assert con.execute("SELECT count(*) FROM training_corpus WHERE batch_id = ?", [batch]).fetchone()[0] > 0


def test_new_batch_sensor_requests_every_batch_written_between_two_ticks(tmp_path):
    """Two WARC batches imported before one tick: both are processed (asset_sensor saw only the newest)."""
    lake_root = str(tmp_path / "lake")
    defs = bound_definitions(lake_root)
    with dg.instance_for_test() as instance:
        warc = defs.resolve_sensor_def("warc_folder_sensor")
        tick = _tick(warc, instance, cursor=None, definitions=defs, resources=build_resources(lake_root))
        assert len(tick.run_requests) == 2  # the sample's WARC and WET files
        for req in tick.dynamic_partitions_requests:  # what the daemon does with them
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
        for req in tick.run_requests:
            assert _run(defs, instance, req, "warc_import_job").success
        batches = sorted(r.partition_key for r in tick.run_requests)
        assert set(batches) <= set(instance.get_dynamic_partitions(crawl_batches.name))

        result = _tick(defs.resolve_sensor_def("new_batch_sensor"), instance, cursor=None, definitions=defs)
        assert sorted(r.partition_key for r in result.run_requests) == batches
        assert len({r.run_key for r in result.run_requests}) == 2


def test_a_job_started_for_an_unregistered_batch_registers_it_before_writing(tmp_path, monkeypatch):
    """`dagster job execute` with a new batch in the run's tags (no registration first): the import
    registers the batch, and its rows and the materialization land (they used to be refused with
    "Nonexistent partition keys" after the rows were written)."""
    from pathlib import Path

    from tests.integration.trigger_jobs import warc_import_job

    lake_root = str(tmp_path / "lake")
    monkeypatch.setenv("GOLDPAN_LAKE", lake_root)
    warc = str(Path(__file__).resolve().parents[2] / "sample" / "warc" / "eskerford-sample.warc.gz")
    batch = "b20260301T000000-adhoc"
    with dg.instance_for_test() as instance:
        assert batch not in instance.get_dynamic_partitions(crawl_batches.name)
        result = dg.execute_job(dg.reconstructable(warc_import_job), instance=instance,
                                tags={"dagster/partition": batch},
                                run_config={"ops": {"pages": {"config": {"warc_files": [warc]}}}})
        assert result.success
        assert batch in instance.get_dynamic_partitions(crawl_batches.name)
        assert instance.get_latest_materialization_event(dg.AssetKey("pages")) is not None
    with Lake(lake_root).connect(tables=["pages"]) as con:
        assert con.execute("SELECT count(*) FROM pages WHERE batch_id = ?", [batch]).fetchall()[0][0] > 10
