"""The compiled fastText line preparation (goldpan/classify/_ftline.c) against its Python reference.

`fasttext_line_py` is the definition; `fasttext_line` must return the same string for every input: real
documentation pages in four languages (their extracted text and their raw HTML, which is dense in
punctuation), the sample site, and edge cases of Python's whitespace and lower-casing. Speed is
measured in bench (bench/end_to_end.py's domain mining step), not here.
"""

from __future__ import annotations

import pytest

from goldpan.classify import text
from goldpan.classify.text import fasttext_line, fasttext_line_py
from goldpan.extract.extractors import make_extractor
from goldpan.extract.html_text import ParsedHtml
from tests.fixtures.real_pages import real_and_sample_htmls

EDGE_TEXTS = [
    None, "", " ", "\n\t\r\x0b\x0c", "a", "A.", ".", "...", "a.b,c!d?", "  lead and trail  ",
    # every kind of whitespace str.split() knows, ASCII separators and U+3000 (also in the CJK range)
    "x\x1cy\x1dz\x1ew\x1fv\x85u\xa0t\u1680s\u2000r\u2028q\u2029p\u202fo\u205fn\u3000m",
    "\u3000", "abc\u3000", "\u3000\u3001\u3002",  # widest character dropped: the result must be narrow
    "我们去公园。今天天气很好！", "東京タワー（とうきょうタワー）", "ｆｕｌｌ－ｗｉｄｔｈ　ｔｅｘｔ",
    "İstanbul ΣΊΣΥΦΟΣ Straße ǅ", "emoji \U0001F600 astral \U00020000x", "lone \ud800 surrogate",
    "tabs\tinside\tcode = {a: [1, 2]};", "\ufeffBOM first", "mixed 中文English混合, ok.",
]


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    """Extracted text and raw HTML of 40 Debian documentation pages (English, Chinese, Japanese, German)
    and of the sample site."""
    htmls = real_and_sample_htmls(40)
    extractor = make_extractor("goldpan", {})
    texts = [extractor.extract(ParsedHtml(h)) or "" for h in htmls]
    assert sum(bool(t) for t in texts) >= 40
    return texts + htmls


def test_the_compiled_module_is_built() -> None:
    """`pip install -e .` builds it; a silent fallback would make every score and domain mining ~5x
    slower at this step with nothing failing."""
    assert text._PAD_JOIN is not None


@pytest.mark.parametrize("value", EDGE_TEXTS)
def test_edge_cases_equal_the_reference(value) -> None:
    for max_chars in (1, 3, 10_000):
        got = fasttext_line(value, max_chars)
        assert got == fasttext_line_py(value, max_chars)
        assert hash(got) == hash(fasttext_line_py(value, max_chars))  # same kind, same characters


def test_real_text_equals_the_reference(real_texts) -> None:
    for t in real_texts:
        for max_chars in (200, 10_000, 10_000_000):
            assert fasttext_line(t, max_chars) == fasttext_line_py(t, max_chars)
    assert any(len(fasttext_line(t)) > 5_000 for t in real_texts)  # long inputs were compared too


def test_configure_rejects_ranges_it_could_not_scan_in_order_and_keeps_its_own() -> None:
    from goldpan.classify import _ftline

    with pytest.raises(ValueError):
        _ftline.configure([(0x21, 0x2F), (0x4E00, 0x9FFF), (0x3000, 0x303F)])
    assert fasttext_line("Hello, 世界。") == "hello , 世 界 。"  # the configured ranges are unchanged
