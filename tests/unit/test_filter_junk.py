"""Machine-made pages in any language: word salad, lorem ipsum, link farms, menus (goldpan.filter.junk).

Real documentation in Japanese, Korean, Russian, Arabic, Chinese and code-heavy English passes the junk
rules; spam built from the same languages' words fails them, and the rejection names the rule, the
language section and the threshold. Also the spam generator's held-out split.
"""

from __future__ import annotations

import random

import pytest

from goldpan.filter.junk import distinct_word_ratio, long_line_char_frac, lorem_word_ratio, url_lines_ratio
from goldpan.filter.rules import RuleSet, ruleset_from_section
from goldpan.filter.signals import compute_signals
from goldpan.filter.spam import ALL_KINDS, HELD_OUT_KINDS, SPAM_KINDS, LanguageMaterial, make_spam, spam_set
from goldpan.recipe import FilterSection
from goldpan.text.tokenize import tokens
from tests.fixtures.filter_samples import GOOD_EN, GOOD_ZH
from tests.fixtures.filter_samples_multilingual import AR_DOC, EN_CODE_DOC, JA_DOC, KO_DOC, RU_DOC

DOCS = {"ja": JA_DOC, "ko": KO_DOC, "ru": RU_DOC, "ar": AR_DOC, "en": EN_CODE_DOC, "zh": GOOD_ZH}
JUNK_RULES = {"distinct_words", "lorem_words", "url_lines", "long_line_chars"}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return ruleset_from_section(FilterSection())


def failed(rules: RuleSet, text: str, lang: str) -> dict:
    return {f.rule: f for f in rules.evaluate("d", lang, compute_signals(text, lang))}


@pytest.mark.parametrize("lang", list(DOCS))
def test_real_documentation_passes_the_junk_rules(rules: RuleSet, lang: str) -> None:
    assert not set(failed(rules, DOCS[lang], lang)) & JUNK_RULES


@pytest.mark.parametrize("lang", ["ko", "zh", "ru", "en"])
def test_word_salad_from_the_languages_vocabulary_fails_distinct_words(rules: RuleSet, lang: str) -> None:
    vocab = sorted({t for t in tokens(DOCS[lang] + "\n" + (GOOD_EN if lang == "en" else ""), lang)
                    if any(c.isalpha() for c in t)})
    rng = random.Random(3)
    sep = "" if lang == "zh" else " "
    # the vocabulary in random order, each word once: dictionary-word salad without grammar
    drawn = rng.sample(vocab, len(vocab))[:360]
    salad = "\n\n".join(sep.join(drawn[i : i + 60]) + ("。" if lang == "zh" else ".") for i in range(0, len(drawn), 60))
    f = failed(rules, salad, lang)
    assert "distinct_words" in f, f
    assert f["distinct_words"].threshold == rules.config[f["distinct_words"].section].get(
        "distinct_words", rules.config["default"]["distinct_words"])["max_ratio"]
    assert f["distinct_words"].value > f["distinct_words"].threshold


def test_distinct_word_ratio_is_per_window_not_per_page() -> None:
    prose = tokens(GOOD_EN, "en")
    assert 0.3 < distinct_word_ratio(prose) < 0.85
    # twice the same prose: raw type/token ratio would halve, windows of 100 words barely move
    assert abs(distinct_word_ratio(prose * 2) - distinct_word_ratio(prose)) < 0.1
    assert distinct_word_ratio([f"w{i}" for i in range(300)]) == 1.0
    assert distinct_word_ratio([]) == 0.0


def test_lorem_ipsum_without_the_opening_line_fails_lorem_words(rules: RuleSet) -> None:
    material = LanguageMaterial("en", [GOOD_EN, EN_CODE_DOC] * 3)
    text = make_spam(material, "lorem_ipsum", random.Random(5))
    text = text.replace("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "")
    assert "lorem ipsum" not in text.lower()
    f = failed(rules, text, "en")
    assert f["lorem_words"].threshold == 0.1 and f["lorem_words"].section == "default"
    assert lorem_word_ratio(tokens(GOOD_EN, "en")) == 0.0


@pytest.mark.parametrize("lang", ["ja", "ru"])
def test_link_farm_fails_url_lines_and_real_urls_do_not(rules: RuleSet, lang: str) -> None:
    material = LanguageMaterial(lang, [DOCS[lang]] * 4)
    f = failed(rules, make_spam(material, "link_farm", random.Random(7)), lang)
    assert f["url_lines"].section == lang and f["url_lines"].value > 0.9
    cited = DOCS[lang] + "\n\nhttps://www.debian.org/doc/ and http://lists.debian.org/debian-devel/"
    assert url_lines_ratio(cited.split("\n")) < 0.2


def test_menu_of_short_lines_fails_long_line_chars(rules: RuleSet) -> None:
    menu = "\n".join(["ホーム", "ダウンロード", "ニュース", "サポート", "開発者向け", "プロジェクトについて",
                      "寄付", "お問い合わせ", "サイトマップ", "プライバシーポリシー"] * 8)
    f = failed(rules, menu, "ja")
    assert f["long_line_chars"].value == 0.0 and f["long_line_chars"].section == "ja"
    lines = KO_DOC.split("\n")
    assert long_line_char_frac(lines, [len(tokens(ln, "ko")) for ln in lines], False) > 0.8


def test_spam_set_held_out_kinds_and_material_halves() -> None:
    texts = {"en": [GOOD_EN, EN_CODE_DOC, GOOD_EN + "\nMore.", EN_CODE_DOC + "\nAgain.", GOOD_EN + "\nOne more line here."]}
    assert not set(SPAM_KINDS) & set(HELD_OUT_KINDS) and set(ALL_KINDS) == set(SPAM_KINDS) | set(HELD_OUT_KINDS)
    a = spam_set(texts, per_kind=1, kinds=ALL_KINDS, seed=1)
    assert [s.kind for s in a] == list(ALL_KINDS)
    assert a == spam_set(texts, per_kind=1, kinds=ALL_KINDS, seed=1)  # deterministic
    assert a != spam_set(texts, per_kind=1, kinds=ALL_KINDS, seed=2)
    with pytest.raises(ValueError, match="unknown spam kind"):
        spam_set(texts, kinds=["phishing"])
