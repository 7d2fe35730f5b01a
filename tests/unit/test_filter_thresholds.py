"""Every default rule on hand-made English and Chinese texts just below and just above its threshold.

Each case is a family of texts `build(k)` that moves the rule's signal monotonically with `k`
(one more repeated line, one more number, one more short line ...). The test finds the step where
the rule's verdict flips and checks that the last passing and the first failing text sit on either
side of the published threshold, one small step apart: the rule is decided exactly at its threshold,
in both languages, through the real signal computation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import cycle, islice

import pytest

from goldpan.filter.rules import Failure, RuleSet
from goldpan.filter.signals import compute_signals
from goldpan.filter.stopwords import FINEWEB2_STOP_WORDS_CMN_HANI, GOPHER_STOP_WORDS_EN
from tests.fixtures.filter_samples import GOOD_EN, GOOD_ZH

RULES = RuleSet.default()
# Distinct real words / characters in text order, without stop words (the stop-word case adds them).
EN_WORDS = [w for w in dict.fromkeys(re.findall(r"[a-z]+", GOOD_EN.lower())) if w not in GOPHER_STOP_WORDS_EN]
ZH_CHARS = [c for c in dict.fromkeys(GOOD_ZH) if "\u4e00" <= c <= "\u9fff" and c not in FINEWEB2_STOP_WORDS_CMN_HANI]
EN_SENTENCES = [s.strip().replace("\n", " ") + "." for s in GOOD_EN.split(".") if len(s.split()) >= 6]
ZH_SENTENCES = [s.strip().replace("\n", "") + "。" for s in GOOD_ZH.split("。") if len(s.strip()) >= 8]


def words(n: int, start: int = 0) -> list[str]:
    return list(islice(cycle(EN_WORDS), start, start + n))


def han(n: int, start: int = 0) -> str:
    return "".join(islice(cycle(ZH_CHARS), start, start + n))


def verdict(rule: str, text: str, lang: str) -> tuple[Failure | None, float]:
    """The named rule's failure (or None) and the value it compared, via the real signal pass."""
    signals = compute_signals(text, lang)
    for r in RULES.rules_for(lang):
        f = r.evaluate(signals)
        if f is not None and f.rule == rule:
            return f, f.value
    # passed: read the compared value by evaluating against a threshold that always fails
    for r in RULES.rules_for(lang):
        if r.name == rule:
            return None, float(signals[r.column])
    raise AssertionError(f"rule {rule} not in the {lang} section")


def en_lines(n: int, start: int = 0, n_words: int = 9) -> list[str]:
    """`n` distinct sentence-like lines (word windows shifted by one over the real vocabulary)."""
    return [" ".join(words(n_words, start + i)).capitalize() + "." for i in range(n)]


def zh_lines(n: int, start: int = 0, n_chars: int = 16) -> list[str]:
    """`n` distinct Chinese lines ending in 。 (character windows shifted by one)."""
    return [han(n_chars, start + i) + "。" for i in range(n)]


CASES: list[tuple[str, str, Callable[[int], str], range]] = [
    # (rule, lang, build(k), k range); the signal moves monotonically with k
    ("gopher_min_words", "en", lambda k: " ".join(words(k)), range(40, 60)),
    ("gopher_min_words", "zh", lambda k: han(k), range(90, 110)),
    ("gopher_max_words", "en", lambda k: " ".join(words(k)), range(100_000, 100_002)),
    ("gopher_max_words", "zh", lambda k: han(k), range(200_000, 200_002)),
    ("gopher_mean_word_length_min", "en",
     lambda k: " ".join(["cat", "dog", "sun", "map"] * 15 + ["of"] * k), range(5)),
    ("gopher_mean_word_length_max", "en",
     lambda k: " ".join(["atmosphere", "background"] * 30 + ["understanding"] * k), range(5)),
    ("gopher_mean_word_length_max", "zh",
     lambda k: han(9) + " " + "configuration_management_pipeline_settings_file"[: 36 + k], range(12)),
    ("gopher_hash_ratio", "en", lambda k: " ".join(words(100 - k) + ["#"] * k), range(5, 15)),
    ("gopher_hash_ratio", "zh", lambda k: han(100 - k) + "#" * k, range(5, 15)),
    ("gopher_ellipsis_ratio", "en", lambda k: " ".join(words(100 - k) + ["…"] * k), range(5, 15)),
    ("gopher_ellipsis_ratio", "zh", lambda k: han(100 - k) + "…" * k, range(5, 15)),
    ("gopher_bullet_lines", "en",
     lambda k: "\n".join(("• " if i < k else "") + s for i, s in enumerate(en_lines(20))), range(15, 21)),
    ("gopher_bullet_lines", "zh",
     lambda k: "\n".join(("• " if i < k else "") + s for i, s in enumerate(zh_lines(20))), range(15, 21)),
    ("gopher_ellipsis_lines", "en",
     lambda k: "\n".join(s[:-1] + ("…" if i < k else ".") for i, s in enumerate(en_lines(20))), range(3, 10)),
    ("gopher_ellipsis_lines", "zh",
     lambda k: "\n".join(s[:-1] + ("……" if i < k else "。") for i, s in enumerate(zh_lines(20))), range(3, 10)),
    ("gopher_alpha_words", "en", lambda k: " ".join(words(100 - k) + ["2024"] * k), range(15, 25)),
    ("gopher_alpha_words", "zh", lambda k: han(200 - k) + " 2024" * k, range(48, 58)),
    ("gopher_stop_words", "en", lambda k: " ".join(["the", "of", "and"][:k] + words(60, 30)), range(3)),
    ("gopher_stop_words", "zh", lambda k: "".join(["的", "是", "在"][:k]) + "今天天气很好我们去公园散步看看花" * 8, range(3)),
    ("gopher_dup_line_frac", "en", lambda k: "\n".join(en_lines(20 - k) + en_lines(k)), range(4, 9)),
    ("gopher_dup_line_frac", "zh", lambda k: "\n".join(zh_lines(20 - k) + zh_lines(k)), range(4, 9)),
    ("gopher_dup_para_frac", "en", lambda k: "\n\n".join(en_lines(20 - k) + en_lines(k)), range(4, 9)),
    ("gopher_dup_para_frac", "zh", lambda k: "\n\n".join(zh_lines(20 - k) + zh_lines(k)), range(4, 9)),
    ("gopher_dup_line_char_frac", "en", lambda k: "\n".join(en_lines(40 - k) + en_lines(k)), range(5, 12)),
    ("gopher_dup_line_char_frac", "zh", lambda k: "\n".join(zh_lines(40 - k) + zh_lines(k)), range(5, 12)),
    ("gopher_dup_para_char_frac", "en", lambda k: "\n\n".join(en_lines(40 - k) + en_lines(k)), range(5, 12)),
    ("gopher_dup_para_char_frac", "zh", lambda k: "\n\n".join(zh_lines(40 - k) + zh_lines(k)), range(5, 12)),
    ("gopher_top_2gram", "en", lambda k: " ".join(words(200) + ["bread oven"] * k), range(5, 40)),
    ("gopher_top_2gram", "zh", lambda k: han(200) + "面包" * k, range(5, 40)),
    ("gopher_dup_5gram", "en", lambda k: " ".join(words(200) + words(5 * k)), range(40)),
    ("gopher_dup_5gram", "zh", lambda k: han(200) + han(5 * k), range(40)),
    ("gopher_dup_10gram", "en", lambda k: " ".join(words(200) + words(10 * k)), range(20)),
    ("gopher_dup_10gram", "zh", lambda k: han(200) + han(10 * k), range(20)),
    ("c4_min_sentences", "en", lambda k: "\n".join(en_lines(6 - k)), range(4)),
    ("c4_min_sentences", "zh", lambda k: "\n".join(zh_lines(6 - k)), range(4)),
    ("fineweb_line_punct_ratio", "en",
     lambda k: "\n".join(s if i < k else s[:-1] for i, s in enumerate(en_lines(25))), range(6)),
    ("fineweb_line_punct_ratio", "zh",
     lambda k: "\n".join(s if i < k else s[:-1] for i, s in enumerate(zh_lines(28))), range(6)),
    ("fineweb_short_line_ratio", "en",
     lambda k: "\n".join([f"We sold {w}." for w in words(60 + k)] + en_lines(40 - k)), range(15)),
    ("fineweb_char_dup_ratio", "en", lambda k: "\n".join(en_lines(100) + [f"Read the {w} notes." for w in ["a"] * k]),
     range(6)),
    ("fineweb_char_dup_ratio", "zh", lambda k: "\n".join(zh_lines(60, n_chars=30) + zh_lines(k, n_chars=30)),
     range(3, 12)),
    ("fineweb_list_ratio", "en",
     lambda k: "\n".join([" ".join(words(3, i)) for i in range(k)] + en_lines(1, 50, 10)), range(20, 60)),
    ("fineweb_list_ratio", "zh",
     lambda k: "\n".join([han(4, i) for i in range(k)] + zh_lines(1, 0, 60)), range(20, 60)),
]


@pytest.mark.parametrize(("rule", "lang", "build", "ks"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rule_flips_exactly_at_its_threshold(rule: str, lang: str, build, ks: range) -> None:
    results = [(k, *verdict(rule, build(k), lang)) for k in ks]
    flips = [i for i in range(1, len(results)) if (results[i - 1][1] is None) != (results[i][1] is None)]
    assert len(flips) == 1, [(k, f is None, v) for k, f, v in results]
    (_, f_a, v_a), (_, f_b, v_b) = results[flips[0] - 1], results[flips[0]]
    failure = f_a or f_b
    passing_value = v_b if f_a else v_a
    thr = failure.threshold
    if failure.op == "<":
        assert failure.value < thr <= passing_value
    else:
        assert passing_value <= thr < failure.value
    # one step apart: the two texts sit close to the threshold on either side
    assert abs(failure.value - passing_value) <= max(0.06 * thr, 1.0 if thr >= 1 else 0.06)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lorem_ipsum_and_curly_bracket_drop_the_document(lang: str) -> None:
    body = en_lines(8) if lang == "en" else zh_lines(8)
    lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing elit."
    curly = "The config reads {\"retries\": 3} on start." if lang == "en" else "配置文件写作 {\"retries\": 3} 即可。"
    assert verdict("c4_lorem_ipsum", "\n".join(body), lang)[0] is None
    assert verdict("c4_lorem_ipsum", "\n".join([*body, lorem]), lang)[0] == Failure("c4_lorem_ipsum", 1.0, ">", 0.0)
    assert verdict("c4_curly_bracket", "\n".join(body), lang)[0] is None
    assert verdict("c4_curly_bracket", "\n".join([*body, curly]), lang)[0] == Failure("c4_curly_bracket", 1.0, ">", 0.0)
    # a "{" on a line C4 removes anyway (a javascript notice) does not drop the page
    js = "Please enable JavaScript to view {the comments}."
    assert verdict("c4_curly_bracket", "\n".join([*body, js]), lang)[0] is None
