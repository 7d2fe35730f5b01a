"""Audit commands against a lake built by the real asset graph: two releases, a takedown between them.

Story of the module fixture (the sample site on 127.0.0.1, one crawl batch):
  1. full run -> release v1;
  2. `goldpan takedown --url .../zh/articles/tomato-egg.html` (a Chinese corpus article);
  3. the filter threshold gopher_min_words is raised from 50 to 385 (drops the two shortest English
     articles, 381 and 383 words) and decisions, mix, candidate and promotion re-run -> release v2.
Then trace, why, diff, takedown and report are checked on that lake, on a copy moved elsewhere,
and a full re-run of the pipeline (re-crawl included) must not bring the taken-down page back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest
import yaml

from goldpan.cli import main
from goldpan.lake import Lake
from goldpan.lineage.diff import diff_releases
from goldpan.lineage.trace import trace
from goldpan.lineage.why import why
from tests.fixtures.pipeline_helpers import DEMO_RUN_BATCH, copy_demo_run, run_batch, seed_env

BATCH = DEMO_RUN_BATCH
RATE_BAND = 0.75  # the second recipe's gate band (the demo's is narrower), so the rate change is promoted
DECISIONS = ["rejections", "mix_decisions", "corpus_candidate", "training_corpus", "corpus_releases"]


def _recipe_v2(path: Path, min_words: int) -> Path:
    """The demo recipe with a stricter gopher_min_words (and a gate that tolerates the rate change)."""
    data = yaml.safe_load(Path("recipes/demo.yaml").read_text(encoding="utf-8"))
    data["filter"]["rules"] = {"default": {"gopher_min_words": {"min_words": min_words}}}
    data.setdefault("gate", {})["rate_band"] = RATE_BAND
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def audited(tmp_path_factory, sample_site, demo_run):
    """Release v1; a takedown of one Chinese web article of v1; the shortest English web article of v1
    pushed under a raised gopher_min_words; decisions re-run -> release v2 (no re-crawl)."""
    mp = pytest.MonkeyPatch()
    seed_env(sample_site, mp)
    # release v1: a copy of the session's demo run (lake and instance), the same full run of one batch
    root, home = copy_demo_run(demo_run, tmp_path_factory.mktemp("audit"))
    with dg.instance_for_test(temp_dir=home) as instance:
        lake = Lake(root)
        with lake.connect() as con:
            web = con.execute("SELECT c.url, c.lang, s.n_words FROM training_corpus c JOIN doc_signals s USING (doc_id) "
                              "WHERE c.url LIKE 'http://127.0.0.1:%' ORDER BY s.n_words, c.url").fetchall()
        taken = next(u for u, lang, _ in web if lang == "zh")
        short_url, _, short_words = next(r for r in web if r[1] == "en")
        recipe2 = _recipe_v2(tmp_path_factory.mktemp("recipes") / "stricter.yaml", int(short_words) + 1)
        rc = main(["--lake", str(root), "takedown", "--url", taken, "--reason", "owner request",
                   "--by", "legal@example.org"])
        assert rc == 0
        second = run_batch(instance, root, BATCH, recipe=str(recipe2), selection=DECISIONS)
        assert second.success
        yield {"lake": lake, "site": sample_site, "recipe2": recipe2, "taken": taken, "short": short_url,
               "short_words": int(short_words), "instance": instance}
    mp.undo()


def _urls(lake: Lake, version: int) -> set[str]:
    with lake.connect(versions={"training_corpus": version}, tables=["training_corpus"]) as con:
        return {r[0] for r in con.execute("SELECT url FROM training_corpus").fetchall()}


def test_two_releases_and_the_promotion_metadata_state_the_takedown(audited):
    lake = audited["lake"]
    from goldpan.audit.takedowns import requests
    from goldpan.lineage.diff import promoted

    assert [r["release"] for r in promoted(lake)] == ["v1", "v2"]
    (req,) = requests(lake)
    event = audited["instance"].get_latest_materialization_event(dg.AssetKey("training_corpus"))
    meta = event.asset_materialization.metadata
    assert meta["takedowns_removed"].value == {req["request_id"]: 1}
    assert "| filter |" in meta["audit_funnel"].value
    assert "v1 → v2" in meta["audit_diff_vs_previous"].value
    assert "filter.rules.default.gopher_min_words.min_words" in meta["audit_diff_vs_previous"].value
    assert req["request_id"] in meta["audit_takedowns"].value


def test_trace_of_a_corpus_document_reaches_its_fetch(audited, capsys):
    lake, site = audited["lake"], audited["site"]
    t = trace(lake, site.url("/en/articles/first-loaf.html"))
    crawl = t.steps[0]
    assert crawl.stage == "crawl" and crawl.table == "pages" and crawl.outcome == "kept"
    assert isinstance(crawl.delta_version, int) and crawl.run_id
    assert crawl.facts["batch_id"] == BATCH and crawl.facts["fetched_at"] is not None
    assert len(crawl.facts["headers_sha1"]) == 40
    stages = [s.stage for s in t.steps]
    assert stages[:4] == ["crawl", "extract", "dedup", "filter"] and stages[-2:] == ["mix", "candidate"]
    assert t.steps[1].facts["extractor"] and t.steps[1].facts["lang"] == "en"
    dedup = t.steps[2]
    assert any(m["url"] == site.url("/en/print/first-loaf.html") for m in dedup.facts["other_members"])
    assert t.steps[-2].facts["source"] and t.steps[-2].facts["repeat"] >= 1
    assert any(r.startswith("v1") for r in t.releases) and any(r.startswith("v2") for r in t.releases)
    filt = t.steps[3]
    assert filt.facts["rule_decisions"] and all(r["passed"] for r in filt.facts["rule_decisions"])
    assert t.steps[-1].facts["n_tokens"] > 0 and t.steps[-1].facts["tokenizer"]
    rejected = next(s for s in trace(lake, site.url("/en/prices.html")).steps if s.stage == "filter")
    failed = {r["rule"] for r in rejected.facts["rule_decisions"] if r["passed"] is False}
    assert failed == {r["rule"] for r in rejected.facts["failed_rules"]}  # re-evaluation agrees with rejections
    assert main(["--lake", str(lake.root), "trace", t.doc_id, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["steps"][0]["table"] == "pages" and out["doc_id"] == t.doc_id


def test_why_names_the_rule_for_rejected_duplicate_taken_down_and_uncrawled_pages(audited, capsys):
    lake, site = audited["lake"], audited["site"]
    rejected = why(lake, site.url("/en/prices.html"))
    assert rejected.stage == "filter" and rejected.rule.startswith("gopher_")
    assert rejected.value is not None and rejected.threshold is not None
    stricter = why(lake, audited["short"])
    assert (stricter.stage, stricter.rule) == ("filter", "gopher_min_words")
    assert (stricter.value, stricter.threshold) == (audited["short_words"], audited["short_words"] + 1)
    dup = why(lake, site.url("/en/print/first-loaf.html"))
    assert dup.stage == "dedup" and dup.rule == "exact_duplicate"
    assert site.url("/en/articles/first-loaf.html") in dup.detail
    gone = why(lake, audited["taken"])
    assert gone.stage == "takedown" and gone.rule == "takedown" and "owner request" in gone.detail
    robots = why(lake, site.url("/private/secret.html"))
    assert (robots.stage, robots.rule) == ("crawl", "robots_disallowed")
    kept = why(lake, site.url("/en/articles/first-loaf.html"))
    assert kept.in_release and kept.release == "v2"
    assert main(["--lake", str(lake.root), "why", "https://elsewhere.example.com/page.html"]) == 0
    assert "out_of_scope" in capsys.readouterr().out  # checked against the recipe snapshot of v2


def test_takedown_removed_every_trace_from_the_lake_and_the_next_release(audited):
    lake, url = audited["lake"], audited["taken"]
    from goldpan.audit.takedowns import requests

    (req,) = requests(lake)
    deleted = json.loads(req["rows_deleted_json"])
    for table in ("pages", "documents", "dedup_clusters", "doc_signals", "doc_scores", "doc_tokens",
                  "mix_decisions", "corpus_candidate"):
        assert deleted.get(table, 0) >= 1, table
    with lake.connect() as con:
        for table in ("pages", "documents", "document_variants", "dedup_clusters", "corpus_candidate"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE url = ?", [url]).fetchall()[0][0] == 0, table
    assert url in _urls(lake, 0) and url not in _urls(lake, 1)
    d = diff_releases(lake, "v1", "v2")
    gone = {c.url: c for c in d.removed}
    assert gone[url].reason == "takedown" and gone[url].rule == req["request_id"]


def test_diff_lists_the_expected_additions_and_removals(audited, capsys):
    lake = audited["lake"]
    d = diff_releases(lake, "v1", "v2")
    v1, v2 = _urls(lake, 0), _urls(lake, 1)
    assert {c.url for c in d.removed} == v1 - v2 and {c.url for c in d.added} == v2 - v1
    assert {audited["taken"], audited["short"]} <= v1 - v2
    short = next(c for c in d.removed if c.url == audited["short"])
    assert (short.reason, short.rule) == ("rule change", "gopher_min_words")
    assert "filter.rules.default.gopher_min_words.min_words: None -> " in short.detail
    assert all(c.reason != "unexplained (limit)" for c in d.removed + d.added)
    keys = {c["key"] for c in d.recipe_changes}
    assert {"filter.rules.default.gopher_min_words.min_words", "gate.rate_band"} <= keys
    assert d.counts["a"]["lang"]["zh"] - d.counts["b"]["lang"].get("zh", 0) >= 1
    assert main(["--lake", str(lake.root), "diff", "v1", "v2"]) == 0
    out = capsys.readouterr().out
    band = yaml.safe_load(Path("recipes/demo.yaml").read_text(encoding="utf-8")).get("gate", {}).get("rate_band", 0.15)
    assert "takedown 1" in out and "rule change" in out and f"gate.rate_band: {band} -> {RATE_BAND}" in out


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_is_self_contained_and_renders_its_charts_in_headless_chromium(audited, tmp_path):
    lake = audited["lake"]
    out = tmp_path / "report.html"
    assert main(["--lake", str(lake.root), "report", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    for external in ("<script", "<link", "src=\"http", "url(http", "@import", "@font-face"):
        assert external not in page
    assert page.count('<svg class="chart"') >= 8
    assert "v1 → v2: documents removed, by reason" in page and "doc_scores.quality_score" in page
    assert "Tokens kept after each stage" in page  # the release stage's doc_tokens table
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (Debian package `chromium`); the static checks above ran")
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=3000", "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert console == []
    dom = proc.stdout
    assert dom.count('class="chart"') >= 8 and "<rect" in dom
    shot = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1100,2000", out.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000  # a page of charts, not a blank screen


def test_commands_answer_on_a_lake_moved_to_another_path(audited, tmp_path, capsys):
    lake, site = audited["lake"], audited["site"]
    moved = tmp_path / "elsewhere" / "lake"
    shutil.copytree(lake.root, moved)
    m = Lake(moved)
    assert why(m, site.url("/en/print/first-loaf.html")).rule == "exact_duplicate"
    assert why(m, audited["taken"]).stage == "takedown"
    t = trace(m, site.url("/en/articles/first-loaf.html"))
    assert t.steps[0].stage == "crawl" and any(r.startswith("v2") for r in t.releases)
    assert {c.url for c in diff_releases(m, "v1", "v2").removed} == {c.url for c in diff_releases(lake, "v1", "v2").removed}
    assert main(["--lake", str(moved), "sql", "SELECT count(*) AS n FROM training_corpus"]) == 0
    assert main(["--lake", str(moved), "report", "--out", str(tmp_path / "r.html")]) == 0
    assert str(moved) in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert main(["--lake", str(moved), "funnel"]) == 0


@pytest.mark.slow
def test_takedown_survives_a_full_rerun_of_the_pipeline(audited, tmp_path):
    """Re-crawl included: the crawler must not fetch the URL again and the release must not regain it."""
    lake, url = audited["lake"], audited["taken"]
    moved = tmp_path / "lake"
    shutil.copytree(lake.root, moved)
    with dg.instance_for_test() as instance:
        assert run_batch(instance, moved, BATCH, recipe=str(audited["recipe2"])).success
    m = Lake(moved)
    with m.connect() as con:
        assert con.execute("SELECT count(*) FROM pages WHERE url = ? OR final_url = ?", [url, url]).fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM documents WHERE url = ?", [url]).fetchall()[0][0] == 0
        (state,) = con.execute("SELECT state FROM crawl_frontier WHERE url = ?", [url]).fetchall()[0]
    assert state == "takedown"  # set by the takedown command, kept by the crawler
    from goldpan.lineage.diff import promoted

    latest = promoted(m)[-1]
    assert url not in _urls(m, int(latest["corpus_version"]))
    answer = why(m, url)
    assert answer.stage == "takedown" and not answer.in_release
