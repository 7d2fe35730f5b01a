"""The faithfulness guard on real passages (Python tutorial, Debian Reference zh): facts the parent
lacks are caught, reformatted facts are not, and every rejection carries rule, value and threshold."""

from __future__ import annotations

import pytest

from goldpan.extract.langid import LanguageIdentifier
from goldpan.recipe import GuardSection
from goldpan.synthesize.facts import extract_facts
from goldpan.synthesize.guard import Guard

EN = ("When an error occurs, the interpreter prints an error message and a stack trace. In interactive mode, "
      "it then returns to the primary prompt; when input came from a file, it exits with a nonzero exit status "
      "after printing the stack trace. Python 3.11 was released on October 24, 2022 by the Python Software "
      "Foundation. See https://docs.python.org/3/tutorial/ for the tutorial.")
ZH = ("对于典型的单用户工作站，例如运行在笔记本电脑上的桌面 Debian 系统，通常简单地配置 sudo(8) 来使非特权用户"
      "（例如用户 penguin）只需输入用户密码而非 root 密码就能获得管理员权限。Debian 12 于2023年6月10日发布。")

# Fact rules only: a reordering of the parent's own sentences is (by design) a near-verbatim copy.
FACT_ONLY = ("copy_similarity",)


@pytest.fixture(scope="module")
def guard() -> Guard:
    lid = LanguageIdentifier()

    def identify(text: str) -> tuple[str, float]:
        g = lid.identify(text)
        return g.lang, g.score

    return Guard(GuardSection(), identify)


def rules(fails) -> set[str]:
    return {f.rule for f in fails}


def test_reordered_and_reformatted_parent_passes(guard):
    sentences = EN.split(". ")
    variant = ". ".join(reversed(sentences)).replace("October 24, 2022", "2022-10-24")
    assert guard.check(variant, [EN], "en", FACT_ONLY) == []
    zh_variant = "Debian 12 于2023年6月10日发布。" + ZH.split("Debian 12")[0]
    assert guard.check(zh_variant, [ZH], "zh", FACT_ONLY) == []


def test_invented_number_is_rejected_with_value_and_threshold(guard):
    fails = guard.check(EN.replace("nonzero exit status", "exit status 137"), [EN], "en", FACT_ONLY)
    f = next(f for f in fails if f.rule == "new_numbers")
    assert (f.value, f.op, f.threshold) == (1.0, ">", 0.0) and "137" in f.detail
    zh = guard.check(ZH.replace("Debian 12", "Debian 13"), [ZH], "zh", FACT_ONLY)
    assert "new_numbers" in rules(zh)


def test_changed_date_url_and_name_are_rejected(guard):
    assert "new_dates" in rules(guard.check(EN.replace("October 24", "November 3"), [EN], "en", FACT_ONLY))
    assert "new_urls" in rules(guard.check(EN + " Mirror: https://example.org/py.", [EN], "en", FACT_ONLY))
    assert "new_entities" in rules(guard.check(EN.replace("Python Software Foundation", "Apache Software Foundation"),
                                               [EN], "en", FACT_ONLY))
    zh_name = ZH.replace("例如用户 penguin", "例如用户张伟")
    assert "new_entities" in rules(guard.check(zh_name, [ZH], "zh", FACT_ONLY))
    assert "new_dates" in rules(guard.check(ZH.replace("6月10日", "7月1日"), [ZH], "zh", FACT_ONLY))


def test_language_change_copy_and_length(guard):
    fails = guard.check(ZH, [EN], "en", ("new_numbers", "new_entities", "new_dates", "new_urls"))
    assert "language_change" in rules(fails)
    assert "copy_similarity" in rules(guard.check(EN, [EN], "en"))
    short = guard.check("An error prints a message.", [EN], "en")
    f = next(f for f in short if f.rule == "min_length_ratio")
    assert f.op == "<" and f.value < f.threshold


def test_facts_normalise_formats():
    a = extract_facts("It cost 1,000 dollars on March 5, 2021 (see www.Example.org/a).", "en")
    b = extract_facts("On 2021-03-05 it cost 1000 dollars, see https://example.org/a", "en")
    assert a.numbers == b.numbers == {"1000"} and a.dates == b.dates and a.urls == b.urls
    assert extract_facts("2021年3月5日", "zh").dates == a.dates
