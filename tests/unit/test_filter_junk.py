"""Machine-made pages in any language: word salad, lorem ipsum, link farms, menus (goldpan.filter.junk).

Real documentation in Japanese, Korean, Russian, Arabic, Chinese and code-heavy English passes the junk
rules; spam built from the same languages' words fails them, and the rejection names the rule, the
language section and the threshold. Also the spam generator's held-out split.
"""

from __future__ import annotations

import random

import pytest

from goldpan.filter.junk import (
    distinct_word_ratio,
    keyword_dominance,
    long_line_char_frac,
    lorem_word_ratio,
    recurring_bigram_share,
    unbalanced_bracket_ratio,
    url_lines_ratio,
)
from goldpan.filter.rules import RuleSet, ruleset_from_section
from goldpan.filter.signals import compute_signals
from goldpan.filter.spam import ALL_KINDS, HELD_OUT_KINDS, SPAM_KINDS, LanguageMaterial, make_spam, spam_set
from goldpan.recipe import FilterSection
from goldpan.text.tokenize import tokens
from tests.fixtures.filter_samples import GOOD_EN, GOOD_ZH
from tests.fixtures.filter_samples_multilingual import (
    AR_DOC,
    EN_CODE_DOC,
    HU_HELP_PAGE,
    JA_DOC,
    KO_DOC,
    RU_DOC,
    ZH_DOC,
)

DOCS = {"ja": JA_DOC, "ko": KO_DOC, "ru": RU_DOC, "ar": AR_DOC, "en": EN_CODE_DOC, "zh": GOOD_ZH}
JUNK_RULES = {"distinct_words", "lorem_words", "url_lines", "long_line_chars", "keyword_dominance",
              "unbalanced_brackets", "recurring_bigrams"}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return ruleset_from_section(FilterSection())


def failed(rules: RuleSet, text: str, lang: str) -> dict:
    return {f.rule: f for f in rules.evaluate("d", lang, compute_signals(text, lang))}


@pytest.mark.parametrize("lang", list(DOCS))
def test_real_documentation_passes_the_junk_rules(rules: RuleSet, lang: str) -> None:
    assert not set(failed(rules, DOCS[lang], lang)) & JUNK_RULES


def test_real_chinese_documentation_with_brackets_passes(rules: RuleSet) -> None:
    assert not set(failed(rules, ZH_DOC, "zh")) & JUNK_RULES
    assert unbalanced_bracket_ratio(ZH_DOC.split("\n")) == 0.0  # 18 brackets, every one paired


def _sentences(text: str, cjk: bool) -> list[str]:
    import re

    pattern = r"(?<=[。！？])" if cjk else r"(?<=[.!?])\s+"
    return [s.strip() for s in re.split(pattern, text.replace("\n", " " if not cjk else "")) if len(s.strip()) > 20]


def _inject(text: str, phrase: str, cjk: bool, seed: int) -> str:
    """The real text's sentences with `phrase` pushed into each at a random word (CJK: character) position
    and a tag line at the end: keyword injection built here from the test's own real text."""
    rng = random.Random(seed)
    out = []
    for sent in _sentences(text, cjk):
        parts = list(sent) if cjk else sent.split(" ")
        at = rng.randrange(1, len(parts))
        out.append(("" if cjk else " ").join([*parts[:at], phrase, *parts[at:]]))
    return "\n\n".join([phrase, *out, ("、" if cjk else ", ").join([phrase] * 3)])


@pytest.mark.parametrize(("lang", "text", "phrase"), [
    ("en", GOOD_EN, "cheap flights"),
    ("en", EN_CODE_DOC, "casino bonus"),
    ("zh", ZH_DOC, "特价机票"),
])
def test_keyphrase_pushed_into_real_sentences_fails_keyword_dominance(
        rules: RuleSet, lang: str, text: str, phrase: str) -> None:
    threshold = {"zh": 12.0}.get(lang, 8.0)
    assert compute_signals(text, lang)["prose_keyword_dominance"] <= threshold
    f = failed(rules, _inject(text, phrase, lang in ("zh", "ja"), seed=11), lang)
    assert "keyword_dominance" in f, f
    assert f["keyword_dominance"].threshold == threshold and f["keyword_dominance"].value > threshold
    assert f["keyword_dominance"].section == (lang if lang in rules.sections else "default")


@pytest.mark.parametrize(("lang", "text", "phrase"), [
    ("ja", JA_DOC, "格安航空券"), ("ko", KO_DOC, "저렴한 항공권"), ("ru", RU_DOC, "дешёвые авиабилеты"),
])
def test_keyphrase_in_every_sentence_dominates_short_real_pages(lang: str, text: str, phrase: str) -> None:
    # 14 sentences: the keyphrase occurs 16 times, 5-6x the page's next phrase (no real phrase occurs 5 times)
    assert compute_signals(text, lang)["prose_keyword_dominance"] == 0.0
    assert compute_signals(_inject(text, phrase, lang == "ja", seed=11), lang)["prose_keyword_dominance"] >= 5.0


def test_keyword_dominance_ignores_stop_word_pairs_and_rare_bigrams() -> None:
    words = tokens(GOOD_EN, "en")
    # "of the" repeated 30 times is function words, not a keyphrase
    assert keyword_dominance(words + ["of", "the"] * 30, frozenset({"of", "the"}), False) == \
        keyword_dominance(words, frozenset({"of", "the"}), False)
    # fewer than 5 occurrences: no dominance whatever the ratio
    assert keyword_dominance(["cheap", "flights", "now"] * 4, frozenset(), False) == 0.0
    assert keyword_dominance([], frozenset(), False) == 0.0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_real_tokens_in_random_order_leave_brackets_unpaired(rules: RuleSet, lang: str) -> None:
    text = {"en": EN_CODE_DOC, "zh": ZH_DOC}[lang]
    toks = tokens(text, lang)
    rng = random.Random(5)
    rng.shuffle(toks)
    sep = "" if lang == "zh" else " "
    salad = "\n\n".join(sep.join(toks[i : i + 40]) for i in range(0, len(toks), 40))
    assert unbalanced_bracket_ratio(text.split("\n")) <= 0.2
    f = failed(rules, salad, lang)
    assert f["unbalanced_brackets"].value > 0.5 and f["unbalanced_brackets"].threshold == 0.5


def test_few_brackets_are_not_judged() -> None:
    assert unbalanced_bracket_ratio(["1) first", "2) second", "see (below"]) == 0.0  # 4 < 8 brackets
    assert unbalanced_bracket_ratio(["a) b) c) d) e) f) g) h)"]) == 1.0


def test_chinese_menu_lines_are_short_in_characters_and_prose_lines_long() -> None:
    menu = "\n".join(["首页", "下载", "新闻", "支持", "开发者专区", "关于本项目", "捐赠", "联系我们", "网站地图",
                      "隐私政策", "Debian 镜像大小页面", "如何成为 Debian 成员或 Debian 开发者？"] * 5)
    lines = menu.split("\n")
    chars = [sum(len(t) for t in tokens(ln, "zh") if t.strip("？")) for ln in lines]
    assert long_line_char_frac(lines, chars, True) == 0.0
    zh_lines = ZH_DOC.split("\n")
    assert long_line_char_frac(zh_lines, [sum(map(len, tokens(ln, "zh"))) for ln in zh_lines], True) > 0.8


def test_japanese_word_length_threshold_catches_random_characters(rules: RuleSet) -> None:
    rng = random.Random(9)
    ja_chars = [c for c in JA_DOC if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff"]
    gib_ja = "\n\n".join("".join(rng.choices(ja_chars, k=80)) + "。" for _ in range(8))
    f = failed(rules, gib_ja, "ja")
    assert f["gopher_mean_word_length_min"].threshold == 1.5 and f["gopher_mean_word_length_min"].section == "ja"
    assert "gopher_mean_word_length_min" not in failed(rules, JA_DOC, "ja")


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


def test_frequency_drawn_chinese_characters_fail_recurring_bigrams(rules: RuleSet) -> None:
    # real Chinese: documentation reuses its words, narrative prose less, but far more than random draws
    assert compute_signals(ZH_DOC, "zh")["prose_recurring_bigram_share"] > 0.2
    assert compute_signals(GOOD_ZH, "zh")["prose_recurring_bigram_share"] > 0.05
    rng = random.Random(4)
    chars = [c for c in ZH_DOC + GOOD_ZH if "\u4e00" <= c <= "\u9fff"]  # drawn by their frequency
    gib = "\n\n".join("".join(rng.choices(chars, k=20)) + "，" + "".join(rng.choices(chars, k=25)) + "。"
                       for _ in range(12))
    f = failed(rules, gib, "zh")
    assert f["recurring_bigrams"].threshold == 0.05 and f["recurring_bigrams"].section == "zh"
    assert f["recurring_bigrams"].value < 0.05


def test_recurring_bigram_share_in_english_and_short_texts() -> None:
    words = [t for t in tokens(GOOD_EN + "\n" + EN_CODE_DOC, "en") if any(map(str.isalpha, t))]
    real = recurring_bigram_share(words)
    salad = recurring_bigram_share(random.Random(2).sample(words, len(words)))
    assert real is not None and salad is not None and salad < real / 2
    assert recurring_bigram_share(words[:100]) is None  # < 200 pairs: not judged


def test_minimum_words_is_the_same_amount_of_text_per_language(rules: RuleSet) -> None:
    # A whole Hungarian help page of 48 words: long words say in 48 what English says in ~60.
    f = failed(rules, HU_HELP_PAGE, "hu")
    assert "gopher_min_words" not in f
    hu_min = next(r for r in rules.rules_for("hu") if r.name == "gopher_min_words")
    assert hu_min.threshold == 38
    # English and Chinese keep their minimums (50 words; 100 characters), and datatrove mode keeps 50 for all.
    assert next(r for r in rules.rules_for("en") if r.name == "gopher_min_words").threshold == 50
    assert next(r for r in rules.rules_for("zh") if r.name == "gopher_min_words").threshold == 100
    dt = RuleSet.default()
    assert next(r for r in dt.rules_for("hu") if r.name == "gopher_min_words").threshold == 50
    assert "gopher_min_words" in {x.rule for x in dt.evaluate("d", "hu", compute_signals(HU_HELP_PAGE, "hu"))}
    short_en = " ".join(GOOD_EN.split()[:45])
    assert "gopher_min_words" in failed(rules, short_en, "en")
