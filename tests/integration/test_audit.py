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

import inspect
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
from tests.integration.pipeline_helpers import run_batch, seed_env

BATCH = "b20260301T000000-audit"
TAKEN = "/zh/articles/tomato-egg.html"
SHORT = ["/en/articles/knife-sharpening.html", "/en/articles/bird-notebook.html"]
DECISIONS = ["rejections", "mix_decisions", "corpus_candidate", "training_corpus", "corpus_releases"]


def _recipe_v2(path: Path) -> Path:
    data = yaml.safe_load(Path("recipes/demo.yaml").read_text(encoding="utf-8"))
    data["filter"]["rules"] = {"default": {"gopher_min_words": {"min_words": 385}}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def audited(tmp_path_factory, sample_site):
    mp = pytest.MonkeyPatch()
    seed_env(sample_site, mp)
    root = tmp_path_factory.mktemp("audit") / "lake"
    recipe2 = _recipe_v2(tmp_path_factory.mktemp("recipes") / "stricter.yaml")
    with dg.instance_for_test() as instance:
        assert run_batch(instance, root, BATCH).success
        rc = main(["--lake", str(root), "takedown", "--url", sample_site.url(TAKEN), "--reason", "owner request",
                   "--by", "legal@example.org"])
        assert rc == 0
        second = run_batch(instance, root, BATCH, recipe=str(recipe2), selection=DECISIONS)
        assert second.success
        yield Lake(root), sample_site, recipe2
    mp.undo()


def test_two_releases_exist(audited):
    lake, _, _ = audited
    from goldpan.lineage.diff import promoted

    assert [r["release"] for r in promoted(lake)] == ["v1", "v2"]


def test_trace_of_a_corpus_document_reaches_its_fetch(audited, capsys):
    lake, site, _ = audited
    t = trace(lake, site.url("/en/articles/first-loaf.html"))
    crawl = t.steps[0]
    assert crawl.stage == "crawl" and crawl.table == "pages" and crawl.outcome == "kept"
    assert isinstance(crawl.delta_version, int) and crawl.run_id
    assert crawl.facts["batch_id"] == BATCH and crawl.facts["fetched_at"] is not None
    assert len(crawl.facts["headers_sha1"]) == 40
    assert [s.stage for s in t.steps][-2:] == ["mix", "candidate"]
    assert t.steps[1].facts["extractor"] and t.steps[1].facts["lang"] == "en"
    assert any(r.startswith("v1") for r in t.releases) and any(r.startswith("v2") for r in t.releases)
    assert main(["--lake", str(lake.root), "trace", t.doc_id, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["steps"][0]["table"] == "pages" and out["doc_id"] == t.doc_id


def test_why_names_the_rule_for_rejected_duplicate_taken_down_and_uncrawled_pages(audited, capsys):
    lake, site, recipe2 = audited
    rejected = why(lake, site.url("/en/prices.html"))
    assert rejected.stage == "filter" and rejected.rule.startswith("gopher_")
    assert rejected.value is not None and rejected.threshold is not None
    stricter = why(lake, site.url(SHORT[0]))
    assert (stricter.stage, stricter.rule, stricter.value, stricter.threshold) == ("filter", "gopher_min_words", 381, 385)
    dup = why(lake, site.url("/en/print/first-loaf.html"))
    assert dup.stage == "dedup" and dup.rule == "exact_duplicate"
    assert site.url("/en/articles/first-loaf.html") in dup.detail
    gone = why(lake, site.url(TAKEN))
    assert gone.stage == "takedown" and gone.rule == "takedown" and "owner request" in gone.detail
    robots = why(lake, site.url("/private/secret.html"))
    assert (robots.stage, robots.rule) == ("crawl", "robots_disallowed")
    kept = why(lake, site.url("/en/articles/first-loaf.html"))
    assert kept.in_release and kept.release == "v2"
    assert main(["--lake", str(lake.root), "why", "https://elsewhere.example.com/page.html",
                 "--recipe", str(recipe2)]) == 0
    assert "out_of_scope" in capsys.readouterr().out


def test_takedown_removed_every_trace_from_the_lake_and_the_next_release(audited):
    lake, site, _ = audited
    url = site.url(TAKEN)
    from goldpan.audit.takedowns import requests

    (req,) = requests(lake)
    deleted = json.loads(req["rows_deleted_json"])
    for table in ("pages", "documents", "dedup_clusters", "doc_signals", "mix_decisions", "corpus_candidate"):
        assert deleted.get(table, 0) >= 1, table
    with lake.connect() as con:
        for table in ("pages", "documents", "dedup_clusters", "corpus_candidate"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE url = ?", [url]).fetchall()[0][0] == 0, table
    d = diff_releases(lake, "v1", "v2")
    gone = {c.url: c for c in d.removed}
    assert gone[url].reason == "takedown" and gone[url].rule == req["request_id"]


def test_diff_lists_the_expected_additions_and_removals(audited, capsys):
    lake, site, _ = audited
    d = diff_releases(lake, "v1", "v2")
    assert {c.url for c in d.removed} == {site.url(TAKEN), *(site.url(p) for p in SHORT)}
    assert d.added == []
    for p in SHORT:
        c = next(c for c in d.removed if c.url == site.url(p))
        assert c.reason == "rule change" and c.rule == "gopher_min_words"
    assert d.counts["a"]["lang"]["en"] - d.counts["b"]["lang"]["en"] == 2
    assert d.counts["a"]["lang"]["zh"] - d.counts["b"]["lang"]["zh"] == 1
    assert {"stage": "filter", "rule": "gopher_min_words", "op": "<", "before": 50.0, "after": 385.0} in d.threshold_changes
    assert d.a["recipe_id"] != d.b["recipe_id"]
    assert main(["--lake", str(lake.root), "diff", "v1", "v2"]) == 0
    out = capsys.readouterr().out
    assert "removed by reason: rule change 2, takedown 1" in out


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_is_self_contained_and_renders_its_charts_in_headless_chromium(audited, tmp_path):
    lake, _, _ = audited
    out = tmp_path / "report.html"
    assert main(["--lake", str(lake.root), "report", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    for external in ("<script", "<link", "src=\"http", "url(http", "@import", "@font-face"):
        assert external not in page
    assert page.count('<svg class="chart"') >= 7
    assert "v1 → v2: documents removed, by reason" in page
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
    assert dom.count('class="chart"') >= 7 and "<rect" in dom
    shot = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1100,2000", out.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000  # a page of charts, not a blank screen


def test_commands_answer_on_a_lake_moved_to_another_path(audited, tmp_path, capsys):
    lake, site, _ = audited
    moved = tmp_path / "elsewhere" / "lake"
    shutil.copytree(lake.root, moved)
    m = Lake(moved)
    assert why(m, site.url("/en/print/first-loaf.html")).rule == "exact_duplicate"
    t = trace(m, site.url("/en/articles/first-loaf.html"))
    assert t.steps[0].stage == "crawl" and any(r.startswith("v2") for r in t.releases)
    d = diff_releases(m, "v1", "v2")
    assert len(d.removed) == 3
    assert main(["--lake", str(moved), "sql", "SELECT count(*) AS n FROM training_corpus"]) == 0
    assert main(["--lake", str(moved), "report", "--out", str(tmp_path / "r.html")]) == 0
    assert main(["--lake", str(moved), "funnel"]) == 0


def _uses_matcher(module) -> bool:
    return "TakedownMatcher" in inspect.getsource(module)


def test_takedown_survives_a_full_rerun_of_the_pipeline(audited, tmp_path):
    """Re-crawl included: the crawler must not fetch the URL again and the release must not regain it."""
    import assets.crawl as crawl_assets
    import goldpan.crawl.crawler as crawler_mod
    import goldpan.mix.select as mix_mod

    if not (_uses_matcher(crawler_mod) or _uses_matcher(crawl_assets)):
        pytest.xfail("waits on the crawl engineer's merge: the crawler does not consult TakedownMatcher yet")
    lake, site, recipe2 = audited
    moved = tmp_path / "lake"
    shutil.copytree(lake.root, moved)
    with dg.instance_for_test() as instance:
        assert run_batch(instance, moved, BATCH, recipe=str(recipe2)).success
    m = Lake(moved)
    url = site.url(TAKEN)
    with m.connect() as con:
        fetched = con.execute("SELECT count(*) FROM pages WHERE url = ? AND (content IS NOT NULL OR status = 'kept')",
                              [url]).fetchall()[0][0]
        in_docs = con.execute("SELECT count(*) FROM documents WHERE url = ?", [url]).fetchall()[0][0]
    assert fetched == 0 and in_docs == 0
    answer = why(m, url)
    assert answer.stage == "takedown" and not answer.in_release
    if _uses_matcher(mix_mod):
        with m.connect() as con:
            assert con.execute("SELECT count(*) FROM training_corpus WHERE url = ?", [url]).fetchall()[0][0] == 0
