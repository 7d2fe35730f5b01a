"""Crawl batches through the real assets: an incremental second crawl of the unchanged sample site
adds no documents, and a WARC import of the same site feeds the same downstream assets."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel
from tests.fixtures.pipeline_helpers import run_batch, seed_env

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WARC = str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")
B1, B2, BW = "b20260301T030000-crawl", "b20260302T030000-crawl", "b20260303T030000-warc-eskerford-sample"


def _sql(lake: Lake, sql: str):
    with lake.connect() as con:
        return con.execute(sql).fetchall()


def _pages_meta(result) -> dict:
    [mat] = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("pages")]
    return {k: getattr(v, "value", v) for k, v in mat.materialization.metadata.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, sample_site):
    mp = pytest.MonkeyPatch()
    seed_env(sample_site, mp)
    root = tmp_path_factory.mktemp("lake")
    with dg.instance_for_test() as instance:
        r1 = run_batch(instance, root, B1)
        hits_after_first = dict(sample_site.hits)
        r2 = run_batch(instance, root, B2)
        # The WARC import goes into its own lake: imported on top of the same site's crawl it would be
        # ~60% duplicates, and the release gate's duplicate-rate drift check would (rightly) refuse
        # that release. Dedup of an import against a crawl: test_pipeline's rerun test.
        wroot = tmp_path_factory.mktemp("warc_lake")
        rw = run_batch(instance, wroot, BW, run_config={"ops": {"pages": {"config": {"warc_files": [SAMPLE_WARC]}}}})
        yield {"r1": r1, "r2": r2, "rw": rw, "lake": Lake(root), "wlake": Lake(wroot), "instance": instance,
               "root": root, "wroot": wroot, "hits1": hits_after_first, "site": sample_site}  # fmt: skip
    mp.undo()


def test_all_runs_succeed(runs):
    assert runs["r1"].success and runs["r2"].success and runs["rw"].success


def test_second_crawl_of_the_unchanged_site_stores_only_unchanged_rows_and_adds_no_documents(runs):
    lake = runs["lake"]
    first = dict(_sql(lake, f"SELECT url, coalesce(reason, 'kept') FROM pages WHERE batch_id = '{B1}'"))
    second = dict(_sql(lake, f"SELECT url, coalesce(reason, 'kept') FROM pages WHERE batch_id = '{B2}'"))
    # 404/410 answers are "gone" and redirecting URLs "redirect": their revisit classes
    # (revisit_gone_s, revisit_redirect_s) keep them out of the next batch; a redirect's target is
    # a frontier URL of its own, revisited with its validators even if the first batch only saw
    # it through the redirect
    gone = {url for url, outcome in first.items() if outcome in ("http_404", "http_410")}
    moved = dict(_sql(lake, f"SELECT url, final_url FROM pages WHERE batch_id = '{B1}' AND final_url <> url"))
    assert gone and moved
    assert set(second) == (set(first) - gone - set(moved)) | (set(moved.values()) & set(second))
    for url, outcome in second.items():
        # every page kept by the first crawl is unchanged; the rest get the same negative answer again
        assert outcome == ("unchanged" if first.get(url, "kept") == "kept" else first[url]), url
    states = dict(_sql(lake, "SELECT url, state FROM crawl_frontier"))
    assert {states[url] for url in gone} == {"gone"} and {states[url] for url in moved} == {"redirect"}
    unchanged = sum(o == "unchanged" for o in second.values())
    assert _sql(lake, f"SELECT count(*) FROM pages WHERE batch_id = '{B2}' AND status = 'kept'") == [(0,)]
    assert _sql(lake, f"SELECT DISTINCT http_status FROM pages WHERE batch_id = '{B2}' AND reason = 'unchanged'") == [
        (304,)]  # conditional GET: no body was sent  # fmt: skip
    assert _sql(lake, f"SELECT count(*) FROM documents WHERE batch_id = '{B2}'") == [(0,)]
    assert _sql(lake, f"SELECT count(*) FROM dedup_clusters WHERE batch_id = '{B2}'") == [(0,)]
    meta = _pages_meta(runs["r2"])
    assert (meta["new"], meta["unchanged"], meta["failed"]) == (0, unchanged, 0)
    assert meta["robots_blocked"] == 1 and meta["fetched"] == len(second)
    meta1 = _pages_meta(runs["r1"])
    assert meta1["new"] == sum(o == "kept" for o in first.values()) and meta1["unchanged"] == 0
    # the frontier holds one row per URL, with the second batch's validators
    assert _sql(lake, "SELECT count(*), count(DISTINCT url) FROM crawl_frontier")[0][0] == len(
        _sql(lake, "SELECT DISTINCT url FROM crawl_frontier"))  # fmt: skip
    assert _sql(lake, f"SELECT count(*) FROM crawl_frontier WHERE state = 'fetched' AND last_batch_id = '{B2}' "
                      "AND etag IS NOT NULL") == [(unchanged,)]  # fmt: skip
    with lake.connect() as con:
        assert all(r.balanced for r in compute_funnel(con))


def test_warc_import_feeds_the_same_downstream_assets(runs):
    lake = runs["wlake"]
    counts = dict(_sql(lake, f"SELECT status, count(*) FROM pages WHERE batch_id = '{BW}' GROUP BY ALL"))
    assert counts["kept"] >= 30 and "error" not in counts
    assert _sql(lake, f"SELECT DISTINCT source FROM pages WHERE batch_id = '{BW}'") == [("warc",)]
    docs = _sql(lake, f"SELECT count(*) FROM documents WHERE batch_id = '{BW}'")[0][0]
    assert docs == counts["kept"]
    # the sample's planted duplicates are found inside the imported batch, as in a crawl of it
    rules = dict(_sql(lake, f"SELECT rule, count(*) FROM dedup_clusters WHERE batch_id = '{BW}' GROUP BY ALL"))
    assert rules.get("exact_duplicate", 0) >= 1 and rules.get("near_duplicate", 0) >= 1
    assert _sql(lake, "SELECT count(*) FROM training_corpus")[0][0] > 0
    [(kind, sources)] = _sql(lake, f"SELECT kind, sources_json FROM batches WHERE batch_id = '{BW}'")
    assert (kind, json.loads(sources)) == ("warc", [SAMPLE_WARC])
    meta = _pages_meta(runs["rw"])
    assert meta["source"] == "warc" and meta["new"] == counts["kept"]
    # records that are not pages are counted by type, in the asset metadata and the batch row
    assert meta["record_types"]["request"] == meta["not_pages"]["request"] > 0
    assert meta["formats"] == {"warc.gz": 1}
    [(stats_json,)] = _sql(lake, f"SELECT stats_json FROM batches WHERE batch_id = '{BW}'")
    assert json.loads(stats_json)["record_types"] == meta["record_types"]
    with lake.connect() as con:
        assert all(r.balanced for r in compute_funnel(con))


def test_warc_batch_rematerialized_without_config_finds_its_files(runs):
    before = _sql(runs["wlake"], f"SELECT count(*) FROM pages WHERE batch_id = '{BW}'")
    r = run_batch(runs["instance"], runs["wroot"], BW, selection=["pages"])
    assert r.success
    assert _sql(runs["wlake"], f"SELECT count(*) FROM pages WHERE batch_id = '{BW}'") == before
    assert _pages_meta(r)["source"] == "warc"


def test_crawl_batch_rerun_resumes_and_changes_nothing(runs, monkeypatch):
    site = runs["site"]
    seed_env(site, monkeypatch)  # the autouse isolation fixture cleared it for this test
    before_rows = _sql(runs["lake"], f"SELECT count(*) FROM pages WHERE batch_id = '{B2}'")
    hits = dict(site.hits)
    r = run_batch(runs["instance"], runs["root"], B2, selection=["pages"])
    assert r.success and dict(site.hits) == hits  # nothing requested again
    assert _sql(runs["lake"], f"SELECT count(*) FROM pages WHERE batch_id = '{B2}'") == before_rows
    assert _pages_meta(r)["resumed_rows"] == before_rows[0][0]


def test_warc_folder_sensor_registers_one_batch_per_new_file(tmp_path, monkeypatch):
    import shutil

    from assets.partitions import crawl_batches
    from definitions import build_resources, defs

    warc_dir = tmp_path / "warcs"
    warc_dir.mkdir()
    shutil.copy(SAMPLE_WARC, warc_dir / "CC-MAIN-a.warc.gz")
    monkeypatch.setenv("GOLDPAN_WARC_DIR", str(warc_dir))
    sensor = defs.resolve_sensor_def("warc_folder_sensor")
    res = build_resources(str(tmp_path / "lake"))
    res = {k: res[k] for k in ("lake", "recipe")}
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources=res)
        result = sensor(ctx)
        [req] = result.run_requests
        assert "warc-CC-MAIN-a" in req.partition_key
        assert req.run_config["ops"]["pages"]["config"]["warc_files"] == [str(warc_dir / "CC-MAIN-a.warc.gz")]
        [add] = result.dynamic_partitions_requests
        assert add.partitions_def_name == crawl_batches.name and list(add.partition_keys) == [req.partition_key]
        # nothing new: skip; a new file: one more batch
        ctx2 = dg.build_sensor_context(instance=instance, resources=res, cursor=result.cursor)
        assert isinstance(sensor(ctx2), dg.SkipReason)
        shutil.copy(SAMPLE_WARC, warc_dir / "CC-MAIN-b.warc.gz")
        ctx3 = dg.build_sensor_context(instance=instance, resources=res, cursor=result.cursor)
        assert [r.run_config["ops"]["pages"]["config"]["warc_files"] for r in sensor(ctx3).run_requests] == [
            [str(warc_dir / "CC-MAIN-b.warc.gz")]]  # fmt: skip
