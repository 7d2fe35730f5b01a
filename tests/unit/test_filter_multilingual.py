"""Multilingual mode on real documentation: Japanese, Korean, Russian, Arabic and code-heavy English.

For each language: the real paragraph passes; the same language's keyword-stuffed and repeated text
fails; the rejection names the rule, the language section and that language's published threshold.
"""

from __future__ import annotations

import pytest

from goldpan.filter.defaults import CODE_SECTION_NAME
from goldpan.filter.rules import Failure, RuleSet, ruleset_from_section
from goldpan.filter.signals import compute_signals
from goldpan.filter.stopwords import fineweb2_table
from goldpan.recipe import FilterSection
from goldpan.text.technical import code_lines, split_prose
from goldpan.text.tokenize import tokens
from tests.fixtures.filter_samples_multilingual import AR_DOC, EN_CODE_DOC, JA_DOC, KO_DOC, RU_DOC

DOCS = {"ja": JA_DOC, "ko": KO_DOC, "ru": RU_DOC, "ar": AR_DOC, "en": EN_CODE_DOC}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return ruleset_from_section(FilterSection())  # the default recipe: multilingual mode


def failures(rules: RuleSet, text: str, lang: str) -> dict[str, Failure]:
    return {f.rule: f for f in rules.evaluate("doc", lang, compute_signals(text, lang))}


def words_of(text: str, lang: str, n: int) -> list[str]:
    seen = dict.fromkeys(t for t in tokens(text, lang) if any(c.isalpha() for c in t) and len(t) > 1)
    return list(seen)[:n]


def keyword_stuffed(text: str, lang: str) -> str:
    keys = words_of(text, lang, 6)
    sep = "、" if lang == "ja" else ", "
    return "\n".join(sep.join(keys[(i + j) % len(keys)] for j in range(10)) for i in range(20))


def repeated(text: str) -> str:
    lines = [ln for ln in text.split("\n") if len(ln) > 30][:2]
    return "\n".join(lines * 12)


@pytest.mark.parametrize("lang", list(DOCS))
def test_real_documentation_passes_in_its_language(rules: RuleSet, lang: str) -> None:
    assert failures(rules, DOCS[lang], lang) == {}


@pytest.mark.parametrize("lang", list(DOCS))
def test_keyword_stuffing_fails_with_the_languages_threshold(rules: RuleSet, lang: str) -> None:
    f = failures(rules, keyword_stuffed(DOCS[lang], lang), lang)
    assert f, "keyword stuffing passed"
    section = "default" if lang == "en" else lang
    assert all(x.section == section for x in f.values())
    if lang != "en":  # the language's own published value is what decided
        fw2 = fineweb2_table()["languages"][lang]
        assert f["gopher_dup_5gram"].threshold == fw2["dup_n_grams"]["5"]
        assert f["gopher_dup_5gram"].value > f["gopher_dup_5gram"].threshold
        assert f["gopher_top_3gram"].threshold == fw2["top_n_grams"]["3"]


@pytest.mark.parametrize("lang", list(DOCS))
def test_repeated_lines_fail_dup_line_frac_at_the_languages_threshold(rules: RuleSet, lang: str) -> None:
    f = failures(rules, repeated(DOCS[lang]), lang)
    dup = f["gopher_dup_line_frac"]
    expected = 0.30 if lang == "en" else fineweb2_table()["languages"][lang]["dup_line_frac"]
    assert (dup.op, dup.threshold, dup.section) == (">", expected, "default" if lang == "en" else lang)
    assert dup.value > expected


def test_datatrove_mode_rejects_what_issue_17_reported(rules: RuleSet) -> None:
    """The English Gopher rules on Japanese words and on code-heavy English: what multilingual mode fixes."""
    dt = RuleSet.default()
    ja = {f.rule for f in dt.evaluate("d", "ja", compute_signals(JA_DOC, "ja"))}
    assert "gopher_mean_word_length_min" in ja
    en = {f.rule for f in dt.evaluate("d", "en", compute_signals(EN_CODE_DOC, "en"))}
    assert "gopher_alpha_words" in en


def test_code_listing_is_left_out_of_prose_statistics() -> None:
    lines = EN_CODE_DOC.split("\n")
    flagged = [ln for ln, code in zip(lines, code_lines(lines)) if code]
    assert "1 Source: gentoo" in flagged and "11 Depends: ${shlibs:Depends}, ${misc:Depends}" in flagged
    assert not any(ln.startswith("There is a new subdirectory") for ln in flagged)
    s = compute_signals(EN_CODE_DOC, "en")
    assert s["code_lines"] == len(flagged) and 0 < s["code_char_frac"] < 0.5
    assert s["prose_letter_words_ratio"] > s["letter_words_ratio"]
    assert s["prose_c4_curly_bracket"] == 0 < s["c4_curly_bracket"]


def test_shell_session_and_paths_are_code_prose_is_not() -> None:
    text = (
        "To build the package, run the following commands as an ordinary user in the source tree.\n"
        "$ dpkg-buildpackage -us -uc\n"
        "# apt-get install build-essential devscripts\n"
        "/usr/share/doc/maint-guide/html/index.en.html\n"
        "    for f in *.deb; do lintian -i \"$f\"; done\n"
        ">>> import json\n"
        "The results are written to the parent directory, next to the original source archive."
    )
    flags = code_lines(text.split("\n"))
    assert flags == [False, True, True, True, True, True, False]
    prose, n_code, _ = split_prose(text)
    assert n_code == 5 and prose.count("\n") == 1


def test_mostly_code_page_is_judged_by_the_code_section(rules: RuleSet) -> None:
    listing = "\n".join(
        f"{i} " + line for i, line in enumerate(
            ["#include <stdio.h>", "int main(void) {", '    printf("hello, world\\n");', "    return 0;", "}"] * 12, 1))
    text = "A minimal C program, as in the tutorial:\n" + listing
    sig = compute_signals(text, "en")
    assert sig["code_char_frac"] > 0.9
    assert rules.section_for("en", sig) == CODE_SECTION_NAME
    # a prose rule would have rejected it; the code section judges size and templates only
    assert RuleSet.default().evaluate("d", "en", sig)
    assert rules.evaluate("d", "en", sig) == []


def test_word_salad_fails_stop_word_ratio(rules: RuleSet) -> None:
    vocab = sorted({w for w in words_of(RU_DOC, "ru", 400) if len(w) > 3})
    salad = "\n".join(" ".join(vocab[(i * 7 + j * 13) % len(vocab)] for j in range(12)) + "." for i in range(30))
    f = failures(rules, salad, "ru")
    assert f["stop_word_ratio"].threshold == 0.02 and f["stop_word_ratio"].section == "ru"


def test_korean_words_are_eojeol_and_particles_count_as_stop_words() -> None:
    s = compute_signals(KO_DOC, "ko")
    assert 2.5 < s["mean_word_length"] < 5  # syllables per eojeol, not 1 per character
    assert s["stop_words_count"] >= 5  # 는, 을, 의, 에 ... attached to the eojeol
    assert "데비안" in tokens("데비안 개발은 누구에게나 열려 있으며,", "ko")


def test_japanese_is_segmented_into_words() -> None:
    toks = tokens("Debian の開発は万人に開かれています。", "ja")
    assert "開発" in toks and "の" in toks and "Debian" in toks
    s = compute_signals(JA_DOC, "ja")
    assert 1.2 < s["mean_word_length"] < 3 and s["stop_words_count"] >= 5
