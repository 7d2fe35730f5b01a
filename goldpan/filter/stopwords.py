"""Stop-word lists used by the Gopher stop-word signal, one per language.

Why these lists and not a "complete" stop-word list: the signal exists to confirm that a page is
running prose in the expected language, and its threshold (at least 2 distinct stop words) was
calibrated against exactly these short lists. A longer list would make the rule more lenient
without anyone changing its threshold.

- English: Gopher's eight words, as in datatrove's `GopherQualityFilter.STOP_WORDS`
  (datatrove `gopher_quality_filter.py`). Matching is case-sensitive, like datatrove's set intersection.
- Chinese: the 22 single characters of FineWeb-2 `configs/cmn_Hani.yml` (`stopwords:`), which mixes
  simplified and traditional forms (为/為, 与/與 only as 與, 后 only as 後) and includes the
  middle dot "·" (U+00B7) used in transliterated names. With character tokens every entry is a
  single token, so the list applies unchanged.
- Every other language with a FineWeb-2 config: that config's `stopwords:` list
  (`goldpan/data/filter/fineweb2_thresholds.json`, built by `bench/fineweb2_thresholds.py`), used with
  FineWeb-2's `min_stop_words=2`.
- Korean: FineWeb-2's list holds particles and endings (의, 는, 에서, 다 ...) that Korean writes attached to
  the word (one eojeol), so a Korean stop word counts when an eojeol ends with it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

GOPHER_STOP_WORDS_EN: frozenset[str] = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})

# FineWeb-2 configs/cmn_Hani.yml, in the file's order.
FINEWEB2_STOP_WORDS_CMN_HANI: tuple[str, ...] = tuple("的年在月是和日了於\u00b7為有被人中为他與後也而由")

_FIXED: dict[str, frozenset[str]] = {
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


SUFFIX_MATCH_LANGS = frozenset({"ko"})


@lru_cache(maxsize=1)
def fineweb2_table() -> dict:
    """The per-language FineWeb-2 values shipped with goldpan (thresholds and stop words)."""
    path = resources.files("goldpan") / "data" / "filter" / "fineweb2_thresholds.json"
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _by_lang() -> dict[str, frozenset[str]]:
    table = {lang: frozenset(v["stopwords"]) for lang, v in fineweb2_table()["languages"].items()}
    table.update(_FIXED)
    return table


def count_stop_words(toks: list[str], lang: str | None) -> tuple[int, int] | None:
    """(distinct stop words of `lang` among the tokens, tokens that are stop words), Korean: as eojeol
    endings; None without a list."""
    stop = stop_words_for(lang)
    if stop is None:
        return None
    if lang_base(lang) in SUFFIX_MATCH_LANGS:
        found: set[str] = set()
        hits = 0
        for tok in toks:
            match = tok if tok in stop else next(
                (tok[-n:] for n in (2, 1) if len(tok) > n and tok[-n:] in stop), None)
            if match is not None:
                found.add(match)
                hits += 1
        return len(found), hits
    return len(stop.intersection(toks)), sum(map(stop.__contains__, toks))


def stop_words_for(lang: str | None) -> frozenset[str] | None:
    """The stop-word set for `lang`, or None when we have no calibrated list for it.

    None (rather than silently falling back to English, as datatrove does) makes the signal null,
    so a German page is not rejected for lacking "the" and "of"; a recipe that wants a stop-word
    rule for such a language must first add its list here (a new signals version).
    """
    return _by_lang().get(lang_base(lang))
