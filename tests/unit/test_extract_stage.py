"""Unit tests for goldpan.extract.stage: one documents row per kept page, with named rules.

Pages are built in memory (the same dict shape as a `pages` row); resiliparse, fastText lid.176
and spaCy all run for real. Every text was written for these tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from goldpan.extract.html_text import EXTRACTOR, EXTRACTOR_VERSION
from goldpan.extract.langid import LanguageIdentifier
from goldpan.extract.stage import ExtractConfig, doc_id_for, extract_documents, extract_one
from goldpan.lake.schemas import DOCUMENTS, ERROR, KEPT, REJECTED
from goldpan.text.tokenize import words

FETCHED = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)

NAV = (
    '<nav><a href="/">Home</a> | <a href="/about">About us</a> | '
    '<a href="/archive">Archive</a> | <a href="/contact">Contact</a></nav>'
)
FOOTER = (
    "<footer><p>Copyright 2024 Harbourside Gazette. All rights reserved. "
    '<a href="/privacy">Privacy policy</a></p></footer>'
)
EN_ARTICLE = """<article><h1>The night ferry returns</h1>
<p>After three winters without service, the night ferry between Port Alder and the island resumed
on Friday. The first crossing left the pier at ten past eleven with forty passengers, two bicycles
and a crate of oranges bound for the island grocer.</p>
<p>The captain, who has worked the route for nineteen years, said the repairs to the engine room
took longer than anyone had planned. Spare parts had to be ordered from a yard on the other side of
the country. Residents of the island welcomed the news. Many of them work late shifts at the
hospital on the mainland and had been sleeping in their cars.</p></article>"""
EN_HTML = (
    "<html><head><title>Night ferry returns | Harbourside Gazette</title></head>"
    f"<body>{NAV}{EN_ARTICLE}{FOOTER}</body></html>"
)

ZH_HTML = """<html><head>{meta}<title>老街的茶馆</title></head><body>
<nav><a href="/">首页</a> <a href="/news">新闻</a> <a href="/about">关于我们</a></nav>
<article><h1>老街的茶馆</h1>
<p>城东的老街上有一家开了四十多年的茶馆。每天清晨六点，老板就会把门板一块一块卸下来，烧好第一壶开水。</p>
<p>来喝茶的大多是附近的老街坊，他们习惯坐在靠窗的位置，一边喝茶一边聊天。有人说，这里的茶并不比别处好，可是大家还是愿意每天来坐一坐。</p>
</article><footer><p>版权所有 城东晚报</p></footer></body></html>"""
ZH_TEXT = (
    "老街的茶馆\n\n"
    "城东的老街上有一家开了四十多年的茶馆。每天清晨六点，老板就会把门板一块一块卸下来，烧好第一壶开水。\n\n"
    "来喝茶的大多是附近的老街坊，他们习惯坐在靠窗的位置，一边喝茶一边聊天。有人说，这里的茶并不比别处好，可是大家还是愿意每天来坐一坐。"
)

PLAIN = (
    "Notes from the allotment.\r\n\r\n\r\n"
    "The broad beans went in on Sunday, two rows of twelve, with the usual argument about spacing.   "
    "The onions can wait another week.\n"
)

TOPICS = [
    "Spring planting guide",
    "Composting for beginners",
    "Pruning fruit trees",
    "Saving tomato seeds",
    "Building a cold frame",
    "Watering in a drought",
]
NAV_HTML = (
    "<html><head><title>Garden topics</title></head><body><main><h1>Topics</h1>"
    + "".join(f'<p><a href="/g/{i}">{t}</a></p>' for i, t in enumerate(TOPICS))
    + "<p>Pick a topic.</p></main></body></html>"
)


def page(
    page_id: str, content, content_type: str | None = "text/html", charset: str | None = "utf-8", **kw
) -> dict:
    return {
        "page_id": page_id,
        "batch_id": "b-2024-05-01",
        "url": f"http://news.example/{page_id}",
        "host": "news.example",
        "fetched_at": FETCHED,
        "content": content,
        "content_type": content_type,
        "charset_declared": charset,
        **kw,
    }


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


# The counts below are those of resiliparse's output for this page, so this test names it; the
# default (goldpan) extractor has its own tests in test_extract_learned.py.
RESILIPARSE = ExtractConfig(extractors=[{"name": "resiliparse"}])


def test_english_article_is_kept_without_boilerplate(lid):
    r = extract_one(page("p-en", EN_HTML.encode("utf-8")), lid, RESILIPARSE)

    assert r["status"] == KEPT
    assert (r["rule"], r["value"], r["threshold"], r["detail"]) == (None, None, None, None)
    assert r["title"] == "Night ferry returns | Harbourside Gazette"
    assert r["text"].startswith("The night ferry returns\n\nAfter three winters without service,")
    assert r["text"].endswith("had been sleeping in their cars.")
    for boilerplate in (
        "About us",
        "Archive",
        "Contact",
        "Copyright",
        "All rights reserved",
        "Privacy policy",
    ):
        assert boilerplate not in r["text"]
    assert r["lang"] == "en"
    assert r["lang_score"] > 0.9
    # No contractions or hyphens in the article: spaCy words == whitespace-separated chunks.
    assert r["n_words"] == len(r["text"].split()) == 111
    assert r["n_words"] == len(words(r["text"], "en"))
    # Heading (1) + first paragraph (2) + second paragraph (4).
    assert r["n_sentences"] == 7
    assert r["n_lines"] == 5
    assert r["n_chars"] == len(r["text"])
    assert (r["encoding"], r["encoding_source"]) == ("utf-8", "http-header")
    assert (r["extractor"], r["extractor_version"]) == (EXTRACTOR, EXTRACTOR_VERSION)
    assert (r["page_id"], r["batch_id"], r["url"], r["host"], r["fetched_at"]) == (
        "p-en",
        "b-2024-05-01",
        "http://news.example/p-en",
        "news.example",
        FETCHED,
    )


def test_row_has_exactly_the_documents_columns(lid):
    r = extract_one(page("p-en", EN_HTML.encode("utf-8")), lid)
    assert list(r) == DOCUMENTS.names


def test_chinese_page_is_kept_with_character_word_counts(lid):
    r = extract_one(page("p-zh", ZH_HTML.format(meta="").encode("utf-8")), lid)
    assert r["status"] == KEPT
    assert r["title"] == "老街的茶馆"
    assert r["text"] == ZH_TEXT
    assert "首页" not in r["text"] and "版权所有" not in r["text"]
    assert r["lang"] == "zh"
    assert r["lang_score"] > 0.9
    han = sum(1 for c in ZH_TEXT if "\u4e00" <= c <= "\u9fff")
    assert r["n_words"] == han == 109  # one word per Han character; punctuation is not a word
    assert r["n_sentences"] == 5  # title + 2 + 2, split at 。
    assert r["n_lines"] == 5


def test_gbk_page_with_lying_utf8_header(lid):
    content = ZH_HTML.format(meta='<meta charset="gbk">').encode("gbk")
    r = extract_one(page("p-gbk", content, charset="utf-8"), lid)
    assert r["status"] == KEPT
    assert r["text"] == ZH_TEXT
    assert r["title"] == "老街的茶馆"
    assert (r["encoding"], r["encoding_source"]) == ("gb18030", "html-meta")
    assert r["lang"] == "zh"


def test_plain_text_page_skips_html_extraction(lid):
    r = extract_one(page("p-txt", PLAIN.encode("utf-8"), content_type="text/plain", charset=None), lid)
    assert r["status"] == KEPT
    assert r["extractor"] == "plaintext"
    assert r["title"] is None
    assert r["text"] == (
        "Notes from the allotment.\n\nThe broad beans went in on Sunday, two rows of twelve, with the usual "
        "argument about spacing. The onions can wait another week."
    )
    assert r["lang"] == "en"
    assert r["n_words"] == 27
    assert r["n_sentences"] == 3
    assert r["n_lines"] == 3
    assert (r["encoding"], r["encoding_source"]) == ("utf-8", "fallback-utf8")


def test_plain_text_that_looks_like_html_is_not_parsed(lid):
    text = "<p>Angle brackets stay in text files</p> because a text file is not markup at all, " * 2
    r = extract_one(page("p-txt2", text.encode(), content_type="text/plain"), lid)
    assert r["extractor"] == "plaintext"
    assert r["text"].startswith("<p>Angle brackets")


@pytest.mark.parametrize(
    "content", [b"", b"<html><body></body></html>", b"<html><body>  \n\t </body></html>"]
)
def test_empty_body_is_rejected_as_empty_text(lid, content):
    r = extract_one(page("p-empty", content), lid)
    assert r["status"] == REJECTED
    assert (r["rule"], r["value"], r["threshold"]) == ("empty_text", 0.0, 1.0)
    assert r["text"] == ""
    assert (r["n_chars"], r["n_words"], r["n_lines"]) == (0, 0, 0)
    assert r["lang"] is None


def test_short_text_is_rejected_with_value_and_threshold(lid):
    r = extract_one(page("p-short", b"<html><body><p>Closed for lunch.</p></body></html>"), lid)
    assert r["status"] == REJECTED
    assert r["rule"] == "min_text_chars"
    assert r["value"] == 15.0  # "Closedforlunch." without spaces
    assert r["threshold"] == 80.0
    assert r["text"] == "Closed for lunch."
    assert r["lang"] == "en"  # counts are still filled in for rejected rows
    assert r["n_words"] == 3


def test_min_chars_comes_from_the_config(lid):
    r = extract_one(
        page("p-short", b"<html><body><p>Closed for lunch.</p></body></html>"),
        lid,
        ExtractConfig(min_chars=10),
    )
    assert r["status"] == KEPT


def test_link_heavy_short_page_is_a_navigation_page(lid):
    r = extract_one(page("p-nav", NAV_HTML.encode()), lid)
    assert r["status"] == REJECTED
    assert r["rule"] == "navigation_page"
    linked = sum(len(t.replace(" ", "")) for t in TOPICS)
    visible = linked + len("Topics") + len("Pickatopic.")
    assert (linked, visible) == (111, 128)
    assert r["value"] == round(linked / visible, 4) == 0.8672
    assert r["threshold"] == 0.6


def test_link_heavy_but_long_page_is_kept(lid):
    # The rule applies only to main texts shorter than max_link_density_min_chars (this one: ~100).
    r = extract_one(page("p-nav", NAV_HTML.encode()), lid, ExtractConfig(max_link_density_min_chars=50))
    assert r["status"] == KEPT and len(r["text"]) >= 50


def test_missing_content_is_an_error_row(lid):
    r = extract_one(page("p-none", None), lid)
    assert r["status"] == ERROR
    assert r["rule"] == "extract_error"
    assert r["detail"] == "ValueError: page has no content bytes"
    assert r["text"] is None
    assert r["doc_id"] == doc_id_for("p-none")


def test_batch_goes_on_after_bad_pages_one_row_per_page_in_order(lid):
    pages = [
        page("p1", EN_HTML.encode()),
        page("p2", None),
        page("p3", b""),
        page("p4", ZH_HTML.format(meta="").encode()),
        page("p5", b"<html><body><p>Back soon.</p></body></html>"),
        page("p6", NAV_HTML.encode()),
        page("p7", None),
        page("p8", PLAIN.encode(), content_type="text/plain"),
    ]
    out = list(extract_documents(iter(pages), lid))
    assert [r["page_id"] for r in out] == [p["page_id"] for p in pages]
    assert [(r["status"], r["rule"]) for r in out] == [
        (KEPT, None),
        (ERROR, "extract_error"),
        (REJECTED, "empty_text"),
        (KEPT, None),
        (REJECTED, "min_text_chars"),
        (REJECTED, "navigation_page"),
        (ERROR, "extract_error"),
        (KEPT, None),
    ]
    assert [r["lang"] for r in out] == ["en", None, None, "zh", "en", "en", None, "en"]
    assert len({r["doc_id"] for r in out}) == len(pages)


def test_doc_id_is_stable_and_depends_on_page_and_extractor(lid):
    a = extract_one(page("p-stable", EN_HTML.encode()), lid)
    b = extract_one(page("p-stable", b"<html><body>different bytes entirely</body></html>"), lid)
    assert a["doc_id"] == b["doc_id"] == doc_id_for("p-stable")
    assert len(a["doc_id"]) == 20 and all(c in "0123456789abcdef" for c in a["doc_id"])
    assert doc_id_for("p-stable") != doc_id_for("p-other")
    assert doc_id_for("p-stable", "resiliparse") != doc_id_for("p-stable", "trafilatura")
