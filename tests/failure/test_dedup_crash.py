"""A dedup run that crashes between writing `dedup_clusters` and the index leaves a batch that a
re-run repairs: the re-run sees only earlier batches, rewrites the batch's rows and index, and the
result equals a run that never crashed."""

from __future__ import annotations

import dagster as dg
import pytest

import goldpan.dedup.stage as dedup_stage
from goldpan.lake import Lake
from tests.fixtures.dedup_lake import B1, BATCH1_DOCS, cluster_rows, write_docs
from tests.fixtures.pipeline_helpers import run_batch

pytestmark = pytest.mark.integration


def test_crash_after_clusters_before_index_is_repaired_by_rerun(tmp_path, monkeypatch):
    clean = Lake(tmp_path / "clean")
    crashed = Lake(tmp_path / "crashed")
    for lk in (clean, crashed):
        write_docs(lk, B1, BATCH1_DOCS)
    with dg.instance_for_test() as instance:
        assert run_batch(instance, clean.root, B1, selection=["dedup_clusters"]).success

        def boom(*a, **k):
            raise OSError("disk full while writing dedup_index")

        monkeypatch.setattr(dedup_stage, "write_index", boom)
        res = run_batch(instance, crashed.root, B1, selection=["dedup_clusters"])
        assert not res.success
        assert crashed.exists("dedup_clusters") and not crashed.exists("dedup_index")
        monkeypatch.undo()
        assert run_batch(instance, crashed.root, B1, selection=["dedup_clusters"]).success
    assert cluster_rows(crashed, B1) == cluster_rows(clean, B1)
    with clean.connect(tables=["dedup_index"]) as a, crashed.connect(tables=["dedup_index"]) as b:
        q = "SELECT kind, key, doc_id, cluster_id, batch_id, config FROM dedup_index ORDER BY ALL"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
