"""Default thresholds per language, in recipe form: `{section: {recipe_key: {arg: value}}}`.

Two modes (the recipe's `filter.mode`):
- `datatrove`: FineWeb's English rules for every language over the whole text, plus goldpan's
  character-unit Chinese section: decisions agree with datatrove's filters on English
  (bench/datatrove_agreement.py).
- `multilingual` (the default): the same English section, but judged over the prose lines (code, shell
  sessions and paths left out, `goldpan.text.technical`), one section per language with FineWeb-2's
  published per-language thresholds (`goldpan/data/filter/fineweb2_thresholds.json`, from
  huggingface/fineweb-2 `configs/<lang>_<script>.yml`), and a `code` section for pages that are mostly
  code. FineWeb-2 runs GopherRepetition with the paragraph and character-fraction rules off, FineWeb
  quality with `short_line_thr=999` (off) and `char_duplicates_ratio=0.1`, GopherQuality with the
  language's word-length bounds, alphabetic-word ratio and stop words (min 2), and no C4 filter; the
  language sections below do the same, except that C4's "lorem ipsum" rule stays (it is
  script-independent and costs no real page).
"""

from __future__ import annotations

import copy
from typing import Any

from goldpan.filter.stopwords import fineweb2_table

# FineWeb (datatrove defaults) for English, and the character-unit Chinese section.
DATATROVE_RULES_CONFIG: dict[str, dict[str, Any]] = {
    "default": {
        # Gopher quality, Rae et al. 2021 via datatrove GopherQualityFilter defaults.
        "gopher_min_words": {"min_words": 50},
        "gopher_max_words": {"max_words": 100_000},
        "gopher_mean_word_length": {"min_length": 3, "max_length": 10},
        "gopher_hash_ratio": {"max_ratio": 0.1},
        "gopher_ellipsis_ratio": {"max_ratio": 0.1},
        "gopher_bullet_lines": {"max_ratio": 0.9},
        "gopher_ellipsis_lines": {"max_ratio": 0.3},
        "gopher_alpha_words": {"min_ratio": 0.8},
        "gopher_stop_words": {"min_count": 2},
        # Gopher repetition, Gopher paper Table A1 via datatrove GopherRepetitionFilter.
        "gopher_dup_line_frac": {"max_frac": 0.30},
        "gopher_dup_para_frac": {"max_frac": 0.30},
        "gopher_dup_line_char_frac": {"max_frac": 0.20},
        "gopher_dup_para_char_frac": {"max_frac": 0.20},
        "gopher_top_2gram": {"max_frac": 0.20},
        "gopher_top_3gram": {"max_frac": 0.18},
        "gopher_top_4gram": {"max_frac": 0.16},
        "gopher_dup_5gram": {"max_frac": 0.15},
        "gopher_dup_6gram": {"max_frac": 0.14},
        "gopher_dup_7gram": {"max_frac": 0.13},
        "gopher_dup_8gram": {"max_frac": 0.12},
        "gopher_dup_9gram": {"max_frac": 0.11},
        "gopher_dup_10gram": {"max_frac": 0.10},
        # C4 as FineWeb runs it (filter_no_terminal_punct=False, datatrove examples/fineweb.py).
        "c4_lorem_ipsum": {"filter_no_terminal_punct": False},
        "c4_curly_bracket": {"filter_no_terminal_punct": False},
        "c4_min_sentences": {"min_sentences": 5, "filter_no_terminal_punct": False},
        # FineWeb, datatrove FineWebQualityFilter defaults.
        "fineweb_line_punct_ratio": {"min_ratio": 0.12},
        "fineweb_short_line_ratio": {"max_ratio": 0.67},
        "fineweb_char_dup_ratio": {"max_ratio": 0.01},
        "fineweb_list_ratio": {"max_ratio": 0.3},
    },
    # Chinese: words are characters here (goldpan.text.tokenize). Overrides of the default section.
    "zh": {
        # FineWeb-2 keeps 50 / 100,000 jieba words; a jieba word is ~1.5-2 characters, so 100 / 200,000
        # characters keep the rule's intent in character units.
        "gopher_min_words": {"min_words": 100},
        "gopher_max_words": {"max_words": 200_000},
        # FineWeb-2 configs/cmn_Hani.yml: avg word length 1..5, max_non_alpha_words_ratio 0.735,
        # min_stop_words 2 with its list, and its repetition thresholds (calibrated on jieba words;
        # character n-grams are shorter spans, so somewhat stricter here).
        "gopher_mean_word_length": {"min_length": 1, "max_length": 5},
        "gopher_alpha_words": {"min_ratio": 0.735},
        "gopher_stop_words": {"min_count": 2},
        "gopher_dup_line_frac": {"max_frac": 0.287},
        "gopher_top_2gram": {"max_frac": 0.256},
        "gopher_top_3gram": {"max_frac": 0.201},
        "gopher_top_4gram": {"max_frac": 0.171},
        "gopher_dup_5gram": {"max_frac": 0.198},
        "gopher_dup_6gram": {"max_frac": 0.182},
        "gopher_dup_7gram": {"max_frac": 0.167},
        "gopher_dup_8gram": {"max_frac": 0.154},
        "gopher_dup_9gram": {"max_frac": 0.140},
        "gopher_dup_10gram": {"max_frac": 0.127},
        # cmn_Hani.yml / fineweb-2-pipeline.py: line_punct_thr 0.106, short lines off,
        # char_duplicates_ratio 0.1, new_line_ratio 0.178.
        "fineweb_line_punct_ratio": {"min_ratio": 0.106},
        "fineweb_short_line_ratio": None,
        "fineweb_char_dup_ratio": {"max_ratio": 0.1},
        "fineweb_list_ratio": {"max_ratio": 0.178},
    },
}

# The section a mostly-code page is judged by (multilingual mode), over the whole text: code repeats
# lines (`}`, `fi`) and has few letters by nature, so only size, templates and heavy repetition count.
CODE_SECTION: dict[str, Any] = {
    "_inherit": False,
    "gopher_min_words": {"min_words": 50},
    "gopher_max_words": {"max_words": 100_000},
    "c4_lorem_ipsum": {"filter_no_terminal_punct": False},
    "gopher_dup_para_frac": {"max_frac": 0.5},
    "gopher_dup_10gram": {"max_frac": 0.5},
}
CODE_SECTION_NAME = "code"

# Sections goldpan calibrated itself rather than taking FineWeb-2's values as they are.
_OWN_SECTIONS = frozenset({"zh"})


def _fineweb2_section(entry: dict[str, Any]) -> dict[str, Any]:
    """One language's FineWeb-2 values as a section over the default (English) one."""
    sec: dict[str, Any] = {
        "gopher_mean_word_length": {"min_length": entry["min_avg_word_length"],
                                    "max_length": entry["max_avg_word_length"]},
        # FineWeb-2's max_non_alpha_words_ratio is a token ratio: replaced by `letter_words` (see above).
        "gopher_stop_words": {"min_count": 2},
        "gopher_dup_line_frac": {"max_frac": entry["dup_line_frac"]},
        "gopher_dup_para_frac": None,
        "gopher_dup_line_char_frac": None,
        "gopher_dup_para_char_frac": None,
        "fineweb_line_punct_ratio": {"min_ratio": entry["line_punct_thr"]},
        "fineweb_short_line_ratio": None,
        "fineweb_list_ratio": {"max_ratio": entry["new_line_ratio"]},
    }
    for n, v in entry["top_n_grams"].items():
        sec[f"gopher_top_{n}gram"] = {"max_frac": v}
    for n, v in entry["dup_n_grams"].items():
        sec[f"gopher_dup_{n}gram"] = {"max_frac": v}
    return sec


# What multilingual mode changes in every section (the default one included):
# - FineWeb-2's pipeline-wide choices: char_duplicates_ratio 0.1 (from FineWeb's 0.01), short-line rule
#   off, no C4 except "lorem ipsum";
# - "contains a letter" over words, not tokens (`letter_words`, the Gopher paper's definition at its
#   0.8): datatrove's token ratio counts every comma and bracket as a word without letters, and
#   punctuation-dense documentation prose fails it (German LibreOffice help: 0.73 against FineWeb-2's
#   0.774) while the word ratio separates prose (>= 0.88 for 95 % of real pages) from tables and code;
# - `stop_word_ratio` >= 0.02: function words among the words (real pages >= 0.024 in every language
#   measured, dictionary-word salad <= 0.008; bench/filter_multilingual.py).
# goldpan's rules for machine-made pages (goldpan.filter.junk), in every language section of multilingual
# mode (not in datatrove mode, whose decisions must stay datatrove's). Thresholds from the real pages and
# development spam of bench/filter_multilingual.py (see each rule's comment); held-out spam measures them.
JUNK_RULES: dict[str, Any] = {
    # real pages <= 0.93 in the 2nd-99th percentile of every language (Korean, Turkish and Arabic, whose
    # words carry their particles, are the highest), uniform word salad >= 0.958
    "distinct_words": {"max_ratio": 0.95},
    # real pages <= 0.045 (99th percentile, any language), generated lorem ipsum >= 0.41
    "lorem_words": {"max_ratio": 0.1},
    # real pages <= 0.34 (99th percentile), link farms 1.0
    "url_lines": {"max_ratio": 0.5},
    # menus and footers have no line of 8+ words (0.0); 5 of ~1,800 kept real pages are below 0.05
    "long_line_chars": {"min_ratio": 0.05},
    # real pages: 99th percentile 5.8, 99.8th 7.9, 3 of 2,080 above 8 (any language); set from real pages
    # only: the spam kinds it is meant for are held out (bench/filter_multilingual.py)
    "keyword_dominance": {"max_ratio": 8.0},
    # real pages (>= 8 brackets): 99.5th percentile 0.32, 2 of 2,080 above 0.5; dictionary-word salad
    # (development spam) median 0.84
    "unbalanced_brackets": {"max_ratio": 0.5},
}

# goldpan's own per-language values where FineWeb-2's (or the default) do not fit the way goldpan
# counts words, measured on bench/filter_multilingual.py's real pages and development spam.
# Gopher's minimum of 50 words is ~255 word characters of English (median word length 5.11 on the
# benchmark's real English pages). Languages that write longer words (compounds, agglutination: Hungarian
# "párbeszédablak-szerkesztőben" = "in the dialog editor") say the same in fewer words, so 50 of their
# words is a longer text and their short help pages fail where the English original passes. Each minimum
# below is the word count of that much text at the language's median word length on real pages
# (bench/filter_multilingual.py, pages of >= 50 words): round(50 x 5.11 / median). Only lowered: languages
# with shorter words (vi, ko, ja) keep 50.
MIN_WORDS_SAME_TEXT: dict[str, int] = {
    "cs": 44, "de": 40, "el": 42, "es": 49, "fr": 49, "hu": 38, "id": 43, "it": 47, "nl": 44, "pl": 40,
    "pt": 49, "ru": 41, "sv": 45, "tr": 38,
}

LANGUAGE_CHANGES: dict[str, dict[str, Any]] = {
    **{lang: {"gopher_min_words": {"min_words": n}} for lang, n in MIN_WORDS_SAME_TEXT.items()},
    # Chinese keyphrases are 4-character n-grams, and real pages repeat their topic's words as much:
    # 99th percentile 9.1, max 12 of 126 real pages.
    "zh": {"keyword_dominance": {"max_ratio": 12.0},
           # a token is a character: real documentation pages >= 0.23 of their character pairs recur
           # (min of 94 pages with >= 200 pairs), narrative prose 0.11 (tests), characters drawn by
           # frequency (gibberish, development spam) <= 0.025. Only Chinese so far: the other
           # languages' values were not calibrated.
           "recurring_bigrams": {"min_ratio": 0.05}},
    # (Chinese: not `distinct_words` 0.78, although real documentation pages' 100-character windows are
    # <= 0.744 distinct and characters drawn by frequency >= 0.79: real Chinese narrative prose reaches
    # 0.82, tests/unit/test_filter_junk.py.)
    # Sudachi (mode A) words of real Japanese average >= 1.81 characters (min of 89 pages); FineWeb-2's
    # minimum of 1 was set for its own tokenizer. Random kana/kanji split by Sudachi average 1.2.
    "ja": {"gopher_mean_word_length": {"min_length": 1.5}},
}

MULTILINGUAL_CHANGES: dict[str, Any] = {
    "gopher_alpha_words": None,
    "letter_words": {"min_ratio": 0.8},
    "stop_word_ratio": {"min_ratio": 0.02},
    **JUNK_RULES,
    "fineweb_char_dup_ratio": {"max_ratio": 0.1},
    "fineweb_short_line_ratio": None,
    "c4_curly_bracket": None,
    "c4_min_sentences": None,
}


def _apply(section: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`section` with `changes` on top (a null change removes the rule)."""
    return {**section, **changes}


def _multilingual() -> dict[str, dict[str, Any]]:
    cfg = copy.deepcopy(DATATROVE_RULES_CONFIG)
    cfg["default"] = {k: v for k, v in _apply(cfg["default"], MULTILINGUAL_CHANGES).items() if v is not None}
    cfg["zh"] = _apply(cfg["zh"], {k: v for k, v in MULTILINGUAL_CHANGES.items() if k == "gopher_alpha_words"})
    for lang, entry in sorted(fineweb2_table()["languages"].items()):
        if lang in _OWN_SECTIONS:
            continue
        cfg[lang] = _fineweb2_section(entry)
    for lang, changes in LANGUAGE_CHANGES.items():
        section = cfg.setdefault(lang, {})
        for key, args in changes.items():  # argument by argument: {min_length} keeps the section's max_length
            section[key] = {**(section.get(key) or {}), **args}
    cfg[CODE_SECTION_NAME] = copy.deepcopy(CODE_SECTION)
    return cfg


MULTILINGUAL_RULES_CONFIG: dict[str, dict[str, Any]] = _multilingual()
DEFAULT_RULES_CONFIG = MULTILINGUAL_RULES_CONFIG
MODE_CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "multilingual": MULTILINGUAL_RULES_CONFIG,
    "datatrove": DATATROVE_RULES_CONFIG,
}
