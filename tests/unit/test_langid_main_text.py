"""Language ID on the main text: code left out, short texts by script, the recipe's label set and names."""

from __future__ import annotations

import pytest

from goldpan.extract.langid import LanguageIdentifier
from goldpan.text.scripts import has_letter, script_language, script_of
from tests.fixtures.filter_samples_multilingual import EN_CODE_DOC, KO_DOC


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


def test_partly_translated_page_takes_the_language_of_most_of_its_lines(lid: LanguageIdentifier) -> None:
    # LibreOffice help as Debian ships it in Hungarian: headings and one sentence translated, the
    # explanations left in English (real text of libreoffice-help-hu, sbasic/shared/03020303.html).
    page = ("Lof függvény\n\nEgy megnyitott fájl méretét adja vissza bájtban.\n\nSzintaxis:\n\n"
            "Lof (FileNumber) As Long\n\nVisszatérési érték:\n\nLong\n\nParaméterek:\n\n"
            "FileNumber: Any numeric expression that contains the file number that is specified in the Open "
            "statement.\n\nTo obtain the length of a file that is not open, use the FileLen function.\n\n"
            "Hibakódok:\n\n5 Érvénytelen eljáráshívás\n\n52 Érvénytelen fájlnév vagy fájlszám\n\nPélda:")
    assert lid.profile(page, line_majority=False).lang == "hu"  # one whole-text prediction
    prof = lid.profile(page)
    assert (prof.lang, prof.lang2, prof.mixed) == ("en", "hu", True)
    assert 0.5 < prof.score < 0.7  # the majority's share of the identified text
    # a Chinese page whose code examples are English stays Chinese: code lines do not vote
    zh = "\n".join([  # noqa: FLY002
        "使用 Dim 语句可以声明变量。变量名称最多可以包含 255 个字符，第一个字符必须是字母。",
        "Dim sText As String ' the text to show in the dialog",
        "MsgBox sText, MB_OK, \"Title of the message box\"",
        "在 LibreOffice Basic 中，您无须明确地声明变量，但声明变量可以让程序更容易阅读和维护。",
    ])
    assert lid.profile(zh).lang == "zh"
