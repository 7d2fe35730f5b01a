"""The dedup asset for real: documents written into a temporary Delta lake, `dedup_clusters`
materialized with an ephemeral Dagster instance, two batches, re-runs, report and CLI."""

from __future__ import annotations

import dagster as dg
import pytest

from goldpan.dedup.report import cluster_members, largest_clusters, size_distribution
from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel
from tests.fixtures.dedup_lake import (
    B1,
    BATCH1_DOCS,
    EN_CANAL,
    cluster_rows,
    doc_row,
    with_boilerplate,
    write_docs,
)
from tests.fixtures.dedup_texts import EN_BICYCLE, EN_GARDEN, ZH_TEA, edit_runs
from tests.fixtures.pipeline_helpers import run_batch

pytestmark = pytest.mark.integration

B2 = "b20260302T000000-dd"


def _dedup(instance, lake: Lake, batch: str):
    res = run_batch(instance, lake.root, batch, selection=["dedup_clusters"])
    assert res.success
    return res


def test_two_batches_through_the_asset(tmp_path):
    lake = Lake(tmp_path / "lake")
    write_docs(lake, B1, BATCH1_DOCS)
    with dg.instance_for_test() as instance:
        res = _dedup(instance, lake, B1)
        by = {r[0]: r for r in cluster_rows(lake, B1)}
        status = {k: (v[1], v[2], v[3]) for k, v in by.items()}
        assert status["en-garden"] == ("kept", None, None)
        assert status["en-garden-print"] == ("rejected", "exact_duplicate", "en-garden")
        assert status["en-garden-near"] == ("rejected", "near_duplicate", "en-garden")
        assert status["zh-tea"] == ("kept", None, None)
        assert status["zh-tea-repost"] == ("rejected", "near_duplicate", "zh-tea")
        assert status["en-canal-old"] == ("rejected", "url_duplicate", "en-canal")
        # paragraph dedup: the banner is on 4 kept docs -> removed, counted, text in dedup_text
        g = by["en-garden"]
        assert g[9] == 4 and "cookies" not in g[10] and "freight yard" in g[10]
        assert by["en-bike"][9] == g[9] and by["zh-tea"][9] == 0 and by["zh-tea"][10] is None
        # a document that is only the site banner sits inside every page: a contained near duplicate
        # of the earliest of them (it joins that one cluster, it does not link the pages)
        container = status["en-notice"][2]
        assert status["en-notice"][:2] == ("rejected", "near_duplicate") and by["en-notice"][6] >= 0.8
        assert container in {"en-garden", "en-bike", "en-canal"} and by["en-notice"][4] == container
        assert by["en-bike"][4] == "en-bike" and by["en-canal"][4] == "en-canal"
        g_size = 3 + (container == "en-garden")
        # cluster ids, sizes and representatives
        assert by["en-garden-near"][4] == "en-garden" and by["en-garden"][5] and by["en-garden"][8] == g_size
        assert len(by["en-garden"][12]) == 256
        md = res.asset_materializations_for_node("dedup_clusters")[0].metadata
        assert "clusters" in md and "outcomes" in md and md["dedup_index_rows"].value > 0

        with lake.connect() as con:
            funnel = [r for r in compute_funnel(con) if r.stage == "dedup"]
            assert funnel and all(r.balanced for r in funnel)
            members = cluster_members(con, "en-garden-print")
            assert members[0]["doc_id"] == "en-garden" and members[0]["is_representative"]
            assert {m["doc_id"] for m in members} - {"en-notice"} == {"en-garden", "en-garden-print", "en-garden-near"}
            assert {m["cluster_id"] for m in members} == {"en-garden"}
            # garden's cluster, and the canal's (canal + its older fetch) when the notice joined it
            sizes = dict(size_distribution(con))
            assert sizes[g_size] == 1 + (container == "en-canal") and max(sizes) == g_size
            assert largest_clusters(con, 1)[0]["size"] == g_size

        # batch 2: copies of batch-1 pages under new URLs, a later re-fetch of a page, and one new page
        b2 = [
            doc_row(B2, "b2-garden", "http://mirror/garden.html", with_boilerplate(EN_GARDEN), minutes=-100),
            doc_row(B2, "b2-bike-near", "http://mirror/bike.html", with_boilerplate(edit_runs(EN_BICYCLE, 3, 2, seed=3)), minutes=-100),
            doc_row(B2, "b2-tea", "http://mirror/tea.html", ZH_TEA, "zh", minutes=-100),
            doc_row(B2, "b2-canal", "http://site/en/canal.html", with_boilerplate(EN_CANAL), minutes=60),
            doc_row(B2, "b2-new", "http://site/en/new.html", with_boilerplate(" ".join(EN_CANAL.split()[::-1])), minutes=60),
        ]
        write_docs(lake, B2, b2)
        _dedup(instance, lake, B2)
        by2 = {r[0]: r for r in cluster_rows(lake, B2)}
        # the later copies are marked, the earlier documents kept (even with earlier fetch times)
        assert (by2["b2-garden"][1], by2["b2-garden"][2], by2["b2-garden"][4]) == ("rejected", "exact_duplicate", "en-garden")
        assert (by2["b2-bike-near"][2], by2["b2-bike-near"][4]) == ("near_duplicate", "en-bike")
        assert by2["b2-tea"][2] == "exact_duplicate"
        assert by2["b2-canal"][2] == "exact_duplicate" and by2["b2-canal"][11] == "en-canal"
        assert by2["b2-new"][1] == "kept" and by2["b2-new"][9] > 0  # banner counts carried over
        assert by2["b2-garden"][8] == g_size + 1  # cluster size now counts the batch-2 copy
        assert all(by[k][1] == v for k, v in [("en-garden", "kept"), ("en-bike", "kept")])

        # re-running batch 1 after batch 2 changes nothing (it sees neither itself nor batch 2)
        before1, before2 = cluster_rows(lake, B1), cluster_rows(lake, B2)
        with lake.connect(tables=["dedup_index"]) as con:
            idx_before = con.execute("SELECT * FROM dedup_index ORDER BY ALL").fetchall()
        _dedup(instance, lake, B1)
        _dedup(instance, lake, B2)
        assert cluster_rows(lake, B1) == before1 and cluster_rows(lake, B2) == before2
        with lake.connect(tables=["dedup_index"]) as con:
            assert con.execute("SELECT * FROM dedup_index ORDER BY ALL").fetchall() == idx_before


def test_clusters_command(tmp_path, capsys):
    from goldpan.cli import main

    lake = Lake(tmp_path / "lake")
    write_docs(lake, B1, BATCH1_DOCS)
    with dg.instance_for_test() as instance:
        _dedup(instance, lake, B1)
    assert main(["--lake", str(lake.root), "clusters"]) == 0
    out = capsys.readouterr().out
    assert "exact_duplicate=1" in out and "near_duplicate=3" in out and "largest clusters" in out  # en-notice: contained
    assert main(["--lake", str(lake.root), "clusters", "--doc", "http://site/en/print/garden.html"]) == 0
    out = capsys.readouterr().out
    assert "en-garden  " in out and "representative" in out and "near_duplicate" in out
    assert main(["--lake", str(lake.root), "clusters", "--doc", "nope"]) == 1
