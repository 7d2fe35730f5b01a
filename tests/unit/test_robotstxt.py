"""robots.txt by RFC 9309: our own cases for every rule, then Google's reference suite as data.

The suite (`../shared/data/robots-conformance/google-robotstxt-cases.jsonl`, extracted from
google/robotstxt's robots_test.cc) is checked twice when present: through the matcher directly
(all 145 cases) and through `RobotsCache` fetching each case's robots.txt from a real HTTP server
on 127.0.0.1 (the 72 RFC cases with an agent and a URL). The pass counts are printed.

Left out, with the reason printed: the 3 GoogleOnly_LineTooLong cases whose 16 KB lines the C++
test builds at run time and the extraction lost (their data is "user-agent: FooBot\\n" with
expectations that need the missing line); `test_line_too_long` rebuilds them here.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from goldpan.crawl.fetcher import Fetcher
from goldpan.crawl.robots import RobotsCache, crawl_delay_from_text
from goldpan.crawl.robotstxt import MAX_LINE_BYTES, RobotsTxt, escape_pattern, path_of, product_token
from goldpan.crawl.scope import CrawlScope

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = REPO_ROOT / ".." / "shared" / "data" / "robots-conformance" / "google-robotstxt-cases.jsonl"
# The extraction lost the generated 16 KB lines of these (see the module docstring): their URLs
# read `/x//qux` where the C++ test has `/x/aaaa...a/qux`, and their robots.txt lacks the long rule.
LEFT_OUT_WHY = "GoogleOnly_LineTooLong: the 16 KB lines the C++ test builds at run time are missing from the data"


def left_out(case: dict) -> bool:
    return case["test"] == "GoogleOnly_LineTooLong" and "//" in path_of(case["url"])


def allowed(robots: str, agent: str, url: str) -> bool:
    return RobotsTxt.parse(robots).allowed(agent, url)


# -- our own cases, one rule each --------------------------------------------------------------

@pytest.mark.parametrize(("robots", "url", "expected"), [
    # longest match wins, whatever the order of the lines
    ("User-agent: *\nAllow: /\nDisallow: /private/\n", "http://h/private/x", False),
    ("User-agent: *\nDisallow: /private/\nAllow: /\n", "http://h/private/x", False),
    ("User-agent: *\nDisallow: /private/\nAllow: /private/open/\n", "http://h/private/open/a", True),
    # Allow wins a tie of equal length
    ("User-agent: *\nDisallow: /page\nAllow: /page\n", "http://h/page", True),
    ("User-agent: *\nDisallow: /*.php\nAllow: /x.php\n", "http://h/x.php", True),  # both 6 octets
    # `*` anywhere, `$` at the end only
    ("User-agent: *\nDisallow: /*.pdf$\n", "http://h/docs/a.pdf", False),
    ("User-agent: *\nDisallow: /*.pdf$\n", "http://h/docs/a.pdf?x=1", True),
    ("User-agent: *\nDisallow: /*?sessionid=\n", "http://h/cart?sessionid=42", False),
    ("User-agent: *\nDisallow: /*?sessionid=\n", "http://h/cart?id=42", True),
    ("User-agent: *\nDisallow: /a*b*c\n", "http://h/a-x-b-y-c-z", False),
    ("User-agent: *\nDisallow: /a*b*c\n", "http://h/a-x-c-y-b", True),  # pieces must come in order
    ("User-agent: *\nDisallow: /a$b\n", "http://h/a$b", False),  # a `$` inside is a literal
    ("User-agent: *\nDisallow: /$\n", "http://h/", False),
    ("User-agent: *\nDisallow: /$\n", "http://h/index.html", True),
    # patterns are case-sensitive, keys are not
    ("USER-AGENT: *\nDISALLOW: /Private\n", "http://h/private", True),
    ("user-agent: *\ndisallow: /Private\n", "http://h/Private", False),
    # percent-encoding: the pattern is normalised (non-ASCII encoded, escapes upper-cased)
    ("User-agent: *\nDisallow: /café\n", "http://h/caf%C3%A9", False),
    ("User-agent: *\nDisallow: /caf%c3%a9\n", "http://h/caf%C3%A9", False),
    ("User-agent: *\nDisallow: /中文/\n", "http://h/%E4%B8%AD%E6%96%87/page", False),
    # fragments are not part of the path; a query is
    ("User-agent: *\nDisallow: /a#b\n", "http://h/a", False),
    ("User-agent: *\nDisallow: /*?\n", "http://h/a?b", False),
    # an empty Disallow allows everything
    ("User-agent: *\nDisallow:\n", "http://h/anything", True),
    # rules before any user-agent line belong to nobody
    ("Disallow: /\nUser-agent: *\nAllow: /x\n", "http://h/y", True),
])
def test_matching_rules(robots: str, url: str, expected: bool) -> None:
    assert allowed(robots, "goldpan", url) is expected


def test_groups_for_the_same_agent_are_merged_and_replace_the_global_group() -> None:
    robots = ("User-agent: goldpan\nDisallow: /a/\n\nUser-agent: *\nDisallow: /\n\n"
              "User-agent: otherbot\nUser-agent: goldpan\nDisallow: /b/\n")
    rt = RobotsTxt.parse(robots)
    assert not rt.allowed("goldpan", "http://h/a/1") and not rt.allowed("goldpan", "http://h/b/1")
    assert rt.allowed("goldpan", "http://h/c")  # the global `Disallow: /` does not apply to goldpan
    assert not rt.allowed("somebot", "http://h/c")
    assert not rt.allowed("otherbot", "http://h/b/") and rt.allowed("otherbot", "http://h/a/")


def test_an_empty_group_for_the_agent_still_replaces_the_global_one() -> None:
    # no rule line between the two user-agent lines: goldpan is in the `*` group
    assert allowed("User-agent: goldpan\n\nUser-agent: *\nDisallow: /\n", "goldpan", "http://h/x") is False
    # goldpan's own group has only an empty rule: it still replaces the global `Disallow: /`
    assert allowed("User-agent: goldpan\nDisallow:\n\nUser-agent: *\nDisallow: /\n", "goldpan", "http://h/x")
    assert not allowed("User-agent: goldpan\nDisallow:\n\nUser-agent: *\nDisallow: /\n", "other", "http://h/x")


def test_user_agent_is_matched_by_product_token_case_insensitively() -> None:
    assert product_token("goldpan/0.1 (+https://example.org; research crawler)") == "goldpan"
    assert product_token("Google-Extended") == "google-extended"
    rt = RobotsTxt.parse("User-agent: GOLDPAN/2.0\nDisallow: /\n")
    assert not rt.can_fetch("goldpan/0.1 (+https://x)", "http://h/")
    assert rt.can_fetch("otherbot/1.0", "http://h/")


def test_sitemap_and_unknown_lines_do_not_split_a_group() -> None:
    rt = RobotsTxt.parse("User-agent: goldpan\nSitemap: https://h/s.xml\nUser-agent: *\nDisallow: /\n")
    assert not rt.allowed("goldpan", "http://h/")
    assert rt.sitemaps == ["https://h/s.xml"]


def test_line_syntax_bom_crlf_comments_missing_colon_and_typos() -> None:
    rt = RobotsTxt.parse(b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /a # comment\r\nDisalow: /b\r\ndisallow /c\r\n")
    assert not rt.allowed("x", "http://h/a") and not rt.allowed("x", "http://h/b") and not rt.allowed("x", "http://h/c")
    assert rt.allowed("x", "http://h/d")
    assert RobotsTxt.parse("User-agent: *\nDisallow /d /e\n").allowed("x", "http://h/d")  # three words: ignored


def test_index_html_allows_its_directory() -> None:
    rt = RobotsTxt.parse("User-agent: *\nDisallow: /\nAllow: /docs/index.html\n")
    assert rt.allowed("x", "http://h/docs/") and rt.allowed("x", "http://h/docs/index.html")
    assert not rt.allowed("x", "http://h/docs/other")


def test_line_too_long_is_cut_like_googles_parser() -> None:
    """GoogleOnly_LineTooLong, rebuilt: bytes past 16,663 on a line are ignored."""
    longline = "/x/" + "a" * (MAX_LINE_BYTES + 1 - len("/x/") - len("disallow: ") + 1)
    rt = RobotsTxt.parse(f"user-agent: FooBot\ndisallow: {longline}/qux\n")
    assert rt.allowed("FooBot", "http://foo.bar/fux")
    assert not rt.allowed("FooBot", f"http://foo.bar{longline}/fux")  # the cut rule still applies
    line_a = "/x/" + "a" * (MAX_LINE_BYTES + 1 - len("/x/") - len("allow: ") + 1)
    line_b = "/x/" + "b" * (len(line_a) - 3)
    rt = RobotsTxt.parse(f"user-agent: FooBot\ndisallow: /\nallow: {line_a}/qux\nallow: {line_b}/qux\n")
    assert not rt.allowed("FooBot", "http://foo.bar/")
    assert rt.allowed("FooBot", f"http://foo.bar{line_a}/qux")
    assert rt.allowed("FooBot", f"http://foo.bar{line_b}/fux")


def test_path_and_pattern_normalisation() -> None:
    assert path_of("http://h") == "/" and path_of("http://h?q=1") == "/?q=1"
    assert path_of("http://h/a;p?q#f") == "/a;p?q" and path_of("") == "/"
    assert escape_pattern("/SanJoséSellers".encode()) == "/SanJos%C3%A9Sellers"
    assert escape_pattern(b"/a%2fb") == "/a%2Fb"


def test_hostile_wildcards_match_in_linear_time() -> None:
    rt = RobotsTxt.parse("User-agent: *\nDisallow: /" + "*a" * 200 + "*b$\n")
    assert rt.allowed("x", "http://h/" + "a" * 5000)  # no `b` at the end; no backtracking blow-up


def test_crawl_delay_fractions_and_groups() -> None:
    assert crawl_delay_from_text("User-agent: *\nCrawl-delay: 0.5\n", "goldpan/0.1") == 0.5
    assert crawl_delay_from_text("User-agent: goldpan\nCrawl-delay: 2\n\nUser-agent: *\nCrawl-delay: 9\n",
                                 "goldpan/0.1") == 2.0
    assert crawl_delay_from_text("User-agent: goldpan\nDisallow: /x\n\nUser-agent: *\nCrawl-delay: 9\n",
                                 "goldpan/0.1") is None  # our own group sets none: `*`'s does not apply


# -- Google's reference suite, as data -----------------------------------------------------------

def _cases() -> list[dict]:
    if not CASES_FILE.exists():
        return []
    return [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


CASES = _cases()
needs_data = pytest.mark.skipif(not CASES, reason=f"conformance data not found at {CASES_FILE}")


@needs_data
def test_google_suite_pass_counts(capsys) -> None:
    """Prints the pass counts; every RFC case passes and none allows a URL the suite disallows."""
    rfc = [c for c in CASES if c["rfc9309"]]
    results = [(c, allowed(c["robots_txt"], c["user_agent"], c["url"]) == c["allowed"]) for c in CASES]
    skipped = [c for c in CASES if left_out(c)]
    rfc_pass = sum(ok for c, ok in results if c["rfc9309"])
    all_pass = sum(ok for _, ok in results)
    unsafe = [c["test"] for c, ok in results if not ok and not c["allowed"] and not left_out(c)]
    with capsys.disabled():
        print(f"\n[robots conformance] RFC 9309 cases: {rfc_pass}/{len(rfc)} pass; "
              f"all cases: {all_pass}/{len(CASES)} pass; left out: {len(skipped)} ({LEFT_OUT_WHY}; "
              "rebuilt in test_line_too_long_is_cut_like_googles_parser)")
    assert rfc_pass == len(rfc)
    assert all_pass == len(CASES) - len(skipped)
    assert not unsafe, unsafe


@needs_data
@pytest.mark.parametrize("case", [c for c in CASES if not left_out(c)],
                         ids=lambda c: f"{c['test']}")
def test_google_case_matcher(case: dict) -> None:
    assert allowed(case["robots_txt"], case["user_agent"], case["url"]) is case["allowed"]


class _RobotsServer(ThreadingHTTPServer):
    """Serves one robots.txt body (set per case) on 127.0.0.1 and logs every request path."""

    daemon_threads = True
    body = b""
    log: list[str]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.log.append(self.path)  # type: ignore[attr-defined]
        body = self.server.body if self.path == "/robots.txt" else b""  # type: ignore[attr-defined]
        self.send_response(200 if self.path == "/robots.txt" else 404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def robots_server():
    srv = _RobotsServer(("127.0.0.1", 0), _Handler)
    srv.log = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    fetcher = Fetcher(allow_private=frozenset({"127.0.0.1"}))
    yield srv, fetcher
    fetcher.close()
    srv.shutdown()
    srv.server_close()


RFC_HTTP = [c for c in CASES if c["rfc9309"] and c["user_agent"] and c["url"]]


@needs_data
@pytest.mark.parametrize("case", RFC_HTTP, ids=lambda c: c["test"])
def test_google_rfc_case_over_http(case: dict, robots_server) -> None:
    """The crawler's own path: RobotsCache fetches the case's robots.txt from 127.0.0.1 and decides."""
    srv, fetcher = robots_server
    srv.body = case["robots_txt"].encode("utf-8")
    srv.log.clear()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    url = base + path_of(case["url"])
    cache = RobotsCache(fetcher, case["user_agent"], scope=CrawlScope(allowed_hosts=frozenset({"127.0.0.1"})))
    assert cache.allowed(url) is case["allowed"]
    assert srv.log == ["/robots.txt"]  # the decision took one robots.txt request and nothing else
    entry = cache.entry(url)
    assert entry.outcome == "parsed" and entry.version is not None
    assert entry.version.text == case["robots_txt"] and entry.version.http_status == 200
