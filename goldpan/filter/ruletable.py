"""The filter rules as one table: name, signal, comparison, recipe argument and published default.

Why a table: every rule of Gopher, C4 and FineWeb is "signal op threshold", so one spec per rule and one
evaluator (`goldpan.filter.rules`) replace a class per rule. The same table is the single registry of
rule names: recipe validation, `why`, `trace` and `sweep` all read it (`RULES`, `RECIPE_KEYS`).

A row: `name` is what `rejections.rule` stores; `key` the recipe entry that sets it (the two sides of
the word-length rule share `gopher_mean_word_length`); `arg` the argument holding the threshold (None:
a fixed threshold, e.g. "any lorem ipsum line"); `op` "<" = a minimum (fails when value < threshold),
">" = a maximum. `upper` bounds valid thresholds (1.0 for shares; none for the n-gram
fractions, where FineWeb-2 publishes values above 1 for languages whose rule it turned off). Defaults are datatrove's published
values (datatrove `gopher_quality_filter.py`, `gopher_repetition_filter.py`, `c4_filters.py`,
`fineweb_quality_filter.py`); per-language values are in `goldpan.filter.defaults`.
"""

from __future__ import annotations

from dataclasses import dataclass

from goldpan.filter.signals import DUP_NGRAM_SIZES, TOP_NGRAM_SIZES

LESS, GREATER = "<", ">"


@dataclass(frozen=True)
class RuleSpec:
    """One rule: `signal op threshold` fails the document."""

    name: str
    family: str
    signal: str
    op: str
    arg: str | None
    default: float
    upper: float | None = None
    key: str = ""  # recipe key; empty = the name
    strict_signal: str | None = None  # C4 only: the column read with filter_no_terminal_punct: true
    doc: str = ""

    @property
    def recipe_key(self) -> str:
        return self.key or self.name


def _r(name, family, signal, op, arg, default, upper=None, key="", strict=None, doc=""):
    return RuleSpec(name, family, signal, op, arg, float(default), upper, key, strict, doc)


G, R, C4, FW, J = "gopher_quality", "gopher_repetition", "c4", "fineweb", "junk"
_SHARE = 1.0

# name                          family signal                      op       arg           default  upper
RULE_TABLE: tuple[RuleSpec, ...] = (
    _r("gopher_min_words",           G, "n_words",              LESS,    "min_words",  50,      None,
       doc="too short to be a document"),
    _r("gopher_max_words",           G, "n_words",              GREATER, "max_words",  100_000, None,
       doc="too long to be one page (dumps, concatenated listings)"),
    _r("gopher_mean_word_length_min", G, "mean_word_length",    LESS,    "min_length", 3,       None,
       key="gopher_mean_word_length", doc="words too short: symbols, tables, unsegmented text"),
    _r("gopher_mean_word_length_max", G, "mean_word_length",    GREATER, "max_length", 10,      None,
       key="gopher_mean_word_length", doc="words too long: URLs, hashes, base64"),
    _r("gopher_hash_ratio",          G, "hash_word_ratio",      GREATER, "max_ratio",  0.1,     None,
       doc='"#" per token: hashtag spam'),
    _r("gopher_ellipsis_ratio",      G, "ellipsis_word_ratio",  GREATER, "max_ratio",  0.1,     None,
       doc='"..." per token: truncated snippets'),
    _r("gopher_bullet_lines",        G, "bullet_lines_ratio",   GREATER, "max_ratio",  0.9,     _SHARE,
       doc="mostly bullet lines: a menu or link list"),
    _r("gopher_ellipsis_lines",      G, "ellipsis_lines_ratio", GREATER, "max_ratio",  0.3,     _SHARE,
       doc="lines ending in an ellipsis: teaser lists"),
    _r("gopher_alpha_words",         G, "alpha_words_ratio",    LESS,    "min_ratio",  0.8,     _SHARE,
       doc="too few tokens with a letter of any script"),
    _r("letter_words",               G, "letter_words_ratio",   LESS,    "min_ratio",  0.8,     _SHARE,
       doc="too few words (punctuation left out) with a letter of any script; Gopher paper's definition"),
    _r("stop_word_ratio",            G, "stop_words_ratio",     LESS,    "min_ratio",  0.02,    _SHARE,
       doc="too few function words among the words: word salad, keyword lists"),
    _r("gopher_stop_words",          G, "stop_words_count",     LESS,    "min_count",  2,       None,
       doc="too few of the language's stop words: not running prose"),
    _r("gopher_dup_line_frac",       R, "dup_line_frac",        GREATER, "max_frac",   0.30,    _SHARE,
       doc="lines repeating an earlier line"),
    _r("gopher_dup_para_frac",       R, "dup_para_frac",        GREATER, "max_frac",   0.30,    _SHARE,
       doc="paragraphs repeating an earlier paragraph"),
    _r("gopher_dup_line_char_frac",  R, "dup_line_char_frac",   GREATER, "max_frac",   0.20,    _SHARE,
       doc="characters in repeated lines"),
    _r("gopher_dup_para_char_frac",  R, "dup_para_char_frac",   GREATER, "max_frac",   0.20,    _SHARE,
       doc="characters in repeated paragraphs"),
    *(_r(f"gopher_top_{n}gram",      R, f"top_{n}gram_char_frac", GREATER, "max_frac", d,       None,
         doc=f"the most frequent word {n}-gram covers too much text")
      for n, d in zip(TOP_NGRAM_SIZES, (0.20, 0.18, 0.16))),
    *(_r(f"gopher_dup_{n}gram",      R, f"dup_{n}gram_char_frac", GREATER, "max_frac", d,       None,
         doc=f"characters inside repeated word {n}-grams")
      for n, d in zip(DUP_NGRAM_SIZES, (0.15, 0.14, 0.13, 0.12, 0.11, 0.10))),
    _r("c4_lorem_ipsum",             C4, "c4_lorem_ipsum",      GREATER, None,         0,       None,
       strict="c4_strict_lorem_ipsum", doc='a kept line says "lorem ipsum": a template'),
    _r("c4_curly_bracket",           C4, "c4_curly_bracket",    GREATER, None,         0,       None,
       strict="c4_strict_curly_bracket", doc='a kept line has "{": code or template residue'),
    _r("c4_min_sentences",           C4, "c4_sentences",        LESS,    "min_sentences", 5,    None,
       strict="c4_strict_sentences", doc="too few sentences in the lines C4 keeps"),
    _r("fineweb_line_punct_ratio",   FW, "fw_line_punct_ratio", LESS,    "min_ratio",  0.12,    _SHARE,
       doc="too few lines end a sentence: menus, lists"),
    _r("fineweb_short_line_ratio",   FW, "fw_short_line_ratio", GREATER, "max_ratio",  0.67,    _SHARE,
       doc="too many lines of <= 30 characters"),
    _r("fineweb_char_dup_ratio",     FW, "fw_char_dup_ratio",   GREATER, "max_ratio",  0.01,    _SHARE,
       doc="characters in repeated lines (FineWeb's strict 1 %)"),
    _r("fineweb_list_ratio",         FW, "fw_newline_ratio",    GREATER, "max_ratio",  0.3,     None,
       doc="newlines per word: a list, one short item per line"),
    # goldpan's signals of machine-made pages (goldpan.filter.junk); defaults measured on the
    # multilingual benchmark (bench/filter_multilingual.py), not published values.
    _r("distinct_words",             J,  "distinct_word_ratio", GREATER, "max_ratio",  0.95,     _SHARE,
       doc="nearly every word distinct in each 100-word window: word salad, random strings"),
    _r("lorem_words",                J,  "lorem_word_ratio",    GREATER, "max_ratio",  0.1,     _SHARE,
       doc="words of lorem-ipsum generators: template filler"),
    _r("url_lines",                  J,  "url_lines_ratio",     GREATER, "max_ratio",  0.5,     _SHARE,
       doc="most lines hold a URL: link farm, link list"),
    _r("long_line_chars",            J,  "long_line_char_frac", LESS,    "min_ratio",  0.05,     _SHARE,
       doc="too little text in lines of 8+ words: menus, footers, breadcrumbs"),
    _r("keyword_dominance",          J,  "keyword_dominance",   GREATER, "max_ratio",  5.0,     None,
       doc="one content-word bigram far more frequent than any other: a pushed keyphrase"),
    _r("unbalanced_brackets",        J,  "unbalanced_bracket_ratio", GREATER, "max_ratio", 0.5, _SHARE,
       doc="most brackets unpaired on their line: text assembled without structure"),
    _r("recurring_bigrams",          J,  "recurring_bigram_share", LESS,  "min_ratio",  0.05,    _SHARE,
       doc="almost no word pair occurs twice: characters or words drawn independently"),
)

RULES: dict[str, RuleSpec] = {s.name: s for s in RULE_TABLE}
RECIPE_KEYS: dict[str, tuple[RuleSpec, ...]] = {}
for _spec in RULE_TABLE:
    RECIPE_KEYS[_spec.recipe_key] = (*RECIPE_KEYS.get(_spec.recipe_key, ()), _spec)
# Arguments a recipe entry accepts besides the thresholds (C4's variant switch).
OPTION_ARGS: dict[str, frozenset[str]] = {
    key: frozenset({"filter_no_terminal_punct"}) if any(s.strict_signal for s in specs) else frozenset()
    for key, specs in RECIPE_KEYS.items()
}


def rule_names() -> tuple[str, ...]:
    """Every name `rejections.rule` can hold, in table order (for recipe validation and `why`)."""
    return tuple(RULES)


def recipe_keys() -> tuple[str, ...]:
    """Every key a recipe's `filter.rules.<section>` may name."""
    return tuple(RECIPE_KEYS)
