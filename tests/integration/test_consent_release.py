"""Consent through the real asset graph: opt-outs planted on a site served on 127.0.0.1 are stored,
excluded by the recipe's rules with their source, shown by why / trace / the funnel, and a page that
gains `tdm-reservation: 1` on a recrawl (unchanged content: a 304) leaves the next release, which
`diff` explains. A WARC record carrying the header is excluded the same way.

Classifier assets are left out of the runs (the demo recipe mixes without doc_scores then): they do
not touch consent and cost most of a run. Still two releases and a WARC batch: marked slow.
"""

from __future__ import annotations

import io

import dagster as dg
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from goldpan.lake import Lake
from goldpan.lineage.diff import diff_releases
from goldpan.lineage.report import format_funnel
from goldpan.lineage.trace import format_trace, trace
from goldpan.lineage.why import why
from sample.server import SampleSite
from tests.fixtures.consent_site import HEADERS, make_site
from tests.fixtures.pipeline_helpers import run_batch

pytestmark = [pytest.mark.integration, pytest.mark.slow]

B1, B2, W1 = "b20260301T000000-consent", "b20260302T000000-consent", "w20260303T000000-consent"
MIX = ["pages", "consent", "documents", "dedup_clusters", "doc_signals", "rejections", "curated_documents",
       "doc_tokens", "mix_decisions"]
RELEASE = dg.AssetSelection.assets(*MIX, "corpus_candidate", "training_corpus", "corpus_releases")
PLANTED = {  # path -> (rule, source) the mix must decide, when the page reaches the mix
    "/en/articles/bike-check.html": ("tdm_reserved", "http-header"),
    "/en/articles/knife-sharpening.html": ("tdm_reserved", "html-meta"),
    "/zh/articles/green-tea.html": ("tdm_reserved", "tdmrep.json"),
    "/en/articles/home-wifi.html": ("noai", "x-robots-tag"),
    "/en/articles/canal-history.html": ("robots_ai_disallowed", "robots.txt"),
}
GAINS = "/en/articles/raised-beds.html"
ARCHIVED = [  # two archived notes, real prose long enough for the default filters
    """The lock keeper at Marbury opens the upper gates a little after seven, when the first narrowboats have \
already tied up below the weir. He has kept the same routine for nineteen years, and he still writes the \
name of every boat in a ledger that hangs from a nail inside the hut.

In the summer the queue can stretch past the water point, and people wait patiently, talking about the \
weather, the price of diesel and the heron that stands on the far bank every morning. Children are allowed \
to push the balance beams if an adult walks beside them.

When the water level is right he waves the next boat in with his cap. It takes about twelve minutes for a \
boat to rise through the lock, and most crews spend that time drinking tea and asking him about the history \
of the canal, which he is always happy to tell.""",
    """Our allotment committee met in the village hall on Thursday to plan the spring work party. Twelve \
members came, which is more than usual, and we agreed to clear the brambles along the north fence before \
the end of March so that the new plots can be marked out.

The water butts will be checked for leaks next weekend. Anyone who has spare seed potatoes is asked to \
leave them in the shed, labelled with the variety, and the seed swap will take place on the first Sunday \
of April after the market closes.

We also discussed the compost bays. The old pallets are rotting, so two volunteers offered to build new \
bays from reclaimed timber. The treasurer reported that the funds from last year's plant sale will cover \
the cost of screws, hinges and a new padlock for the gate.""",
]  # gets `tdm-reservation: 1` before the second crawl


def _decisions(lake: Lake, site: SampleSite) -> dict[str, dict]:
    sql = ("SELECT d.url, m.status, m.rule, m.detail FROM mix_decisions m JOIN documents d USING (doc_id) "
           "WHERE m.origin = 'lake'")
    return {r["url"].removeprefix(site.base_url): r for r in lake.iter_rows(sql, tables=["mix_decisions", "documents"])}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = make_site(tmp_path_factory.mktemp("site") / "site")
    lake_root = tmp_path_factory.mktemp("lake")
    mp = pytest.MonkeyPatch()
    with SampleSite(root) as site, dg.instance_for_test() as instance:
        mp.setenv("GOLDPAN_SEED_URL", site.url("/"))
        first = run_batch(instance, lake_root, B1, selection=RELEASE)
        lake = Lake(lake_root)
        before = _decisions(lake, site)
        (root / "_headers.yaml").write_text(HEADERS + f'{GAINS}:\n  tdm-reservation: "1"\n', encoding="utf-8")
        site.reload_headers()
        second = run_batch(instance, lake_root, B2, selection=RELEASE)
        after = _decisions(lake, site)
        yield site, lake, instance, lake_root, (first, second), before, after
    mp.undo()


def test_both_runs_release_and_planted_opt_outs_are_excluded_with_their_source(runs) -> None:
    _, lake, _, _, (first, second), before, _ = runs
    assert first.success and second.success
    assert set(PLANTED) <= set(before), sorted(set(PLANTED) - set(before))  # all reach the mix
    for path, d in ((p, before[p]) for p in PLANTED):
        rule, source = PLANTED[path]
        assert (d["status"], d["rule"]) == ("rejected", rule), (path, d)
        assert d["detail"].startswith(f"{source}: "), d["detail"]
    assert before[GAINS]["status"] == "kept"
    funnel = format_funnel(lake)
    assert "tdm_reserved" in funnel and "consent" in funnel and "robots.txt versions" in funnel


def test_a_reservation_gained_on_recrawl_leaves_the_next_release_and_diff_says_why(runs) -> None:
    site, lake, _, _, _, _, after = runs
    url = site.url(GAINS)
    pages = list(lake.iter_rows("SELECT batch_id, http_status, reason FROM pages WHERE url = ? ORDER BY batch_id",
                                [url], tables=["pages"]))  # fmt: skip
    assert [(p["batch_id"], p["http_status"]) for p in pages] == [(B1, 200), (B2, 304)]  # content unchanged
    assert (after[GAINS]["status"], after[GAINS]["rule"]) == ("rejected", "tdm_reserved")
    assert after[GAINS]["detail"].startswith("http-header: tdm-reservation: 1")
    d = diff_releases(lake, "previous", "latest")
    removed = {c.url: c for c in d.removed}
    assert url in removed and removed[url].reason == "consent" and "tdm_reserved" in removed[url].detail
    with lake.connect(tables=["training_corpus"]) as con:
        assert con.execute("SELECT count(*) FROM training_corpus WHERE url = ?", [url]).fetchall()[0][0] == 0


def test_why_and_trace_show_the_robots_version_and_the_signals(runs) -> None:
    site, lake, _, _, _, _, _ = runs
    url = site.url(GAINS)
    answer = why(lake, url)
    assert (answer.in_release, answer.stage, answer.rule) == (False, "mix", "tdm_reserved")
    assert "http-header" in answer.headline
    t = trace(lake, url)
    steps = {s.stage: s for s in t.steps}
    robots = steps["crawl"].facts["robots_txt"]
    assert robots["path"] == "/robots.txt" and robots["http_status"] == 200 and robots["outcome"] == "parsed"
    consent = steps["crawl"].facts["consent"]
    assert consent["robots_version"] == robots["version_id"] and consent["tdmrep_status"] == "no_rule"
    latest = consent["latest_observation"]  # the 304 that carried the new header
    assert latest["batch_id"] == B2 and latest["tdm_reservation"] == 1
    assert (steps["mix"].rule, steps["mix"].value) == ("tdm_reserved", "http-header")
    text = format_trace(t)
    assert "robots_txt" in text and "latest_observation" in text and "consent" in text
    refused = why(lake, site.url("/files/report.pdf"))
    assert refused.rule == "robots_disallowed" and refused.evidence["robots_txt"]["version_id"] == robots["version_id"]


def test_a_warc_record_carrying_a_reservation_header_is_excluded(runs, tmp_path) -> None:
    _, lake, instance, lake_root, _, _, _ = runs
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    for i, (extra, text) in enumerate([([("tdm-reservation", "1")], ARCHIVED[0]), ([], ARCHIVED[1])]):
        hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *extra], protocol="HTTP/1.1")
        paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        body = f"<html><head><title>Archived note {i}</title></head><body><article>{paras}</article></body></html>"
        w.write_record(w.create_warc_record(f"http://archive.example/{i}.html", "response",
                                            payload=io.BytesIO(body.encode()), http_headers=hh))
    path = tmp_path / "reserved.warc.gz"
    path.write_bytes(buf.getvalue())
    result = run_batch(instance, lake_root, W1, selection=dg.AssetSelection.assets(*MIX),
                       run_config={"ops": {"pages": {"config": {"warc_files": [str(path)]}}}})
    assert result.success
    rows = {r["url"]: r for r in lake.iter_rows(
        "SELECT c.url, c.tdm_reservation, c.tdm_reservation_source, c.robots_status, m.rule, m.detail "
        "FROM consent c LEFT JOIN documents d ON d.page_id = c.page_id LEFT JOIN mix_decisions m ON m.doc_id = d.doc_id "
        "WHERE c.batch_id = ?", [W1], tables=["consent", "documents", "mix_decisions"])}
    reserved = rows["http://archive.example/0.html"]
    assert (reserved["tdm_reservation"], reserved["tdm_reservation_source"], reserved["robots_status"]) == \
        (1, "http-header", "unknown")
    assert reserved["rule"] == "tdm_reserved" and reserved["detail"].startswith("http-header:")
    other = rows["http://archive.example/1.html"]  # same import, no reservation: reaches the mix, not excluded by it
    assert other["tdm_reservation"] is None and other["rule"] != "tdm_reserved"
    assert why(lake, "http://archive.example/0.html").rule == "tdm_reserved"
