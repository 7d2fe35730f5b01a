"""goldpan's learned extractor: boilerplate removal, the cascade's recorded path, deterministic
training, and the per-page time budget.

Pages: the bundled sample site's articles (English, Chinese, German: site header and menu, cookie
notice, "Related links" / "Popular this week" boxes, newsletter promo, tag lines, copyright footer)
and a news page and a documentation page in the shapes real sites use (share bar, comment section,
"Read more" teasers; code blocks, tables, headings and lists). resiliparse, the shipped model,
trafilatura and fastText all run for real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from goldpan.extract.budget import PageTimeout, nesting_depth_estimate, run_isolated
from goldpan.extract.encoding import decode_page
from goldpan.extract.extractors import make_extractor
from goldpan.extract.html_text import ParsedHtml
from goldpan.extract.langid import LanguageIdentifier
from goldpan.extract.line_model import LineModel, load_line_model
from goldpan.extract.line_training import label_full_text, label_snippets, page_example, train_from_pages
from goldpan.extract.lines import LINE_FEATURES, line_features, split_lines
from goldpan.extract.stage import extract_one
from goldpan.lake.schemas import ERROR, KEPT
from goldpan.recipe import ExtractSection
from sample.server import default_site_root

SITE = default_site_root()

NEWS = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Council approves new cycle lanes on Mill Road | The Riverside Courier</title></head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience and to show
personalised ads. <a href="/privacy">Manage preferences</a></p><button>Accept all</button></div>
<header><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a> |
<a href="/opinion">Opinion</a> | <a href="/weather">Weather</a></nav></header>
<main><article>
<h1>Council approves new cycle lanes on Mill Road</h1>
<div class="share-bar"><a href="https://facebook.com/share">Share on Facebook</a>
<a href="https://twitter.com/intent">Share on Twitter</a> <a href="mailto:?">Email</a></div>
<p>The city council voted on Tuesday evening to build protected cycle lanes along the full length of
Mill Road, ending a dispute that has divided shop owners and residents for almost three years.</p>
<p>The scheme, which will cost an estimated four million pounds, replaces forty parking spaces with a
kerb-separated lane in each direction. Work is due to begin in the spring and to take eight months.</p>
<p>Supporters said the change would make the road safer for the hundreds of children who cycle to the
two schools nearby. Several traders warned that losing parking would drive customers to the retail
park on the ring road, and asked the council to phase the work around the Christmas season.</p>
<p>The council's transport lead said the final design had been changed after the consultation, with
loading bays kept outside the bakery and the pharmacy, and a new crossing near the library.</p>
</article>
<section class="related-articles"><h2>Related articles</h2><ul>
<li><a href="/news/1">Bus fares to rise in April</a></li>
<li><a href="/news/2">New bridge opens to pedestrians</a></li>
<li><a href="/news/3">Parking charges under review</a></li></ul></section>
<section id="comments" class="comments"><h2>Comments (3)</h2>
<div class="comment"><p>Great news, about time!</p><a href="/reply">Reply</a></div>
<div class="comment"><p>What about the buses?</p><a href="/reply">Reply</a></div></section>
</main>
<footer><p>© 2024 The Riverside Courier. All rights reserved.</p>
<a href="/terms">Terms of use</a> · <a href="/privacy">Privacy policy</a> · <a href="/contact">Contact us</a>
</footer></body></html>"""

DOC = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>csv — CSV File Reading and Writing</title></head>
<body><div class="related" role="navigation"><h3>Navigation</h3><ul>
<li><a href="genindex.html">index</a></li><li><a href="py-modindex.html">modules</a> |</li>
<li><a href="netrc.html">next</a> |</li><li><a href="fileformats.html">previous</a> |</li></ul></div>
<div class="document"><div class="body" role="main">
<h1>csv — CSV File Reading and Writing</h1>
<p>The so-called CSV (Comma Separated Values) format is the most common import and export format for
spreadsheets and databases. The csv module implements classes to read and write tabular data in CSV
format.</p>
<h2>Module Contents</h2>
<p>The csv module defines the following functions, each of which takes an iterable of rows:</p>
<ul><li>reader() returns a reader object which will iterate over lines in the given csvfile.</li>
<li>writer() returns a writer object responsible for converting the user's data into delimited strings.</li></ul>
<p>A short usage example:</p>
<pre>import csv
with open('eggs.csv', newline='') as csvfile:
    spamreader = csv.reader(csvfile, delimiter=' ', quotechar='|')
    for row in spamreader:
        print(', '.join(row))</pre>
<p>The dialect parameters and their defaults are listed in the table below.</p>
<table><tr><th>Attribute</th><th>Default</th><th>Meaning</th></tr>
<tr><td>delimiter</td><td>','</td><td>A one-character string used to separate fields.</td></tr>
<tr><td>quotechar</td><td>'"'</td><td>A one-character string used to quote fields containing special characters.</td></tr>
</table>
</div></div>
<div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><ul><li><a href="#">csv</a></li>
<li><a href="#module-contents">Module Contents</a></li></ul><h4>Previous topic</h4>
<p><a href="fileformats.html">File Formats</a></p><h3>This Page</h3><ul><li><a href="_sources/csv.rst.txt">Report a Bug</a></li>
<li><a href="_sources/csv.rst.txt">Show Source</a></li></ul></div>
<div class="footer">© Copyright 2001-2023, Python Software Foundation. Last updated on Jan 01, 2024.
<a href="bugs.html">Found a bug</a>?</div></body></html>"""


@pytest.fixture(scope="module")
def goldpan_ext():
    return make_extractor("goldpan")


def _extract(ext, html: str) -> str:
    return ext.extract(ParsedHtml(html))


def test_news_page_keeps_article_and_drops_boilerplate(goldpan_ext):
    text = _extract(goldpan_ext, NEWS)
    for para in ("ending a dispute that has divided shop owners", "replaces forty parking spaces",
                 "retail park on the ring road", "a new crossing near the library"):
        assert para in text
    for junk in ("We use cookies", "Share on Facebook", "Related articles", "Bus fares to rise",
                 "Comments (3)", "Great news, about time", "All rights reserved", "Privacy policy",
                 "Home | News"):
        assert junk not in text, junk


def test_documentation_page_keeps_code_tables_headings_lists(goldpan_ext):
    text = _extract(goldpan_ext, DOC)
    assert "Module Contents" in text  # heading
    assert "reader() returns a reader object" in text  # list item
    assert "spamreader = csv.reader(csvfile, delimiter=' ', quotechar='|')" in text  # code, indentation kept
    assert "        print(', '.join(row))" in text
    assert "delimiter" in text and "A one-character string used to separate fields." in text  # table row
    for junk in ("Show Source", "Report a Bug", "Found a bug", "Previous topic", "Python Software Foundation"):
        assert junk not in text, junk


@pytest.mark.parametrize(
    ("rel", "keep", "drop"),
    [
        ("en/articles/first-loaf.html", ["Kneading is where most beginners give up too soon",
                                         "Keep notes, and your second and third loaves"],
         ["Related links", "Popular this week", "uses cookies", "All rights reserved", "Get one email a month"]),
        ("zh/articles/green-tea.html", None, ["版权", "Cookie"]),
        ("de/articles/rundweg-hollin-edge.html", None, ["Cookies"]),
    ],
)
def test_sample_site_articles(goldpan_ext, rel, keep, drop):
    html = decode_page((SITE / rel).read_bytes(), None).text
    text = _extract(goldpan_ext, html)
    assert len(text) > 300
    for k in keep or []:
        assert k in text
    for d in drop:
        assert d not in text, (rel, d)


def test_cascade_records_its_path():
    lid = LanguageIdentifier()
    sure = {"max_uncertainty": 1.0, "min_chars": 0}
    unsure = {"max_uncertainty": -1.0}  # every page counts as unsure: trafilatura answers
    page = {"page_id": "n1", "batch_id": "b", "url": "https://courier.example/news/1",
            "content": NEWS.encode(), "charset_declared": "utf-8"}
    rows = {}
    for label, opts in (("fast", sure), ("fallback", unsure)):
        cfg = ExtractSection(extractors=[{"name": "cascade", "options": opts}])
        ext = ("cascade", make_extractor("cascade", opts))
        rows[label] = extract_one(page, lid, cfg, ext)
    assert rows["fast"]["status"] == rows["fallback"]["status"] == KEPT
    assert rows["fast"]["extractor_path"] == "goldpan"
    assert rows["fallback"]["extractor_path"] == "trafilatura"
    assert rows["fast"]["extractor"] == "cascade" and "lines-" in rows["fast"]["extractor_version"]
    assert "Mill Road" in rows["fallback"]["text"]


def test_goldpan_is_the_default_and_records_model_version():
    lid = LanguageIdentifier()
    cfg = ExtractSection()
    assert cfg.extractors[0].name == "goldpan"
    row = extract_one({"page_id": "n2", "batch_id": "b", "url": "https://courier.example/news/2",
                       "content": NEWS.encode(), "charset_declared": None}, lid, cfg)
    model = load_line_model("shipped:line_model.json")
    assert row["status"] == KEPT and row["extractor"] == "goldpan"
    assert row["extractor_version"].endswith(model.sha1[:12]) and row["extractor_path"] == "goldpan"


def _training_pages():
    """Sample-site articles with their <article> text as gold, plus the two pages above."""
    import lxml.html
    pages = []
    for path in sorted((SITE / "en" / "articles").glob("*.html"))[:6]:
        html = path.read_text(encoding="utf-8")
        art = lxml.html.fromstring(html).xpath("//article")
        if art:
            pages.append(page_example("site", html, art[0].text_content()))
    pages.append(page_example("snippets", NEWS,
                              {"with": ["replaces forty parking spaces"], "without": ["Related articles", "Reply"]}))
    return pages


def test_training_is_deterministic_for_a_seed():
    pages = _training_pages()
    a = train_from_pages(pages, seed=7, hidden=8, epochs=60)
    b = train_from_pages(pages, seed=7, hidden=8, epochs=60)
    c = train_from_pages(pages, seed=8, hidden=8, epochs=60)
    assert a.to_json() == b.to_json() and a.sha1 == b.sha1
    assert a.sha1 != c.sha1
    assert a.features == list(LINE_FEATURES)
    again = LineModel.from_json(a.to_json())
    x = pages[0].x
    assert np.allclose(again.predict(x), a.predict(x), atol=1e-6)


def test_ensemble_is_one_network_averaging_its_members_logits():
    """An ensemble of k seeds is folded into one wider network: the same bytes for the same seed, and a
    line's logit is exactly the mean of the k members' logits (real sample-site pages)."""
    pages = _training_pages()
    a = train_from_pages(pages, seed=7, hidden=8, epochs=60, ensemble=3)
    b = train_from_pages(pages, seed=7, hidden=8, epochs=60, ensemble=3)
    assert a.to_json() == b.to_json()
    assert a.w1.shape[1] == 24 and a.meta["seeds"] == [7, 8, 9] and a.meta["ensemble"] == 3
    members = [train_from_pages(pages, seed=s, hidden=8, epochs=60) for s in (7, 8, 9)]

    def logit(p):
        return np.log(p / (1.0 - p))

    x = np.vstack([p.x for p in pages])
    assert np.allclose(logit(a.predict(x)), np.mean([logit(m.predict(x)) for m in members], axis=0), atol=1e-6)
    again = LineModel.from_json(a.to_json())
    assert np.allclose(again.predict(x), a.predict(x), atol=1e-6)


def test_shipped_model_carries_its_training_record():
    model = load_line_model("shipped:line_model.json")
    meta = model.meta
    assert model.features == list(LINE_FEATURES)
    assert meta["trained_by"] == "scripts/train_extract_model.py"
    assert set(meta["held_out_report_split"]) == {"aeb", "trafilatura", "docs"}
    assert "split" in meta["training_data"] and meta["seed"] is not None
    lines = meta["held_out_lines"]
    assert lines["n_pos"] == lines["tp"] + lines["fn"] and lines["n_neg"] >= lines["fp"] > 0
    assert 0.0 < model.threshold < 1.0


def test_line_features_place_each_line_against_the_article_body():
    """Prose before/after: the tail after the last paragraph (bios, promos) has no prose after it;
    link coverage comes from the page's anchors; dates and boilerplate words are found in short lines."""
    text = ("Home | News | Sport\n\n"
            "The council voted on Tuesday to build protected cycle lanes along Mill Road.\n\n"
            "Work is due to begin in the spring and is expected to take about eight months.\n\n"
            "Posted on March 3, 2024\n"
            "Share on Facebook\n"
            "市议会周二投票决定沿磨坊路修建受保护的自行车道。")
    lines, before, after = split_lines(text)
    anchors = frozenset({"Home", "News", "Sport", "Share on Facebook"})
    x = line_features(lines, before, after, anchors, "Council approves cycle lanes")
    col = {n: i for i, n in enumerate(LINE_FEATURES)}
    assert x.shape == (6, len(LINE_FEATURES))
    assert x[0, col["link_cov"]] == 1.0 and x[4, col["link_cov"]] == 1.0 and x[1, col["link_cov"]] == 0.0
    assert x[0, col["prose_before"]] == 0.0 and x[0, col["prose_after"]] > 0.0
    assert x[2, col["prose_after"]] == 0.0 and x[3, col["prose_after"]] == 0.0  # the tail
    assert x[3, col["prose_before"]] > x[2, col["prose_before"]] > 0.0
    assert x[3, col["date_like"]] == 1.0 and x[4, col["boiler_words"]] >= 1.0
    assert x[5, col["cjk_share"]] > 0.8


def test_line_labels():
    gold = "The first paragraph of the article.\nThe second paragraph, with more words in it than the first."
    lines = ["Home | News", "The first paragraph of the article.",
             "The second paragraph, with more words in it than the first.", "Share this article on social media"]
    assert label_full_text(lines, gold) == [0.0, 1.0, 1.0, 0.0]
    assert label_snippets(lines, ["first paragraph"], ["Share this"]) == [None, 1.0, None, 0.0]


def test_nesting_depth_estimate():
    deep = "<html><body>" + "<div>x" * 3000 + "</div>" * 3000 + "</body></html>"
    assert nesting_depth_estimate(deep, 100) >= 3000
    flat = "<ul>" + "<li><p>item<br><img src=a.png/>" * 3000 + "</ul>"
    assert nesting_depth_estimate(flat, 100) < 10
    assert nesting_depth_estimate(NEWS, 10) < 20  # cap below its tag count: the balance is computed


def _spin(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def test_isolated_run_returns_or_times_out():
    assert run_isolated(_spin, (0.0,), 5.0) == "done"
    t0 = time.monotonic()
    with pytest.raises(PageTimeout):
        run_isolated(_spin, (30.0,), 0.5)
    assert time.monotonic() - t0 < 10


def _boom() -> str:
    raise ValueError("broken page")


def _isolated_in_worker(_: int) -> str:
    return run_isolated(_spin, (0.0,), 5.0)


def test_isolated_run_reports_errors_and_works_inside_a_daemonic_pool_worker():
    import multiprocessing

    with pytest.raises(RuntimeError, match="ValueError: broken page"):
        run_isolated(_boom, (), 5.0)
    # multiprocessing.Pool workers are daemonic (no multiprocessing children): the fork still works.
    # close + join, not the context manager's terminate: when the session runs with SIGINT ignored (a
    # background job), Dagster's steps leave SIGTERM ignored too and a terminated worker never exits.
    pool = multiprocessing.get_context("fork").Pool(1)
    try:
        assert pool.map(_isolated_in_worker, [0]) == ["done"]
    finally:
        pool.close()
        pool.join()


def test_pathological_page_becomes_an_error_row_within_the_budget():
    """50,000 nested divs: resiliparse's main-content pass would take minutes; the stage gives up
    at the recipe's budget and writes an error row."""
    html = "<html><body>" + "<div>x" * 50_000 + "</div>" * 50_000 + "</body></html>"
    page = {"page_id": "deep", "batch_id": "b", "url": "https://deep.example/", "content": html.encode(),
            "charset_declared": "utf-8"}
    cfg = ExtractSection(page_time_budget_s=2.0, isolate_min_depth=2000)
    t0 = time.monotonic()
    row = extract_one(page, LanguageIdentifier(), cfg)
    elapsed = time.monotonic() - t0
    assert row["status"] == ERROR and row["rule"] == "extract_timeout"
    assert row["threshold"] == 2.0 and "2 s" in row["detail"]
    assert elapsed < 20  # the budget plus process start-up, not minutes


def test_budget_leaves_ordinary_pages_alone():
    page = {"page_id": "ok", "batch_id": "b", "url": "https://courier.example/", "content": NEWS.encode(),
            "charset_declared": "utf-8"}
    row = extract_one(page, LanguageIdentifier(), ExtractSection(page_time_budget_s=5.0, isolate_min_depth=10))
    # isolate_min_depth=10 sends this page through the child process: same result, same path.
    assert row["status"] == KEPT and "Mill Road" in row["text"] and row["extractor_path"] == "goldpan"


def test_shipped_model_file_is_small():
    path = Path(__file__).resolve().parents[2] / "goldpan" / "data" / "extract" / "line_model.json"
    assert path.stat().st_size < 200_000


def test_line_model_is_registered_once_in_the_lake_models_table(tmp_path):
    """The shipped model gets one `models` row (sha1, held-out metrics) and its bytes in the lake."""
    from goldpan.classify.registry import latest_model
    from goldpan.extract.model_registry import NAME, register_line_model
    from goldpan.lake import Lake

    lake = Lake(str(tmp_path / "lake"))
    model = load_line_model("shipped:line_model.json")
    assert register_line_model(lake, model, "recipe-x", "run-1") is True
    assert register_line_model(lake, model, "recipe-x", "run-2") is False  # same sha1: nothing new
    row = latest_model(lake, NAME)
    assert row["sha1"] == model.sha1 and row["kind"] == "extract" and row["status"] == "trained"
    assert row["run_id"] == "run-1" and 0.5 < row["f1"] <= 1.0 and row["n_heldout_pos"] > 0
    stored = Path(row["path"]).read_text(encoding="utf-8")
    assert LineModel.from_json(stored).sha1 == model.sha1
    assert json.loads(row["config_json"])["held_out_pages"].keys() == {"aeb", "trafilatura", "docs"}
    with lake.connect(tables=["models"]) as con:
        assert con.execute("SELECT count(*) FROM models").fetchone()[0] == 1


# A news page whose "most read" box resiliparse keeps: teaser headlines (links) with summaries,
# after ad slots (a long run of markup) that separate it from the article.
_ADS = "".join(
    f'<div class="ad-slot" id="ad-{i}" data-slot="/1234/news/article/mid{i}" style="min-height:250px">'
    f'<script>window.ads=window.ads||[];window.ads.push({{slot:"mid{i}",sizes:[[300,250],[728,90]]}});</script></div>'
    for i in range(5))
TEASERS = f"""<html><head><title>Council approves new cycle lanes | Courier</title></head><body>
<main><article><h1>Council approves new cycle lanes</h1>
<p>The city council voted on Tuesday evening to build protected cycle lanes along the full length of
Mill Road, ending a dispute that has divided shop owners and residents for almost three years.</p>
<p>The scheme, which will cost an estimated four million pounds, replaces forty parking spaces with a
kerb-separated lane in each direction. Work is due to begin in the spring and to take eight months.</p>
</article>{_ADS}
<div class="most-read-widget"><h2>Most read</h2><ol>
<li><a href="/news/101">Bus fares to rise in April across the whole network</a><p>The operator says rising
fuel costs leave it no choice, and passenger groups have asked for a review.</p></li>
<li><a href="/news/102">New footbridge opens to pedestrians after two years of work</a><p>The bridge links
the station to the retail park and was paid for by the developer.</p></li>
</ol></div></main></body></html>"""


def test_source_features_describe_the_markup_around_each_line():
    """Each first-pass line is found in the HTML: a teaser headline starts inside a link, in a block
    (after a long run of ad markup) whose box is named "most-read-widget"; the article's paragraphs
    form the main block."""
    from goldpan.extract.learned import first_pass, first_pass_tree

    tree = first_pass_tree(TEASERS)
    lines, before, after = split_lines(first_pass(tree))
    x = line_features(lines, before, after, frozenset(), tree.title, TEASERS)
    col = {n: i for i, n in enumerate(LINE_FEATURES)}

    def row(fragment: str) -> np.ndarray:
        return x[next(i for i, line in enumerate(lines) if fragment in line)]

    para = row("replaces forty parking spaces")
    heading = row("Council approves new cycle lanes")
    teaser = row("Bus fares to rise in April")
    summary = row("passenger groups have asked")
    assert para[col["src_located"]] == teaser[col["src_located"]] == 1.0
    assert para[col["src_tag_p"]] == 1.0 and heading[col["src_tag_heading"]] == 1.0
    assert teaser[col["src_tag_a"]] == 1.0 and summary[col["src_tag_p"]] == 1.0
    assert para[col["block_is_main"]] == 1.0 and teaser[col["block_is_main"]] == 0.0
    assert teaser[col["block_after_main"]] == 1.0 and teaser[col["block_boiler_class"]] > 0
    assert para[col["block_boiler_class"]] == 0.0
    assert para[col["block_prose_share"]] > summary[col["block_prose_share"]] > 0.0
    assert 0.0 < para[col["src_rel_pos"]] < teaser[col["src_rel_pos"]] < 1.0
    # Without the HTML (or for text that is not in it) the source columns stay zero.
    bare = line_features(lines, before, after, frozenset(), tree.title)
    assert not bare[:, col["src_located"]].any()
    missing = line_features(["不在网页里的一行字"], [True], [True], frozenset(), None, TEASERS)
    assert not missing[:, col["src_located"]].any()


def test_keep_headline_option_forces_the_headline_or_leaves_it_to_the_model():
    kept = _extract(make_extractor("goldpan", {"keep_headline": True}), NEWS)
    free = _extract(make_extractor("goldpan", {"keep_headline": False}), NEWS)
    assert kept.splitlines()[0] == "Council approves new cycle lanes on Mill Road"
    # Without the rule the model decides; every line it keeps is one the default keeps too.
    assert set(free.splitlines()) <= set(kept.splitlines())
    assert "replaces forty parking spaces" in free


def test_line_model_scores_a_row_the_same_in_any_block_of_rows():
    """`predict` multiplies in blocks of 64 rows (so OpenBLAS stays on one thread): a line's
    P(content) must not depend on how many lines its page has. Real pages: the news and
    documentation pages above and the sample site's English, Chinese and German articles, stacked
    to more than two blocks."""
    from goldpan.extract.learned import first_pass, first_pass_tree, page_features

    model = load_line_model("shipped:line_model.json")
    htmls = [NEWS, DOC] + [decode_page((SITE / rel).read_bytes(), None).text for rel in (
        "en/articles/first-loaf.html", "zh/articles/green-tea.html", "de/articles/rundweg-hollin-edge.html")]
    rows = []
    for html in htmls:
        tree = first_pass_tree(html)
        rows.append(page_features(first_pass(tree), html, tree.title)[2])
    x = np.vstack(rows * 3)
    assert x.shape[0] > 128
    together = model.predict(x)
    alone = np.concatenate([model.predict(x[i: i + 1]) for i in range(x.shape[0])])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-12)
    assert ((together >= model.threshold) == (alone >= model.threshold)).all()
    assert 0.0 < together.min() < model.threshold < together.max() < 1.0


def test_lists_kept_renames_every_spelling_of_ul_and_nothing_else():
    from goldpan.extract.learned import lists_kept

    html = ("<UL class=a><li>一</li></Ul ><ul><li>two</li></ul><ulink>x</ulink><ol><li>3</li></ol>"
            "<p>ul <b>ul</b></p>")
    assert lists_kept(html) == ("<ol class=a><li>一</li></ol ><ol><li>two</li></ol><ulink>x</ulink>"
                                "<ol><li>3</li></ol><p>ul <b>ul</b></p>")
    assert lists_kept("<p>没有列表</p>") == "<p>没有列表</p>"


def test_character_class_counts_hold_for_long_lines_and_cjk():
    """Per-line counts (packed 16-bit counters, and the unpacked path for a line of 65,535+
    characters) match counts made directly on each line."""
    long_line = "The council voted on Tuesday, 4 March 2025. " * 1600  # ~70,000 characters
    lines = ["城市议会周二晚投票决定修建自行车道。", "Share on Facebook | Share on Twitter", long_line.strip(),
             "2025年3月4日 12:30"]
    n = len(lines)
    x = line_features(lines, [True] * n, [True] * n, frozenset(), None)
    col = {name: i for i, name in enumerate(LINE_FEATURES)}
    for i, line in enumerate(lines):
        core = " ".join(line.split())
        cjk = sum(0x3400 <= ord(c) < 0xA000 for c in core)
        digits = sum(c.isdigit() for c in core)
        assert x[i, col["log_chars"]] == pytest.approx(np.log1p(len(core)), rel=1e-6)
        assert x[i, col["log_words"]] == pytest.approx(np.log1p(len(core.split())), rel=1e-6)
        assert x[i, col["cjk_share"]] == pytest.approx(cjk / len(core), rel=1e-5)
        assert x[i, col["digit_share"]] == pytest.approx(digits / len(core), rel=1e-5)
    assert x[1, col["separators"]] == pytest.approx(0.1)


def test_bullets_indents_and_tabs_of_first_pass_lines():
    lines = ["  • Install the package", "1. Download the archive", "    return value + 1", "- ",
             "١. not an ASCII number", "2024 was a good year", "a\tb\tc"]
    n = len(lines)
    x = line_features(lines, [True] * n, [True] * n, frozenset(), None)
    col = {name: i for i, name in enumerate(LINE_FEATURES)}
    assert x[:, col["bullet"]].tolist() == [1, 1, 0, 1, 0, 0, 0]
    # a bullet-like first character (even without a bullet) is never an indent
    assert x[:, col["indented"]].tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert x[:, col["tabs"]].tolist() == pytest.approx([0, 0, 0, 0, 0, 0, 0.2])
    # the bullet is not part of the line's text: "Install the package" has 19 characters
    assert x[0, col["log_chars"]] == pytest.approx(np.log1p(19), rel=1e-6)
