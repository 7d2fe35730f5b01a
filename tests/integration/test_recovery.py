"""A killed run is marked failed at the next start, its batch failed and its uncommitted files
dropped (issue 20: such a run stayed STARTED forever); and the instance settings goldpan writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
import yaml

from assets.recovery import dead_run_sensor, recover
from goldpan.lake import Lake
from goldpan.lake.schemas import PAGES
from resources import LakeResource
from resources.instance import prepare_instance
from tests.integration.killable_run import BATCH, UNCOMMITTED

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_instance_config_turns_off_telemetry_and_the_community_prompt(tmp_path):
    home = prepare_instance(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert not instance.telemetry_enabled and not instance.nux_enabled
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    # a user's own settings stay; only missing keys are added
    cfg = home / "dagster.yaml"
    cfg.write_text(yaml.safe_dump({"telemetry": {"enabled": True}, "run_monitoring": {"enabled": False}}))
    prepare_instance(home)
    got = yaml.safe_load(cfg.read_text())
    assert got["telemetry"] == {"enabled": True} and got["run_monitoring"] == {"enabled": False}
    assert got["nux"] == {"enabled": False} and got["concurrency"]["runs"]["max_concurrent_runs"] == 4


def test_killed_run_is_marked_failed_and_its_uncommitted_work_dropped(tmp_path):
    home, lake_root = Path(os.environ["DAGSTER_HOME"]), tmp_path / "lake"
    prepare_instance(home)
    lake = Lake(lake_root)
    committed = pa.RecordBatch.from_pylist([{"page_id": "p0", "batch_id": BATCH, "url": "http://127.0.0.1:8765/",
                                             "status": "kept"}], schema=PAGES)  # fmt: skip
    lake.write("pages", [committed], PAGES, mode="append", partition_by=["batch_id"])  # a chunk committed before
    ready = tmp_path / "ready"
    env = {**os.environ, "GOLDPAN_LAKE": str(lake_root)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.integration.killable_run", str(ready)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            assert proc.poll() is None, "the run's process ended before it was killed"
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.2)
        run_id = ready.read_text()
        with dg.DagsterInstance.get() as instance:
            assert recover(instance, lake).failed_runs == []  # alive: left alone
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # what the UI showed forever
        ctx = dg.build_sensor_context(instance=instance, resources={"lake": LakeResource(root=str(lake_root))})
        dead_run_sensor(ctx)
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert recover(instance, lake).failed_runs == []  # once
    assert not (lake_root / UNCOMMITTED).exists()
    with lake.connect(tables=["pages", "batches"]) as con:
        assert con.execute("SELECT count(*) FROM pages").fetchone()[0] == 1  # committed work stays
        assert con.execute("SELECT state FROM batches WHERE batch_id = ?", [BATCH]).fetchone()[0] == "failed"
