"""Mislabelled Chinese and Japanese pages come out readable, and how they were decoded is recorded.

Real codecs, real uchardet (resiliparse), texts written for these tests. The traps covered: a UTF-8
header on GBK/Big5/Shift-JIS bytes with no meta; GBK bytes that decode *without error* as Big5 (and
Big5 as GBK), so a strict decode alone cannot tell; CJK bytes labelled Latin-1.
"""

from __future__ import annotations

import pytest

from goldpan.extract.encoding import decode_page, decode_score, plausibility

ZH = (
    "秋天的早晨，河边的雾气慢慢散开，老人们在石桥上下棋，孩子们背着书包跑过。"
    "今天下午图书馆的阅览室里坐满了准备考试的学生。"
)
ZH_TW = "颱風過後，港口的漁船陸續出海，碼頭上擺滿了剛捕撈的魚蝦。老街的茶館每天清晨就開門了。"
JA = "私は毎朝駅まで歩いて、電車の中で新聞を読んでいます。週末には図書館へ行きます。"


def html(text: str) -> str:
    return f"<html><head><title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(
    "text, codec, used",
    [(ZH, "gbk", "gb18030"), (ZH_TW, "big5", "big5hkscs"), (JA, "shift_jis", "cp932")],
)
def test_utf8_header_without_meta_is_replaced_by_detection(text, codec, used):
    content = html(text).encode(codec)
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    d = decode_page(content, "utf-8")
    assert text in d.text
    assert (d.encoding, d.source, d.declared_mismatch) == (used, "detected", True)
    assert (d.declared, d.declared_source, d.detected) == ("utf-8", "http-header", used)


# GBK bytes of these sentences happen to be valid Big5 too (checked below).
ZH_BIG5_VALID = ["老街的茶馆每天清晨六点开门。", "来喝茶的大多是附近的老街坊。", "城东的老街上有一家开了四十多年的茶馆。"]


@pytest.mark.parametrize("text", ZH_BIG5_VALID + ["".join(ZH_BIG5_VALID)])
def test_gbk_bytes_labelled_big5_decode_without_error_but_are_not_believed(text):
    content = html(text).encode("gbk")
    wrong = content.decode("big5hkscs")  # the trap: no decode error at all
    assert text not in wrong
    right = content.decode("gb18030")
    assert decode_score(wrong) < 0.9  # below the "believe the declaration" bar
    assert decode_score(wrong) + 0.15 <= decode_score(right)  # and clearly beaten by the right codec
    d = decode_page(content, "big5")
    assert text in d.text
    assert (d.encoding, d.source, d.declared_mismatch, d.declared) == ("gb18030", "detected", True, "big5hkscs")


def test_big5_bytes_labelled_gbk_decode_without_error_but_are_not_believed():
    content = html(ZH_TW).encode("big5")
    wrong = content.decode("gb18030")
    assert ZH_TW not in wrong
    d = decode_page(content, "gbk")
    assert ZH_TW in d.text
    assert (d.encoding, d.declared_mismatch) == ("big5hkscs", True)


@pytest.mark.parametrize("text, codec", [(ZH, "gbk"), (ZH_TW, "big5")])
def test_cjk_bytes_labelled_latin1_are_not_read_as_accented_latin(text, codec):
    d = decode_page(html(text).encode(codec), "iso-8859-1")
    assert text in d.text
    assert d.declared_mismatch is True


@pytest.mark.parametrize("text, codec", [(ZH, "gbk"), (ZH_TW, "big5"), (JA, "shift_jis")])
def test_true_declarations_are_kept(text, codec):
    d = decode_page(html(text).encode(codec), codec)
    assert text in d.text
    assert (d.source, d.declared_mismatch, d.detected) == ("http-header", False, None)


def test_real_latin1_french_stays_latin1():
    text = "Le café où nous déjeunions a fermé ses portes après trente ans, à côté de l'église."
    d = decode_page(html(text).encode("latin-1"), "iso-8859-1")
    assert text in d.text
    assert (d.encoding, d.source, d.declared_mismatch) == ("cp1252", "http-header", False)


def test_plausibility_of_plain_text_and_mojibake():
    assert plausibility("only ascii") == 1.0
    assert plausibility("Größe und Übermut, déjà vu") == 1.0
    assert plausibility(ZH.encode("gbk").decode("latin-1")) < 0.5
