"""The sample site and its server: HTTP behaviour plus the properties planted for each stage.

Why these tests exist: the demo and the integration tests crawl this site and expect specific
outcomes (a GBK page behind a lying header, a redirect, exact and near duplicates...). If an
edit to the site or the server silently removes one of those cases, a later stage's test would
fail for a confusing reason - or worse, pass without exercising anything. These tests pin the
cases down at the source, against a real server on 127.0.0.1, using only the stdlib client.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import urllib.robotparser
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from sample.server import ENV_VAR, SampleSite, default_site_root, load_headers_map

REPO = Path(__file__).resolve().parents[2]
SITE_ROOT = REPO / "sample" / "site"

EXACT_DUPS = [
    ("/en/articles/first-loaf.html", "/en/print/first-loaf.html"),
    ("/en/articles/bike-check.html", "/mirror/bike-check.html"),
    ("/zh/articles/green-tea.html", "/zh/print/green-tea.html"),
]
# A good article in a language the demo recipe does not select: it must survive every stage up
# to the filter and then be left out by the mix (`lang_not_in_recipe`).
GERMAN_PAGE = "/de/articles/rundweg-hollin-edge.html"
NEAR_DUPS = [
    ("/en/articles/canal-history.html", "/en/news/canal-history-reprint.html", "en"),
    ("/en/articles/home-wifi.html", "/en/articles/home-wifi-updated.html", "en"),
    ("/zh/articles/tomato-egg.html", "/zh/articles/tomato-egg-repost.html", "zh"),
]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # returning None makes urllib raise HTTPError
        return None


_no_redirect = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, follow: bool = True) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) without raising on 4xx/3xx."""
    opener = urllib.request.build_opener() if follow else _no_redirect
    try:
        with opener.open(url, timeout=5) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers.items()), err.read()


def raw_get(site: SampleSite, path: str, method: str = "GET") -> tuple[int, bytes]:
    """Send `path` verbatim (urllib would not normalise it, but be explicit for traversal tests)."""
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=5)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def main_text(body: bytes) -> str:
    """Decode as the pipeline does (meta charset first) and extract the main content."""
    return extract_plain_text(
        bytes_to_str(body, detect_encoding(body, from_html_meta=True)), main_content=True
    )


def shingles(text: str, lang: str, n: int = 5) -> set[tuple[str, ...]]:
    toks = re.findall(r"\w+", text.lower()) if lang == "en" else [c for c in text if not c.isspace()]
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site():
    with SampleSite(SITE_ROOT) as s:
        yield s


# ---------------------------------------------------------------------------------------------
# server behaviour
# ---------------------------------------------------------------------------------------------


def test_base_url_is_loopback_with_a_real_port(site):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base_url)
    assert site.port > 0
    assert site.url("/en/") == site.base_url + "/en/"


def test_index_page(site):
    status, headers, body = fetch(site.url("/"))
    assert status == 200
    assert headers["Content-Type"] == "text/html"  # no charset: pages must declare their own
    html = body.decode("utf-8")
    for href in ('href="/en/"', 'href="/zh/"', 'href="/sitemap.html"'):
        assert href in html


def test_robots_txt_disallows_private_only(site):
    status, headers, body = fetch(site.url("/robots.txt"))
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(body.decode("utf-8").splitlines())
    assert not rp.can_fetch("goldpan", site.url("/private/secret.html"))
    assert rp.can_fetch("goldpan", site.url("/en/articles/first-loaf.html"))
    assert rp.can_fetch("goldpan", site.url("/"))
    # The disallowed page really exists: only robots.txt stands between it and the corpus.
    assert fetch(site.url("/private/secret.html"))[0] == 200


def test_gbk_page_header_lies_meta_tells_truth(site):
    status, headers, body = fetch(site.url("/zh/articles/gbk-page.html"))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gbk")
    assert '<meta charset="gbk">' in text and "社区图书角" in text
    assert detect_encoding(body, from_html_meta=True) == "gbk"


def test_big5_page_header_silent_meta_says_big5(site):
    status, headers, body = fetch(site.url("/zh/articles/big5-page.html"))
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "麵包店" in body.decode("big5")
    assert detect_encoding(body, from_html_meta=True) == "big5"


def test_missing_page_is_404(site):
    status, _, body = fetch(site.url("/en/missing.html"))
    assert status == 404
    assert b"Not Found" in body


def test_redirect_status_and_location(site):
    status, headers, _ = fetch(site.url("/old/garden.html"), follow=False)
    assert status == 301
    assert headers["Location"] == "/en/articles/raised-beds.html"
    status, _, body = fetch(site.url("/old/garden.html"))  # urllib follows the relative Location
    assert status == 200 and b"Raised Beds on Heavy Clay Soil" in body


def test_directory_without_slash_redirects_and_index_is_served(site):
    status, headers, _ = fetch(site.url("/en"), follow=False)
    assert status == 301 and headers["Location"] == "/en/"
    status, _, body = fetch(site.url("/en/"))
    assert status == 200 and b"/en/articles/first-loaf.html" in body


def test_pdf_is_served_as_pdf(site):
    status, headers, body = fetch(site.url("/files/report.pdf"))
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    assert int(headers["Content-Length"]) == len(body)


def test_head_has_headers_but_no_body(site):
    status, body = raw_get(site, "/en/articles/first-loaf.html", method="HEAD")
    assert status == 200 and body == b""


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/en/../../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/en/%2E%2E/%2e%2e/pyproject.toml",
        "/..%2fpyproject.toml",
        "/en/..%5c..%5cpyproject.toml",
        "/_headers.yaml",  # config is private
        "/_src/en/first-loaf.txt",  # so are sources
        "/_tools/build.py",
        "/%ff%fe",
    ],
)
def test_traversal_and_private_paths_are_404(site, path):
    status, body = raw_get(site, path)
    assert status == 404
    assert b"[project]" not in body


def test_symlink_out_of_root_is_404(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.html").write_text("<p>ok</p>")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (root / "link.txt").symlink_to(secret)
    with SampleSite(root) as s:
        assert raw_get(s, "/ok.html")[0] == 200
        assert raw_get(s, "/link.txt")[0] == 404


def test_headers_map_overrides_status_and_any_header(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "page.html").write_text("<p>hello</p>")
    (root / "_headers.yaml").write_text(
        "/page.html:\n"
        "  Content-Type: 'text/html; charset=iso-8859-1'\n"
        "  X-Planted: 'yes'\n"
        "  Cache-Control: no-store\n"
        "/gone.html: {status: 410}\n"
        "/teapot.html: {status: 302, Location: 'https://example.org/elsewhere'}\n"
    )
    with SampleSite(root) as s:
        status, headers, body = fetch(s.url("/page.html"))
        assert (status, headers["Content-Type"], headers["X-Planted"]) == (
            200,
            "text/html; charset=iso-8859-1",
            "yes",
        )
        assert headers["Cache-Control"] == "no-store" and body == b"<p>hello</p>"
        assert fetch(s.url("/gone.html"))[0] == 410
        status, headers, _ = fetch(s.url("/teapot.html"), follow=False)
        assert status == 302 and headers["Location"] == "https://example.org/elsewhere"


def test_bad_headers_map_fails_at_start(tmp_path):
    (tmp_path / "_headers.yaml").write_text("relative/path.html: {status: 301}\n")
    with pytest.raises(ValueError):
        load_headers_map(tmp_path)
    (tmp_path / "_headers.yaml").write_text("/x.html: {status: 'moved'}\n")
    with pytest.raises(ValueError):
        SampleSite(tmp_path).start()


def test_default_root_and_env_override(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_site_root() == SITE_ROOT.resolve()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_site_root() == tmp_path.resolve()
    assert SampleSite().root == tmp_path.resolve()


def test_quiet_by_default(capfd):
    with SampleSite(SITE_ROOT) as s:
        fetch(s.url("/"))
        fetch(s.url("/en/missing.html"))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_stop_releases_port_and_is_idempotent():
    s = SampleSite(SITE_ROOT).start()
    port = s.port
    assert s.start() is s  # second start is a no-op
    s.stop()
    s.stop()
    assert not s.running
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")


def test_cli_serves_until_interrupted():
    """SIGINT stops the server even when it inherited SIGINT ignored (a shell's background job, or a
    pytest-xdist worker as parent: Python then installs no KeyboardInterrupt handler by itself)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample.server", "--root", str(SITE_ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509 -- the inherited state under test
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert m, line
        assert fetch(m.group(1) + "/robots.txt")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)  # generous: a loaded CI machine can take seconds to unwind
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0


# ---------------------------------------------------------------------------------------------
# planted site properties
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("original", "copy"), EXACT_DUPS)
def test_exact_duplicates_extract_to_identical_text(site, original, copy):
    body_a, body_b = fetch(site.url(original))[2], fetch(site.url(copy))[2]
    assert body_a != body_b  # different templates...
    text_a, text_b = main_text(body_a), main_text(body_b)
    assert len(text_a) > 400
    assert text_a == text_b  # ...same main text


@pytest.mark.parametrize(("original", "copy", "lang"), NEAR_DUPS)
def test_near_duplicates_are_similar_but_not_identical(site, original, copy, lang):
    text_a, text_b = main_text(fetch(site.url(original))[2]), main_text(fetch(site.url(copy))[2])
    assert text_a != text_b
    sim = jaccard(shingles(text_a, lang), shingles(text_b, lang))
    assert 0.8 <= sim < 0.95, sim


def test_boilerplate_is_removed_by_main_content_extraction(site):
    text = main_text(fetch(site.url("/en/articles/raised-beds.html"))[2])
    assert text.startswith("Raised Beds on Heavy Clay Soil")
    for junk in ("cookies", "All rights reserved", "Related links", "Newsletter", "Site map"):
        assert junk not in text


def test_good_articles_have_the_promised_length(site):
    en = sorted(p.name for p in (SITE_ROOT / "en" / "articles").glob("*.html"))
    zh = sorted(p.name for p in (SITE_ROOT / "zh" / "articles").glob("*.html"))
    assert len(en) >= 8 and len(zh) >= 6
    for name in en:
        n = len(
            re.findall(r"[A-Za-z]+(?:['-][A-Za-z]+)*", main_text(fetch(site.url(f"/en/articles/{name}"))[2]))
        )
        assert 250 <= n <= 600, (name, n)
    for name in zh:
        n = len(re.findall(r"[\u4e00-\u9fff]", main_text(fetch(site.url(f"/zh/articles/{name}"))[2])))
        assert 400 <= n <= 1000, (name, n)


def test_german_page_is_served_linked_from_home_and_german(site):
    status, headers, body = fetch(site.url(GERMAN_PAGE))
    assert status == 200 and headers["Content-Type"] == "text/html"
    html = body.decode("utf-8")
    assert '<html lang="de">' in html and '<meta charset="utf-8">' in html
    parser = _Links()
    parser.feed(fetch(site.url("/"))[2].decode("utf-8"))
    assert GERMAN_PAGE in parser.hrefs  # depth 1 from /
    text = main_text(body)
    assert text.startswith("Rundweg vom Kanal zur Hollin Edge")
    assert "Cookies" not in text and "Alle Rechte vorbehalten" not in text  # German boilerplate goes too
    n = len(re.findall(r"\w+", text))
    assert 250 <= n <= 450, n
    # Ordinary German function words, so the text reads as prose, not as a keyword list.
    assert {"der", "die", "und", "nicht", "mit", "auf"} <= set(re.findall(r"\w+", text))


def test_german_page_is_kept_by_extract_as_german(site):
    """The pipeline's own extract stage keeps it, and fastText identifies it as German."""
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_one

    _, headers, body = fetch(site.url(GERMAN_PAGE))
    page = {
        "page_id": "p-de",
        "batch_id": "b",
        "url": site.url(GERMAN_PAGE),
        "content": body,
        "content_type": headers["Content-Type"],
        "charset_declared": None,
    }
    row = extract_one(page, LanguageIdentifier())
    assert (row["status"], row["rule"]) == ("kept", None)
    assert row["lang"] == "de" and row["lang_score"] >= 0.95, (row["lang"], row["lang_score"])


def test_german_page_is_left_out_by_the_demo_recipes_mix():
    from goldpan.mix.select import decide_mix
    from goldpan.recipe_loader import load_recipe

    mix = load_recipe(REPO / "recipes" / "demo.yaml").mix
    assert "de" not in mix.languages
    doc = {"doc_id": "d", "batch_id": "b", "host": "127.0.0.1", "lang": "de", "lang_score": 0.99}
    (row,) = decide_mix([doc], mix, "r")
    assert (row["status"], row["rule"]) == ("rejected", "lang_not_in_recipe")


def test_script_only_page_extracts_to_nothing(site):
    status, _, body = fetch(site.url("/en/app.html"))
    assert status == 200 and b"<script>" in body
    assert main_text(body).strip() == ""


def test_everything_reachable_from_index_within_depth_3(site):
    """Breadth-first from / over <a href> links, like the crawler (robots ignored here on purpose)."""
    host = urlsplit(site.base_url).netloc
    depth = {site.url("/"): 0}
    queue = deque([site.url("/")])
    statuses: dict[str, int] = {}
    offsite: set[str] = set()
    while queue:
        url = queue.popleft()
        status, headers, body = fetch(url, follow=False)
        statuses[url] = status
        if status in (301, 302):
            target = urljoin(url, headers["Location"])
            if target not in depth:
                depth[target] = depth[url] + 1
                queue.append(target)
            continue
        if status != 200 or not headers.get("Content-Type", "").startswith("text/html") or depth[url] >= 3:
            continue
        parser = _Links()
        parser.feed(bytes_to_str(body, detect_encoding(body, from_html_meta=True)))
        for href in parser.hrefs:
            target = urldefrag(urljoin(url, href))[0]
            if urlsplit(target).netloc != host:
                offsite.add(target)
            elif target not in depth:
                depth[target] = depth[url] + 1
                queue.append(target)

    files = {
        "/" + p.relative_to(SITE_ROOT).as_posix()
        for p in SITE_ROOT.rglob("*")
        if p.is_file()
        and p.suffix in (".html", ".pdf")
        and not any(part.startswith("_") for part in p.relative_to(SITE_ROOT).parts)
    }
    ok_paths = {urlsplit(u).path for u, s in statuses.items() if s == 200}
    reached = ok_paths | {
        p + "index.html" for p in ok_paths if p.endswith("/")
    }  # "/en/" serves en/index.html
    assert files - reached == set()
    assert statuses[site.url("/en/missing.html")] == 404
    assert statuses[site.url("/old/garden.html")] == 301
    assert "https://example.org/outside" in offsite


# What the pipeline's own Gopher filter must say about each planted low-quality page. Exact sets:
# a page that starts failing a second rule no longer shows its rule in isolation in the funnel.
LOW_QUALITY = {
    "/en/prices.html": {"gopher_alpha_words"},
    "/en/notice.html": {"gopher_min_words"},
    "/en/more-stories.html": {"gopher_ellipsis_lines"},
    "/en/catalogue.html": {"gopher_stop_words"},
}


def test_planted_pages_meet_the_project_filter_as_intended(site):
    """Spam fails its own rule (and only that one); every good article passes every rule."""
    from goldpan.filter import RuleSet, compute_signals

    rules = RuleSet.default()

    def failures(path: str, lang: str) -> set[str]:
        text = main_text(fetch(site.url(path))[2])
        return {f.rule for f in rules.evaluate(path, lang, compute_signals(text, lang))}

    for path, expected in LOW_QUALITY.items():
        # Gopher rules only: later rule families (e.g. FineWeb's line-punctuation ratio) may also
        # catch a planted page, which does not hide its Gopher rule in the funnel.
        assert {r for r in failures(path, "en") if r.startswith("gopher_")} == expected, path
    spam = failures("/en/deals/cheap-flights.html", "en")
    assert "gopher_dup_line_frac" in spam
    assert all(r.startswith(("gopher_dup_", "gopher_top_", "fineweb_char_dup", "fineweb_line_dup"))
               for r in spam), spam  # repetition only
    for lang in ("en", "zh", "de"):
        for p in sorted((SITE_ROOT / lang / "articles").glob("*.html")):
            assert failures(f"/{lang}/articles/{p.name}", lang) == set(), p.name
    # German stop words come from FineWeb-2's list: the German page has them like any real page.
    de_signals = compute_signals(main_text(fetch(site.url(GERMAN_PAGE))[2]), "de")
    assert de_signals["stop_words_count"] > 2
    assert de_signals["n_words"] >= 250
