"""Extractors behind one interface: resiliparse (default), trafilatura (selectable), post-processing,
main content that is a table / code block / list, boilerplate-heavy, empty and script-only pages,
WET records, and a page that crashes an extractor. Everything runs for real."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from goldpan.extract.extractors import Extractor, ResiliparseExtractor, make_extractor
from goldpan.extract.html_text import ParsedHtml
from goldpan.extract.langid import LanguageIdentifier
from goldpan.extract.stage import doc_id_for, extract_documents, extract_one, extract_variants
from goldpan.lake.schemas import ERROR, KEPT, REJECTED
from goldpan.recipe import ExtractSection

BODY = (
    "<p>The lock keeper at Millbrook opens the gates at dawn and closes them again at dusk, and in "
    "between he logs every boat that passes, its name, its home port and what it carries.</p>"
    "<p>Last summer he counted more narrowboats than in any year since the canal reopened, most of "
    "them hired for a week by families who had never steered anything longer than a car.</p>"
)
RELATED = (
    '<div><h3>Read next</h3><ul>'
    '<li><a href="/a">Canal boats return to Millbrook</a></li>'
    '<li><a href="/b">Lock gates repaired after the winter floods</a></li>'
    '<li><a href="/c">How to steer a narrowboat</a></li></ul>'
    '<p><a href="/tag/canals">Canals</a> | <a href="/tag/summer">Summer</a></p></div>'
)


def doc(main: str, title: str = "Millbrook lock", extra_head: str = "") -> str:
    return (
        f"<html><head><title>{title}</title>{extra_head}</head><body>"
        '<nav><a href="/">Home</a> <a href="/news">News</a></nav>'
        f"<article>{main}</article><footer>Copyright 2024 Millbrook Post</footer></body></html>"
    )


def page(pid: str, html: str | bytes, **kw) -> dict:
    content = html.encode() if isinstance(html, str) else html
    base = {"page_id": pid, "batch_id": "b1", "url": f"https://news.millbrook.co.uk/{pid}",
            "host": "news.millbrook.co.uk", "content": content, "content_type": "text/html",
            "charset_declared": "utf-8", "source": "crawl"}
    return {**base, **kw}


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


def test_trafilatura_is_selectable_and_recorded(lid):
    cfg = ExtractSection(extractors=[{"name": "trafilatura", "options": {"favor_precision": True}}])
    r = extract_one(page("p1", doc("<h1>Gates at dawn</h1>" + BODY)), lid, cfg)
    assert r["status"] == KEPT
    assert r["extractor"] == "trafilatura" and r["extractor_version"].startswith("2.3")
    assert json.loads(r["extractor_options"])["favor_precision"] is True
    assert r["doc_id"] == doc_id_for("p1", "trafilatura")
    assert "lock keeper at Millbrook" in r["text"] and "Copyright" not in r["text"]


def test_head_metadata_and_registered_domain(lid):
    head = ('<meta name="description" content="  The  lock keeper counts boats. ">'
            '<link rel="canonical" href="https://millbrook.co.uk/lock">')
    r = extract_one(page("p2", doc(BODY, extra_head=head)), lid)
    assert (r["title"], r["description"], r["canonical_url"]) == (
        "Millbrook lock", "The lock keeper counts boats.", "https://millbrook.co.uk/lock")
    assert (r["host"], r["registered_domain"]) == ("news.millbrook.co.uk", "millbrook.co.uk")
    assert r["lang"] == "en" and r["lang_mixed"] is False and r["n_tokens"] > r["n_words"] > 50


def test_unknown_extractor_or_option_is_refused():
    with pytest.raises(ValueError, match="unknown extractor"):
        make_extractor("boilerpipe")
    with pytest.raises(ValueError, match="unknown resiliparse options"):
        make_extractor("resiliparse", {"main_contnet": True})
    with pytest.raises(ValueError):
        ExtractSection(extractors=[{"name": "resiliparse"}, {"name": "resiliparse"}])


def test_table_main_content_is_kept():
    rows = "".join(f"<tr><td>{d}</td><td>{n} boats</td><td>{w}</td></tr>" for d, n, w in
                   [("Monday", 14, "dry and calm"), ("Tuesday", 9, "heavy rain all day"),
                    ("Wednesday", 21, "sunny, light wind"), ("Thursday", 17, "fog until noon")])
    text = make_extractor("resiliparse").extract(ParsedHtml(doc(f"<h1>Boats through the lock</h1><table>{rows}</table>")))
    for cell in ("Monday", "14 boats", "heavy rain all day", "Thursday", "fog until noon"):
        assert cell in text


def test_code_block_main_content_keeps_lines_and_indentation():
    code = "def boats_per_day(log):\n    counts = {}\n    for day, boat in log:\n        counts[day] = counts.get(day, 0) + 1\n    return counts"
    text = make_extractor("resiliparse").extract(ParsedHtml(doc(f"<h1>Counting boats</h1><pre><code>{code}</code></pre>")))
    assert "    counts = {}" in text and "        counts[day] = counts.get(day, 0) + 1" in text


def test_list_main_content_keeps_items():
    items = ["Check the water level", "Open the lower paddles", "Wait for the chamber to empty", "Open the gates"]
    html = doc("<h1>Working the lock</h1><ol>" + "".join(f"<li>{i}</li>" for i in items) + "</ol>")
    text = make_extractor("resiliparse").extract(ParsedHtml(html))
    assert all(i in text for i in items)


def test_drop_link_lines_removes_link_blocks_but_not_paragraphs_with_links():
    html = doc("<h1>Gates at dawn</h1>" + BODY.replace("narrowboats", '<a href="/nb">narrowboats</a>') + RELATED)
    plain = ResiliparseExtractor().extract(ParsedHtml(html))
    cleaned = ResiliparseExtractor({"drop_link_lines_max_words": 12}).extract(ParsedHtml(html))
    assert "Canals | Summer" in plain  # resiliparse drops the link list but keeps the tag line
    assert "Canals | Summer" not in cleaned
    for gone in ("Canal boats return to Millbrook", "Lock gates repaired", "How to steer"):
        assert gone not in cleaned
    assert "more narrowboats than in any year" in cleaned  # a paragraph that merely contains a link


def test_script_only_and_empty_pages_are_rejected_with_a_reason(lid):
    script = "<html><head><script>var x = 1; document.write('hello boats');</script></head><body><script>init()</script></body></html>"
    r = extract_one(page("p-js", script), lid)
    assert (r["status"], r["rule"], r["value"], r["threshold"]) == (REJECTED, "empty_text", 0.0, 1.0)
    assert "script" in r["detail"]
    r = extract_one(page("p-empty", b""), lid)
    assert (r["status"], r["rule"]) == (REJECTED, "empty_text")


def test_wet_record_skips_html_extraction_but_gets_language_and_counts(lid):
    wet = ("<b>Not markup in a WET record.</b> The lock keeper logs every boat that passes.\n\n"
           "城东的老街上有一家开了四十多年的茶馆。每天清晨六点，老板就会把门板一块一块卸下来，烧好第一壶开水。")
    r = extract_one(page("p-wet", wet, content_type="text/plain", source="wet"), lid)
    assert r["extractor"] == "plaintext" and r["doc_id"] == doc_id_for("p-wet", "plaintext")
    assert r["text"].startswith("<b>Not markup")
    assert r["lang"] in ("en", "zh") and r["lang2"] in ("en", "zh") and r["lang2"] != r["lang"]
    assert r["n_words"] > 0 and r["n_sentences"] >= 2


class _FramesetCrash(Extractor):
    """An extractor that cannot handle <frameset> pages, as some real extractors cannot."""

    name = "frameset-crash"
    package = "resiliparse"
    defaults: ClassVar[dict] = {}

    def extract(self, page: ParsedHtml) -> str:
        if "<frameset" in page.html:
            raise RuntimeError("frameset pages are not supported")
        return ResiliparseExtractor().extract(page)


def test_a_page_that_crashes_the_extractor_is_an_error_row_and_the_batch_goes_on(lid):
    pages = [
        page("c1", doc(BODY)),
        page("c2", "<html><frameset><frame src='/a'></frameset></html>"),
        page("c3", "not bytes at all"),  # str content: bad input, not bytes
        page("c4", doc(BODY)),
    ]
    pages[2]["content"] = "not bytes at all"
    out = list(extract_documents(pages, lid, ExtractSection(), ("crashy", _FramesetCrash())))
    assert [r["page_id"] for r in out] == ["c1", "c2", "c3", "c4"]
    assert [r["status"] for r in out] == [KEPT, ERROR, ERROR, KEPT]
    assert out[1]["rule"] == "extract_error" and out[1]["detail"] == "RuntimeError: frameset pages are not supported"
    assert out[2]["detail"].startswith("TypeError")


def test_variants_are_one_row_per_html_page_per_extra_extractor(lid):
    cfg = ExtractSection(extractors=[{"name": "resiliparse"}, {"name": "trafilatura"},
                                     {"name": "resiliparse", "id": "resiliparse-nolinks",
                                      "options": {"drop_link_lines_max_words": 12}}])
    pages = [page("v1", doc(BODY + RELATED)), page("v2", "plain words " * 30, content_type="text/plain")]
    rows = list(extract_variants(pages, lid, cfg))
    assert [(r["page_id"], r["extractor"]) for r in rows] == [("v1", "trafilatura"), ("v1", "resiliparse")]
    assert rows[1]["doc_id"] == doc_id_for("v1", "resiliparse-nolinks")
    assert "How to steer" not in rows[1]["text"]


def test_strip_boilerplate_elements_removes_hidden_and_overlay_blocks_only():
    html = (
        "<html><head><title>Lock</title></head><body>"
        '<div id="mdbook-help-container"><h2>Keyboard shortcuts</h2><p>Press S to search in the book</p></div>'
        '<div class="cookie-banner cookies"><p>We use cookies to improve your visit to our website.</p></div>'
        '<main><h1>Gates at dawn</h1>' + BODY +
        '<p>Open the <span class="menuselection">File → Boats</span> menu to list every boat.</p>'
        '<div hidden><p>This paragraph is hidden from readers until a button is pressed.</p></div>'
        '<div class="share"><a href="/fb">Share on Facebook</a> <a href="/x">Share on X</a></div>'
        "</main></body></html>"
    )
    plain = ResiliparseExtractor().extract(ParsedHtml(html))
    stripped = ResiliparseExtractor({"strip_boilerplate_elements": True}).extract(ParsedHtml(html))
    assert "Keyboard shortcuts" in plain
    for gone in ("Keyboard shortcuts", "Press S to search", "We use cookies", "hidden from readers", "Share on"):
        assert gone not in stripped
    for kept in ("Gates at dawn", "lock keeper at Millbrook", "File → Boats"):
        assert kept in stripped
