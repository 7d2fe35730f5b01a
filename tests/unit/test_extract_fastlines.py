"""The compiled line extractor (goldpan/extract/_fastlines.c) against its Python reference.

Every function the C module replaces keeps its Python version (`*_py`), which is the definition: the
tests run both on real pages (Debian documentation in four languages, the bundled sample site) and on
hand-made edge cases (entities, astral characters, tabs, bullets, lines longer than 65,535 characters,
anchors whose text runs past 300 characters) and require the same result, features to float32
rounding. Speed is measured in bench/extract_identity.py and bench/extract_quality.py, not here.
"""

from __future__ import annotations

import numpy as np
import pytest

from goldpan.extract import learned, line_model, lines
from goldpan.extract.learned import first_pass, first_pass_tree
from goldpan.extract.line_model import load_line_model
from tests.fixtures.real_pages import real_and_sample_htmls

EDGE_PAGES = [
    "",
    "<html><body></body></html>",
    "<a href=x>One<a href=y>Two</a>",
    "<a  x>  <b>hi</b>",
    "<a x> <img>",
    "<a x><strong>" + "y" * 301 + "<",
    "<a x>\n<span>\n<p>",
    "<A\tx><h2 c>Head</h2> <a x><br>text<",
    "<a x>" + "z" * 300 + "<p>" + "<a x>" + "z" * 301 + "<p>",
    "<a x>A &amp; B</a><a x> &nbsp; </a><a x>\u00a0</a>",
    "<ul><UL><Ul x></uL></ul-x><ulx><ul_><ul\u00e9>",
    "<BODY><p class=\"a\" id=\"related-links\">Most read today</p><h1 class=\"story-title\">Title</h1>",
    "<html><head><title>T</title></head><body class=\"x\"><article><p>"
    + "A sentence that goes on. " * 40 + "</p><div class=\"share\"><a href=1>Share</a> | <a href=2>Tweet</a>"
    "</div><ul><li>\u2022 bullet one</li><li>1. numbered</li></ul><pre>\tcode\tline\n  indented</pre>"
    "<table><tr><td>a</td><td>b</td></tr></table><p>\U0001F600 emoji \u4e2d\u6587\u5185\u5bb9\uff0c"
    "\u7248\u6743\u6240\u6709 \u00a9 2024</p><p>" + "x" * 70000 + "</p></article></body></html>",
]

EDGE_TEXTS = [
    "", "\n", " \t\n\u3000\n y\r\n", "a\n\n\nb\n", "x", "\u2028 line\x85next\n\n",
    "  \u2022 bullet\n- dash\n1) one\n12. twelve\n\u00b7\n",
    "Home | News | Sport\nShare on Facebook\nRead more\nAll rights reserved \u00a9 2024\n",
    "12.03.2024\nMay 5, 2023\n\u5206\u4eab \u8bc4\u8bba\n\u7248\u6b0a\u6240\u6709\nSign up for our newsletter\n",
    "tab\tseparated\trow\n\tindented\n" + "y" * 70000 + "\n",
]


@pytest.fixture(scope="module")
def real_htmls() -> list[str]:
    """Decoded HTML of 40 Debian documentation pages (English, Chinese, Japanese, German) and the
    sample site's pages."""
    out = real_and_sample_htmls(40)
    assert len(out) >= 50
    return out


def _inputs(html: str):
    tree = first_pass_tree(html)
    first = first_pass(tree)
    lns, before, after = lines.split_lines(first)
    return lns, before, after, lines.anchor_texts(html), tree.title, html


def test_the_compiled_module_is_built() -> None:
    """`pip install -e .` builds it (gcc and the Python headers are on every machine of this kind): a
    silent fallback to Python would make the extractor 3-4x slower with nothing failing."""
    assert lines._FAST is not None and learned.FAST is not None and line_model._FAST is not None


def test_features_equal_the_reference_on_real_pages(real_htmls) -> None:
    compared = rows = 0
    for html in real_htmls + EDGE_PAGES:
        args = _inputs(html)
        fast, ref = lines.line_features(*args), lines.line_features_py(*args)
        assert fast.shape == ref.shape == (len(args[0]), lines.N_FEATURES)
        assert fast.dtype == ref.dtype == np.float32
        # float32 rounding: numpy's and libm's log1p may differ in the last place
        np.testing.assert_allclose(fast, ref, rtol=2e-6, atol=2e-6, err_msg=html[:200])
        # ... and without the page's markup (the columns of the source stay zero)
        np.testing.assert_allclose(lines.line_features(*args[:5], None), lines.line_features_py(*args[:5], None),
                                   rtol=2e-6, atol=2e-6)
        compared += 1
        rows += len(args[0])
    assert compared >= 50 and rows > 2000


def test_scans_equal_the_reference(real_htmls) -> None:
    for html in real_htmls + EDGE_PAGES:
        assert lines.anchor_texts(html) == lines.anchor_texts_py(html)
        assert type(lines.anchor_texts(html)) is frozenset
        assert learned.lists_kept(html) == "".join(
            ("</ol" if part == "/" else "<ol") if i % 2 else part
            for i, part in enumerate(learned._UL.split(html))
        )
    for text in EDGE_TEXTS + [first_pass(first_pass_tree(h)) for h in real_htmls[:20]]:
        assert lines.split_lines(text) == lines.split_lines_py(text)


def test_lists_kept_renames_every_unordered_list_tag_and_nothing_else() -> None:
    got = learned.lists_kept("<ul><UL><Ul x></uL></ul-x><ulx><ul_><ul\u00e9><p>ul</p>")
    assert got == "<ol><ol><ol x></ol></ol-x><ulx><ul_><ul\u00e9><p>ul</p>"
    page = "<p>no lists here</p>"
    assert learned.lists_kept(page) is page


def test_anchor_scan_follows_the_regex_on_tricky_markup() -> None:
    assert lines.anchor_texts("<a href=x>One<a href=y>Two</a>") == frozenset({"One"})  # the scan resumes past '<'
    assert lines.anchor_texts("<a x><strong>" + "y" * 301 + "<") == frozenset()  # over 300 characters
    assert lines.anchor_texts("<a x><span class=c> Home </span>") == frozenset({"Home"})
    assert lines.anchor_texts("<a x>A &amp; B</a>") == frozenset({"A & B"})


def test_forward_pass_equals_numpy() -> None:
    model = load_line_model("shipped:line_model.json")
    rng = np.random.default_rng(3)
    x = np.maximum(rng.normal(size=(300, len(model.features))), 0).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), model.predict_py(x), rtol=1e-12, atol=1e-12)
    assert model.predict(x[:0]).shape == (0,)
    with pytest.raises(ValueError, match="shapes"):
        line_model._FAST.mlp_predict(x[:, :5].copy(), model._w1c, model._b1, model._w2c, 0.0, np.empty(300))


def test_kept_text_equals_the_reference_path(real_htmls, monkeypatch) -> None:
    """The whole extractor with the compiled functions and with the Python ones keeps the same text."""
    from goldpan.extract.extractors import make_extractor
    from goldpan.extract.html_text import ParsedHtml

    ext = make_extractor("goldpan", {})
    fast = [ext.extract(ParsedHtml(h)) for h in real_htmls + EDGE_PAGES]
    monkeypatch.setattr(lines, "_FAST", None)
    monkeypatch.setattr(learned, "FAST", None)
    monkeypatch.setattr(line_model, "_FAST", None)
    slow = [ext.extract(ParsedHtml(h)) for h in real_htmls + EDGE_PAGES]
    assert fast == slow
    assert sum(1 for t in fast if len(t) > 200) >= 30


def test_bad_arguments_raise_not_crash() -> None:
    with pytest.raises(TypeError):
        lines._FAST.anchor_texts(b"<a x>y<", str)
    with pytest.raises(TypeError):
        lines._FAST.split_lines(None)
    with pytest.raises(ValueError, match="zeroed float32"):
        lines._FAST.line_features(["a"], [True], [True], frozenset(), "", None, np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError):
        lines._FAST.line_features([1], [True], [True], frozenset(), "", None,
                                  np.zeros((1, lines.N_FEATURES), np.float32))
