"""Language ID on the main text: code left out, short texts by script, the recipe's label set and names."""

from __future__ import annotations

import pytest

from goldpan.extract.langid import LanguageIdentifier
from goldpan.text.scripts import has_letter, script_language, script_of
from tests.unit.filter_samples_multilingual import EN_CODE_DOC, KO_DOC


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


def test_code_and_menus_are_not_what_language_id_reads(lid: LanguageIdentifier) -> None:
    commands = "\n".join([
        "$ dpkg-buildpackage -us -uc", "# apt-get install devscripts", "/usr/share/doc/devscripts/README",
        "    for f in *.deb; do lintian -i \"$f\"; done", "ru_RU.UTF-8 UTF-8", "$ export LANG=ru_RU.UTF-8",
    ] * 6)
    text = commands + "\nBuild the package as an ordinary user, then check it with lintian before you upload it."
    main = lid.main_text(text)
    assert main.startswith("Build the package") and "dpkg" not in main
    assert lid.profile(text).lang == "en"
    assert lid.profile(EN_CODE_DOC).lang == "en"


def test_short_text_falls_back_to_its_script(lid: LanguageIdentifier) -> None:
    assert lid.profile("데비안 설치 안내").lang == "ko"  # 7 letters: too few for the model to judge alone
    assert lid.profile("ダウンロード").lang == "ja"
    assert lid.profile(KO_DOC).lang == "ko"


def test_label_set_and_label_map_from_the_recipe(lid: LanguageIdentifier) -> None:
    nb = "Debian er et fritt operativsystem som utvikles av frivillige over hele verden, og det er gratis å bruke."
    assert lid.profile(nb, label_map={"no": "nb"}).lang == "nb"
    assert lid.identify(nb, allowed={"en", "da", "sv"}).lang in {"da", "sv"}


def test_scripts() -> None:
    assert [script_of(c) for c in "aЖλ中カ한ب"] == ["Latin", "Cyrillic", "Greek", "Han", "Katakana", "Hangul", "Arabic"]
    assert has_letter("किताब") and has_letter("ب") and not has_letter("2023") and not has_letter("->")
    assert script_language("これは日本語です") == "ja" and script_language("中文文本") == "zh"
    assert script_language("Привет мир") is None  # Cyrillic is shared by many languages: the model decides
