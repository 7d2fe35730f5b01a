"""Consent signals and rules: pure functions first, then real crawls and WARC imports into a lake.

The site is a copy of the bundled sample site served on 127.0.0.1, with opt-outs planted the way
publishers write them: a wildcard robots.txt, a GPTBot group, `tdm-reservation` as a header and as
a <meta> tag, a /.well-known/tdmrep.json with path rules, `X-Robots-Tag: noai`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from goldpan.consent import signals as consent_signals
from goldpan.consent.decide import ConsentDecider
from goldpan.consent.signals import (
    TdmRepError,
    effective_reservation,
    header_signals,
    html_signals,
    parse_tdmrep,
    robots_directives,
    tdm_value,
    tdmrep_rule,
)
from goldpan.consent.stage import run as run_consent
from goldpan.crawl import policy_files
from goldpan.crawl.batch import run_crawl
from goldpan.crawl.fetcher import Fetcher
from goldpan.lake import Lake
from goldpan.recipe import DEFAULT_USER_AGENT, ConsentExclude, ConsentSection, CrawlSection, WarcSection
from goldpan.warc.importer import import_warc_batch
from sample.server import SampleSite
from tests.fixtures.consent_site import EN, HEADERS, ROBOTS, ZH, make_site

UA = DEFAULT_USER_AGENT


def crawl_config(base: str, **kw) -> CrawlSection:
    return CrawlSection.model_validate({"seeds": [base + "/"], "allowed_hosts": ["127.0.0.1"], "allow_private": ["127.0.0.1"],
                                  "max_depth": 4, "max_pages": 200, "per_host_delay_s": 0.0, "concurrency": 4,
                                  "revisit_interval_s": 0, "user_agent": UA, **kw})  # fmt: skip


def consent_rows(lake: Lake, batch: str) -> dict[str, dict]:
    return {r["url"]: r for r in lake.iter_rows("SELECT * FROM consent WHERE batch_id = ?", [batch],
                                                tables=["consent"])}  # fmt: skip


# -- pure signals ---------------------------------------------------------------------------------

def test_tdm_values_and_headers() -> None:
    assert [tdm_value(v) for v in ("1", " 0 ", 1, 0, "2", "yes", True, None)] == [1, 0, 1, 0, None, None, None, None]
    h = header_signals({"tdm-reservation": "1", "tdm-policy": " https://p.example/ ", "x-robots-tag": "NoAI, noimageai"})
    assert (h.tdm_reservation, h.tdm_policy, h.x_robots_tag) == (1, "https://p.example/", ["noai", "noimageai"])
    assert header_signals(None).tdm_reservation is None


def test_robots_directives_scopes_and_valued_directives() -> None:
    assert robots_directives("googlebot: noindex, noai, unavailable_after: 25 Jun 2010 15:00:00 PST") == \
        ["googlebot:noindex", "noai", "unavailable_after"]
    assert robots_directives("GPTBot: noai") == ["gptbot:noai"]
    assert robots_directives("") == []


@pytest.mark.parametrize("lang_text", [EN, ZH])
def test_html_meta_signals_in_english_and_chinese_pages(lang_text: str) -> None:
    html = (f'<!doctype html><html><head><meta charset="gbk"><META NAME="TDM-Reservation" CONTENT="1">'
            f'<meta name="tdm-policy" content="https://p.example/tdm.json"><meta name="robots" content="noai, noindex">'
            f'<meta name="GPTBot" content="noimageai"><meta name="description" content="x"></head>'
            f"<body><p>{lang_text}</p></body></html>")
    sig = html_signals(html.encode("gbk"), "gbk", ["GPTBot"])
    assert (sig.tdm_reservation, sig.tdm_policy) == (1, "https://p.example/tdm.json")
    assert sig.meta_robots == ["noai", "noindex", "gptbot:noimageai"]
    assert html_signals(f"<p>{lang_text}</p>".encode(), None).tdm_reservation is None
    assert html_signals(b"\xff\xfe broken <meta name=tdm-reservation content=7>", "no-such-charset").tdm_reservation \
        is None  # an invalid value is a protocol error: not declared


def _parsed_signals(content: bytes, charset: str | None, agents: list[str]):
    """`html_signals` with the pre-check turned off: every page parsed, the reference."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consent_signals, "_may_name", lambda *a: True)
        return html_signals(content, charset, agents)


AGENTS = ["GPTBot", "CCBot", "FacebookBot", "fjbot"]


@pytest.mark.parametrize(("html", "charset", "expected"), [
    ('<meta name="ROBOTS" content="NoAI">', "utf-8", ["noai"]),
    ('<meta name="&#114;obots" content="noai">', "utf-8", ["noai"]),  # numeric references spell names
    ('<meta name="r&#x6F;bots" content="noai">', "cp1252", ["noai"]),
    ('<meta name="&fjlig;bot" content="noai">', "utf-8", ["fjbot:noai"]),  # the one named reference with ASCII
    ('<meta name="FACEBOO\u212aBOT" content="noai">', "utf-8", ["facebookbot:noai"]),  # Kelvin sign -> "k"
    ('<meta name="robots" content="noai">', "utf-16", ["noai"]),  # not ASCII-transparent: parsed
    ('<meta name="robots" content="noai">', "rot13", ["noai"]),  # not a text encoding: read as UTF-8
    ('<meta name="robots" content="noai">', "no-such-charset", ["noai"]),
    ('<meta name="rob" content="noai"><p>robots.txt and tdm-policy in prose</p>', "utf-8", []),
])
def test_html_signals_precheck_never_skips_a_page_with_a_tag(html: str, charset: str, expected: list[str]) -> None:
    """A page is parsed whenever one of its tags could carry a name: character references, case, the
    Kelvin sign, codecs whose bytes are not ASCII all go to the parse."""
    content = html.encode("utf-16" if charset == "utf-16" else "utf-8")
    assert html_signals(content, charset, AGENTS).meta_robots == expected
    assert html_signals(content, charset, AGENTS) == _parsed_signals(content, charset, AGENTS)


def test_html_signals_precheck_skips_real_pages_without_names_and_agrees_on_all() -> None:
    """40 real Debian documentation pages (four languages) and the sample site: the same signals with
    and without the pre-check, and most pages skip the parse."""
    from tests.fixtures.real_pages import real_and_sample_htmls

    htmls = real_and_sample_htmls()
    planted = [h.replace("<head>", '<head><meta name="robots" content="noai, noindex">', 1) for h in htmls[:10]]
    names = (*consent_signals._META_NAMES, *(a.lower() for a in AGENTS))
    skipped = 0
    for h in htmls + planted:
        content = h.encode("utf-8")
        assert html_signals(content, "utf-8", AGENTS) == _parsed_signals(content, "utf-8", AGENTS)
        skipped += not consent_signals._may_name(content, "utf-8", names)
    assert skipped >= len(htmls) // 2
    assert all(html_signals(h.encode(), None, AGENTS).meta_robots == ["noai", "noindex"]
               for h in planted if "<head>" in h)


@pytest.mark.parametrize("codec", sorted(consent_signals.ASCII_TRANSPARENT - {"utf-8"}))
def test_ascii_transparent_single_byte_codecs_map_no_other_byte_to_ascii(codec: str) -> None:
    """What the pre-check's exactness rests on: in these codecs only an ASCII byte decodes to ASCII."""
    for byte in range(0x80, 0x100):
        assert all(not c.isascii() for c in bytes([byte]).decode(codec, errors="replace")), (codec, hex(byte))
    printable = bytes(range(0x20, 0x7F))
    assert printable.decode(codec) == printable.decode("ascii")


def test_utf8_decodes_ascii_only_from_ascii_bytes() -> None:
    """UTF-8 with replacement: every 2-byte input decodes to exactly its ASCII bytes' characters, in order."""
    for a in range(0x80, 0x100):
        for b in range(0x100):
            raw = bytes([a, b])
            ascii_in = "".join(chr(x) for x in raw if x < 0x80)
            assert "".join(c for c in raw.decode("utf-8", errors="replace") if c.isascii()) == ascii_in


def test_tdmrep_first_matching_rule_wins_with_percent_decoding() -> None:
    rules = parse_tdmrep(json.dumps([
        {"location": "/news/*.html$", "tdm-reservation": 1, "tdm-policy": "https://p.example/"},
        {"location": "/news/", "tdm-reservation": 0},
        {"location": "/%E6%96%87/", "tdm-reservation": 1},
        {"nolocation": True},
    ]))
    assert len(rules) == 3
    assert tdmrep_rule(rules, "http://h/news/a.html").reservation == 1
    assert tdmrep_rule(rules, "http://h/news/a.html?x=1").reservation == 0  # `$`: the .html rule no longer matches
    assert tdmrep_rule(rules, "http://h/%6Eews/b.html").reservation == 1  # %6E is an unreserved "n"
    assert tdmrep_rule(rules, "http://h/文/page").reservation == 1
    assert tdmrep_rule(rules, "http://h/other") is None
    for bad in ("<!doctype html><p>Not found</p>", '{"location": "/"}', None):
        with pytest.raises(TdmRepError):
            parse_tdmrep(bad)


def test_effective_reservation_honours_a_1_from_any_source() -> None:
    assert effective_reservation(0, 1, None) == (1, "http-header")
    assert effective_reservation(1, 0, 0) == (1, "tdmrep.json")
    assert effective_reservation(None, None, 0) == (0, "html-meta")
    assert effective_reservation(None, None, None) == (None, None)


def test_decider_rules_order_scopes_and_unknown() -> None:
    base = {"page_id": "p1", "batch_id": "b1", "fetched_at": None, "tdm_reservation": None, "x_robots_tag": [],
            "meta_robots": [], "robots_ai_disallowed": [], "robots_status": "parsed", "tdmrep_status": "no_rule"}
    d = ConsentDecider(ConsentSection(), UA)
    assert d.check(base) is None
    rule, detail = d.check(base | {"tdm_reservation": 1, "tdm_reservation_source": "html-meta"})
    assert rule == "tdm_reserved" and detail.startswith("html-meta:")
    assert d.check(base | {"x_robots_tag": ["googlebot:noai"]}) is None  # addressed to another crawler
    assert d.check(base | {"meta_robots": ["gptbot:noai"]})[0] == "noai"
    assert d.check(base | {"x_robots_tag": ["goldpan:noai"]})[1].startswith("x-robots-tag: goldpan:noai")
    assert d.check(base | {"x_robots_tag": ["noindex", "noimageai"]}) is None  # recorded, not applied by default
    rule, detail = d.check(base | {"robots_ai_disallowed": ["GPTBot"], "robots_version": "v1",
                                   "robots_ai_evidence": json.dumps({"GPTBot": "disallowed by line 3"})})
    assert rule == "robots_ai_disallowed" and detail.startswith("robots.txt: disallows GPTBot")
    strict = ConsentDecider(ConsentSection(exclude=ConsentExclude(noindex=True), unknown="exclude"), UA)
    assert strict.check(base | {"x_robots_tag": ["noindex"]})[0] == "noindex"
    assert strict.check(base | {"tdmrep_status": "unknown"})[0] == "consent_unknown"
    assert strict.check(None)[0] == "consent_unknown" and d.check(None) is None


def test_recipe_refuses_agent_names_that_are_not_product_tokens() -> None:
    with pytest.raises(ValueError, match="product tokens"):
        ConsentSection(ai_agents=["GPTBot/1.0"])


# -- real crawls -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    root = make_site(tmp_path_factory.mktemp("site") / "site")
    lake = Lake(tmp_path_factory.mktemp("lake"))
    with SampleSite(root) as site:
        stats = run_crawl(lake, crawl_config(site.base_url), "b1", "crawl").stats
        out = run_consent(lake, "b1", ConsentSection(), user_agent=UA)
        yield site, lake, stats, out


def test_wildcard_disallows_are_never_requested_in_a_real_crawl(crawled) -> None:
    site, lake, stats, _ = crawled
    log = list(site.access_log)
    assert "/robots.txt" in log and "/.well-known/tdmrep.json" in log
    assert log.index("/robots.txt") == 0  # before any page
    assert not [p for p in log if p.endswith(".pdf") or "sessionid=" in p or p.startswith("/private/")], log
    refused = {r["url"].split(site.base_url, 1)[1]: r for r in lake.iter_rows(
        "SELECT url, reason, robots_version FROM pages WHERE reason = 'robots_disallowed'", tables=["pages"])}
    assert {"/files/report.pdf", "/en/notes.pdf", "/en/articles/first-loaf.html?sessionid=abc123"} <= set(refused)
    assert stats.robots_blocked == len(refused)


def test_robots_and_tdmrep_versions_are_stored_once_and_named_on_every_page(crawled) -> None:
    _, lake, _, _ = crawled
    files = list(lake.iter_rows("SELECT * FROM policy_files", tables=["policy_files"]))
    assert sorted(f["path"] for f in files) == ["/.well-known/tdmrep.json", "/robots.txt"]
    robots = next(f for f in files if f["path"] == "/robots.txt")
    assert robots["text"] == ROBOTS and robots["http_status"] == 200 and robots["outcome"] == "parsed"
    assert robots["sha1"] and robots["fetched_at"] is not None and robots["batch_id"] == "b1"
    tdm = next(f for f in files if f["path"] == "/.well-known/tdmrep.json")
    versions = {(r["robots_version"], r["tdmrep_version"]) for r in lake.iter_rows(
        "SELECT DISTINCT robots_version, tdmrep_version FROM pages", tables=["pages"])}
    assert versions == {(robots["version_id"], tdm["version_id"])}
    # storing the same versions again (a resumed crawl) adds nothing
    policy_files.store(lake, [policy_files.PolicyFile.build(
        robots["origin"], "/robots.txt", final_url=None, http_status=200, outcome="parsed",
        body=ROBOTS.encode(), fetched_at=robots["fetched_at"])], "b2")  # fmt: skip
    assert len(list(lake.iter_rows("SELECT version_id FROM policy_files", tables=["policy_files"]))) == 2


def test_crawled_pages_carry_each_signal_with_its_source(crawled) -> None:
    site, lake, _, out = crawled
    rows = consent_rows(lake, "b1")
    u = site.url
    assert out.counts["rows"] == len(rows) and out.counts["tdm_reserved"] == 3
    assert (rows[u("/en/articles/bike-check.html")]["tdm_reservation"],
            rows[u("/en/articles/bike-check.html")]["tdm_reservation_source"]) == (1, "http-header")
    assert rows[u("/en/articles/bike-check.html")]["tdm_policy"] == "https://eskerford.example/policy.html"
    assert rows[u("/en/articles/knife-sharpening.html")]["tdm_reservation_source"] == "html-meta"
    tea = rows[u("/zh/articles/green-tea.html")]
    assert (tea["tdm_reservation"], tea["tdm_reservation_source"], tea["tdmrep_location"]) == \
        (1, "tdmrep.json", "/zh/articles/green-tea.html")
    other_zh = rows[u("/zh/articles/tomato-egg.html")]
    assert (other_zh["tdm_reservation"], other_zh["tdmrep_status"], other_zh["tdmrep_location"]) == (0, "rule", "/zh/*")
    assert rows[u("/en/articles/home-wifi.html")]["x_robots_tag"] == ["noai", "noimageai"]
    canal = rows[u("/en/articles/canal-history.html")]
    assert canal["robots_ai_disallowed"] == ["GPTBot", "CCBot"]
    assert "line 10 `Disallow: /en/articles/canal-history.html`" in json.loads(canal["robots_ai_evidence"])["GPTBot"]
    assert sorted(u for u, r in rows.items() if r["robots_ai_disallowed"] and r["observed"]) == \
        [u("/en/articles/canal-history.html")]
    plain = rows[u("/en/articles/raised-beds.html")]
    assert plain["tdm_reservation"] is None and plain["robots_ai_disallowed"] == [] and plain["x_robots_tag"] == []
    assert plain["robots_status"] == "parsed" and plain["tdmrep_status"] == "no_rule"
    refused = rows[u("/files/report.pdf")]  # no response: no signals, but the robots version that refused it
    assert refused["observed"] is False and refused["robots_version"] is not None


def test_unchanged_recrawl_inherits_html_signals_and_takes_new_headers(crawled, tmp_path) -> None:
    site, lake, _, _ = crawled
    (site.root / "_headers.yaml").write_text(HEADERS + "/en/articles/raised-beds.html:\n  tdm-reservation: \"1\"\n",
                                             encoding="utf-8")
    site.reload_headers()
    try:
        run_crawl(lake, crawl_config(site.base_url), "b2", "crawl")
        run_consent(lake, "b2", ConsentSection(), user_agent=UA)
    finally:
        (site.root / "_headers.yaml").write_text(HEADERS, encoding="utf-8")
        site.reload_headers()
    rows = consent_rows(lake, "b2")
    beds = rows[site.url("/en/articles/raised-beds.html")]
    assert beds["http_status"] == 304 and beds["tdm_reservation"] == 1 and beds["tdm_reservation_source"] == "http-header"
    knife = rows[site.url("/en/articles/knife-sharpening.html")]  # 304: its <meta> reservation carries over
    first = consent_rows(lake, "b1")[site.url("/en/articles/knife-sharpening.html")]
    assert knife["http_status"] == 304 and knife["inherited_from"] == first["page_id"]
    assert (knife["tdm_reservation"], knife["tdm_reservation_source"]) == (1, "html-meta")
    wifi = rows[site.url("/en/articles/home-wifi.html")]  # 304 without X-Robots-Tag repeated? the map sends it
    assert wifi["x_robots_tag"] == ["noai", "noimageai"]


# -- WARC records ------------------------------------------------------------------------------------

def _warc(path: Path, base: str) -> None:
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    for i, (text, extra) in enumerate([(EN, [("tdm-reservation", "1")]), (ZH, [("X-Robots-Tag", "noai")]),
                                       (EN + " Second page.", []), (ZH + "第二页。", [])]):
        hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *extra], protocol="HTTP/1.1")
        body = f"<html><head><title>p{i}</title></head><body><p>{text}</p></body></html>".encode()
        w.write_record(w.create_warc_record(f"{base}/zh/articles/green-tea.html" if i == 3 else f"{base}/warc/{i}.html",
                                            "response", payload=io.BytesIO(body), http_headers=hh))
    path.write_bytes(buf.getvalue())


def test_warc_records_get_the_same_signals_and_unknown_origin_files(crawled, tmp_path) -> None:
    site, _, _, _ = crawled
    lake = Lake(tmp_path / "lake")
    _warc(tmp_path / "a.warc.gz", site.base_url)
    import_warc_batch(lake, [str(tmp_path / "a.warc.gz")], "w1", WarcSection())
    before = len(site.access_log)
    run_consent(lake, "w1", ConsentSection(), user_agent=UA)
    assert len(site.access_log) == before  # the recipe did not allow fetching: nothing requested
    rows = sorted(consent_rows(lake, "w1").values(), key=lambda r: r["url"])
    by_path = {r["url"].split(site.base_url, 1)[1]: r for r in rows}
    assert (by_path["/warc/0.html"]["tdm_reservation"], by_path["/warc/0.html"]["tdm_reservation_source"]) == \
        (1, "http-header")
    assert by_path["/warc/1.html"]["x_robots_tag"] == ["noai"]
    assert all(r["robots_status"] == "unknown" and r["tdmrep_status"] == "unknown" for r in rows)
    assert by_path["/zh/articles/green-tea.html"]["tdm_reservation"] is None  # its tdmrep.json rule is unknown here

    # the recipe allows fetching: robots.txt and tdmrep.json are read now, stored, and applied
    with Fetcher(user_agent=UA, allow_private=frozenset({"127.0.0.1"})) as fetcher:
        out = run_consent(lake, "w1", ConsentSection(warc_fetch_origin_files=True), user_agent=UA, fetcher=fetcher)
    assert out.fetched_files == 2
    rows = {r["url"].split(site.base_url, 1)[1]: r for r in consent_rows(lake, "w1").values()}
    tea = rows["/zh/articles/green-tea.html"]
    assert (tea["tdm_reservation"], tea["tdm_reservation_source"], tea["robots_status"]) == (1, "tdmrep.json", "parsed")
    assert rows["/warc/2.html"]["tdmrep_status"] == "no_rule"


def test_consent_suite_checks_one_signals_row_per_page(crawled) -> None:
    from goldpan.recipe_loader import load_recipe
    from quality_checks.gate import validate_stage

    _, lake, _, _ = crawled
    recipe = load_recipe(Path(__file__).resolve().parents[2] / "recipes" / "demo.yaml")
    assert validate_stage(lake, recipe, "consent", "b1").success
    lake.table("consent").delete("batch_id = 'b1' AND url LIKE '%bike-check%'")  # a page loses its signals row
    try:
        report = validate_stage(lake, recipe, "consent", "b1")
        assert not report.success
        assert {r["column"] for r in report.failed} == {"consent_row"}
    finally:
        run_consent(lake, "b1", ConsentSection(), user_agent=UA)
