"""Stop-word lists used by the Gopher stop-word signal, one per language.

Why these lists and not a "complete" stop-word list: the signal exists to confirm that a page is
running prose in the expected language, and its threshold (at least 2 distinct stop words) was
calibrated against exactly these short lists. A longer list would make the rule more lenient
without anyone changing its threshold.

- English: Gopher's eight words, as in datatrove's `GopherQualityFilter.STOP_WORDS`
  (anchors.md §2.1). Matching is case-sensitive, like datatrove's set intersection.
- Chinese: the 22 single characters of FineWeb-2 `configs/cmn_Hani.yml` (`stopwords:`), which mixes
  simplified and traditional forms (为/為, 与/與 only as 與, 后 only as 後) and includes the
  middle dot "·" (U+00B7) used in transliterated names. With character tokens every entry is a
  single token, so the list applies unchanged.
"""

from __future__ import annotations

GOPHER_STOP_WORDS_EN: frozenset[str] = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})

# FineWeb-2 configs/cmn_Hani.yml, in the file's order.
FINEWEB2_STOP_WORDS_CMN_HANI: tuple[str, ...] = tuple("的年在月是和日了於\u00b7為有被人中为他與後也而由")

_BY_LANG: dict[str, frozenset[str]] = {
    "en": GOPHER_STOP_WORDS_EN,
    # Only "zh": the shared tokeniser segments "zh" (not "cmn") by characters, and a list of
    # single characters is meaningless over space-separated tokens.
    "zh": frozenset(FINEWEB2_STOP_WORDS_CMN_HANI),
}


def lang_base(lang: str | None) -> str:
    """'zh-Hans' / 'zh_Hani' / 'ZH' -> 'zh'; None -> ''."""
    if not lang:
        return ""
    return lang.replace("_", "-").split("-")[0].lower()


def stop_words_for(lang: str | None) -> frozenset[str] | None:
    """The stop-word set for `lang`, or None when we have no calibrated list for it.

    None (rather than silently falling back to English, as datatrove does) makes the signal null,
    so a German page is not rejected for lacking "the" and "of"; a recipe that wants a stop-word
    rule for such a language must first add its list here (a new signals version).
    """
    return _BY_LANG.get(lang_base(lang))
