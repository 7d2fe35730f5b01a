"""Unit tests for goldpan.text.tokenize: spaCy words for English, characters for Chinese.

spaCy's blank tokenizer and sentencizer run for real. All sentences were written for these tests.
"""

from __future__ import annotations

import pytest

from goldpan.text.tokenize import (
    cjk_ratio,
    count_sentences,
    is_cjk_char,
    is_cjk_lang,
    is_punct_token,
    tokens,
    words,
)

# ---------------------------------------------------------------- English


def test_english_tokens_follow_spacy_rules():
    assert tokens("Dr. Smith's café isn't open.", "en") == [
        "Dr.",
        "Smith",
        "'s",
        "café",
        "is",
        "n't",
        "open",
        ".",
    ]


def test_english_words_drop_punctuation_tokens():
    assert words("Dr. Smith's café isn't open.", "en") == ["Dr.", "Smith", "'s", "café", "is", "n't", "open"]


def test_english_words_with_abbreviations_times_and_symbols():
    assert words("Call the U.S. office at 9:30, not at noon — it's $5!", "en") == [
        "Call", "the", "U.S.", "office", "at", "9:30", "not", "at", "noon", "it", "'s", "5",
    ]  # fmt: skip


def test_whitespace_and_newlines_are_never_tokens():
    assert tokens("  one\n\ntwo\tthree  ", "en") == ["one", "two", "three"]
    assert words("", "en") == []


def test_lone_surrogate_does_not_crash_the_english_tokenizer():
    # The chunk is re-encoded with "replace": the surrogate becomes "?", a punctuation token.
    assert tokens("bad \ud800 byte here", "en") == ["bad", "?", "byte", "here"]
    assert words("bad \ud800 byte here", "en") == ["bad", "byte", "here"]


def test_unknown_language_code_falls_back_to_multilanguage_rules():
    assert words("plain words, nothing fancy.", "zz-not-a-language") == ["plain", "words", "nothing", "fancy"]


# ---------------------------------------------------------------- Chinese


def test_chinese_is_one_token_per_character_with_latin_runs_kept_whole():
    text = "我们用Python 3写了一个小程序，运行在Linux服务器上。"
    assert tokens(text, "zh") == [
        "我", "们", "用", "Python", "3", "写", "了", "一", "个", "小", "程", "序", "，",
        "运", "行", "在", "Linux", "服", "务", "器", "上", "。",
    ]  # fmt: skip
    assert words(text, "zh") == [
        "我", "们", "用", "Python", "3", "写", "了", "一", "个", "小", "程", "序",
        "运", "行", "在", "Linux", "服", "务", "器", "上",
    ]  # fmt: skip


def test_chinese_with_unknown_language_uses_characters_when_mostly_cjk():
    assert words("我们用Python写程序", None) == ["我", "们", "用", "Python", "写", "程", "序"]
    assert words("我们用Python写程序", "unknown") == ["我", "们", "用", "Python", "写", "程", "序"]
    # Mostly Latin text with lang unknown goes through spaCy instead.
    assert words("A note about 茶 and coffee.", None) == ["A", "note", "about", "茶", "and", "coffee"]


def test_japanese_is_segmented_into_words_by_sudachi():
    # Sudachi split mode A (the dictionary ships in the sudachidict_core wheel): words, not characters
    assert words("駅まで歩く", "ja") == ["駅", "まで", "歩く"]
    assert words("Python で 書く", "ja") == ["Python", "で", "書く"]  # never across whitespace


def test_korean_words_are_eojeol():
    assert words("데비안 개발은 누구에게나 열려 있다.", "ko") == ["데비안", "개발은", "누구에게나", "열려", "있다"]


def test_cjk_helpers():
    assert is_cjk_lang("zh") and is_cjk_lang("zh-Hant") and is_cjk_lang("ja") and is_cjk_lang("ko_KR")
    assert not is_cjk_lang("en") and not is_cjk_lang(None) and not is_cjk_lang("")
    assert cjk_ratio("中文ab") == 0.5
    assert cjk_ratio("  ") == 0.0
    assert is_cjk_char("茶") and is_cjk_char("の") and not is_cjk_char("a") and not is_cjk_char("，")
    assert is_punct_token("，") and is_punct_token("...") and is_punct_token("$") and is_punct_token("—")
    assert not is_punct_token("n't") and not is_punct_token("3")


# ---------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    "text, n",
    [
        ("The rain stopped. We went outside! Was it cold? Yes.", 4),
        ("First line without a stop\nSecond line here. Third sentence follows.", 3),
        ("One paragraph.\n\n\nAnother paragraph.", 2),
        ("", 0),
        ("   \n\t", 0),
    ],
)
def test_count_sentences_english(text, n):
    assert count_sentences(text, "en") == n


@pytest.mark.parametrize(
    "text, n",
    [
        ("今天下雨了。我们没有出门！你去了吗？", 3),
        ("他说：“明天再说。”然后就走了", 2),  # closing quote stays with its sentence
        ("今天下雨了。我们没有出门！你去了吗？\n他说：“明天再说。”然后就走了", 5),
        ("没有句号的一行", 1),
        ("第一行\n\n第二行。", 2),
        ("他用的是Python 3.11. 运行很快", 2),  # an ASCII full stop before a space ends a sentence
        ("版本号是3.11，不是句子的结尾", 1),  # ...but not a decimal point
        ("", 0),
    ],
)
def test_count_sentences_chinese(text, n):
    assert count_sentences(text, "zh") == n


# The web languages of a multilingual crawl (bench/end_to_end.py's WARC holds most of them).
WEB_LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "ru", "nl", "pl", "cs", "sv", "tr", "hu", "el", "id", "hi",
                 "ro", "da", "fi", "nb", "uk", "ca", "bg", "hr", "sk", "sl", "lt", "lv", "et", "fa", "ar", "he", "xx"]


def test_the_languages_of_a_multilingual_crawl_all_stay_cached() -> None:
    """A worker meets ~33 languages in a multilingual batch; an LRU smaller than that (it was 16)
    evicted the first ones (English among them) and the worker rebuilt them, chunk caches emptied.
    Checked on the caches' sizes: building 33 spaCy tokenizers takes over a minute on a loaded CI machine."""
    from goldpan.text.tokenize import _chunk_cache, _sentencizer, _spacy_tokenizer

    warmed = len(WEB_LANGUAGES)
    for cache in (_spacy_tokenizer, _chunk_cache, _sentencizer):
        assert cache.cache_info().maxsize > warmed
    first = _chunk_cache("en")
    assert first("don't") == ("do", "n't")
    for lang in ("xx", "es", "pt"):
        _chunk_cache(lang)
    assert _chunk_cache("en") is first
