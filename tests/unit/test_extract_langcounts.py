"""Mixed-language profile, token/word/sentence counts (spaCy rules on cached tokens, jieba option)."""

from __future__ import annotations

import pytest

from goldpan.extract.counts import count_text
from goldpan.extract.langid import LanguageIdentifier
from goldpan.text.segment_zh import jieba_tokens, jieba_words
from goldpan.text.tokenize import count_sentences, count_token_sentences, tokens

EN = [
    "The ferry to the island leaves at ten past eleven every night, weather permitting.",
    "Dr. Smith said the repairs took longer than planned! Nobody was surprised, were they?",
    'The harbour master wrote: "We open at 6 a.m. sharp." Then he locked the office.',
    "Prices rose by 3.5% in May... and again in June; the co-op's board (all five members) resigned.",
]
ZH = [
    "城东的老街上有一家开了四十多年的茶馆。每天清晨六点，老板就会把门板一块一块卸下来。",
    "来喝茶的大多是附近的老街坊，他们习惯坐在靠窗的位置，一边喝茶一边聊天。",
]


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


def test_english_only_is_not_mixed(lid):
    p = lid.profile("\n\n".join(EN))
    assert p.lang == "en" and p.score > 0.8
    assert p.mixed is False
    assert p.lang2_share < 0.2


def test_english_with_chinese_paragraphs_is_mixed_with_zh_second(lid):
    text = "\n\n".join([EN[0], ZH[0], EN[2], ZH[1], EN[3]])
    p = lid.profile(text)
    assert p.lang == "en" or p.lang == "zh"
    assert p.lang2 in {"en", "zh"} and p.lang2 != p.lang
    assert 0.2 <= p.lang2_share <= 0.8
    assert p.mixed is True


def test_empty_text_profile(lid):
    p = lid.profile("  \n ")
    assert (p.lang, p.score, p.lang2, p.mixed) == ("unknown", 0.0, None, False)


@pytest.mark.parametrize("line", EN)
def test_sentence_count_on_cached_tokens_equals_spacy_sentencizer(line):
    assert count_token_sentences(tokens(line, "en")) == count_sentences(line, "en")


def test_english_counts():
    text = "\n\n".join(EN)
    c = count_text(text, "en")
    assert c.segmenter == "spacy"
    assert c.n_sentences == count_sentences(text, "en")  # spaCy's own sentencizer
    assert c.n_sentences >= 5
    assert c.n_tokens == len(tokens(text, "en"))
    assert c.n_words < c.n_tokens  # punctuation tokens are not words
    assert c.n_paragraphs == 4 and c.n_lines == 7


def test_chinese_counts_by_characters_and_by_jieba():
    text = "\n".join(ZH)
    chars = count_text(text, "zh")
    assert chars.segmenter == "chars"
    assert chars.n_words == sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    assert chars.n_sentences == 3
    jb = count_text(text, "zh", zh_segmenter="jieba")
    assert jb.segmenter == "jieba"
    assert jb.n_words == len(jieba_words(text))
    assert jb.n_words < chars.n_words  # multi-character words
    assert jb.n_sentences == chars.n_sentences


def test_jieba_segments_words():
    assert jieba_tokens("我们今天去公园散步") == ["我们", "今天", "去", "公园", "散步"]
    assert "，" not in jieba_words("老街坊，喝茶。")


def test_lines_of_numbers_do_not_make_a_document_mixed(lid):
    rows = "\n".join(f"{4100 + 7 * i} ${1.49 + 9.25 * i:.2f} {i % 9 + 1} {2022 + i % 3}" for i in range(40))
    text = "The prices of all the items that we have in stock are listed below and may change.\n\n" + rows
    p = lid.profile(text)
    assert p.lang == "en"
    assert p.mixed is False and p.lang2 is None
