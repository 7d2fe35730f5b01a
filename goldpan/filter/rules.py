"""Filter decisions as data: rules compare stored signals with thresholds, nothing is recomputed.

Why rules are separate from signals: a threshold change (or a new per-language recipe) must be a
cheap re-evaluation over the `doc_signals` table, and every rejection must say which rule, which
value and which threshold decided it. Each rule is a frozen dataclass whose fields are its
thresholds; each failure becomes one row of the `rejections` table with exactly one threshold.

Semantics mirror datatrove: "min" rules fail when value < threshold, "max" rules when
value > threshold, so a value equal to the threshold passes. Unlike datatrove, a threshold of 0
is a real threshold (datatrove treats 0 as "disabled"); to disable a rule, remove it from the
recipe (set its entry to null in a language section).

A signal that is null (e.g. `stop_words_count` for a language without a stop-word list) cannot
be judged, so the rule passes; a signal that is *missing* from the mapping is a programming or
version error and raises.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Protocol

from goldpan.filter.signals import DUP_NGRAM_SIZES, STATUS_ERROR, TOP_NGRAM_SIZES
from goldpan.filter.stopwords import lang_base

LESS, GREATER = "<", ">"


@dataclass(frozen=True)
class Failure:
    """One failed rule: `value op threshold` is true (e.g. 37 < 50)."""

    rule: str
    value: float
    op: str  # "<" (value below a minimum) or ">" (value above a maximum)
    threshold: float


class Rule(Protocol):
    name: str

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None: ...


def _signal(signals: Mapping[str, Any], key: str, rule: str) -> float | None:
    if key not in signals:
        raise ValueError(f"rule {rule!r} needs signal {key!r}, which is missing from the signals row")
    value = signals[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _check_number(rule: str, arg: str, value: Any, *, upper: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"rule {rule!r}: {arg} must be a number, got {value!r}")
    if value < 0 or (upper is not None and value > upper):
        bound = f"[0, {upper}]" if upper is not None else ">= 0"
        raise ValueError(f"rule {rule!r}: {arg} must be in {bound}, got {value!r}")


def _min(rule: str, signals: Mapping[str, Any], key: str, threshold: float) -> Failure | None:
    v = _signal(signals, key, rule)
    return Failure(rule, v, LESS, float(threshold)) if v is not None and v < threshold else None


def _max(rule: str, signals: Mapping[str, Any], key: str, threshold: float) -> Failure | None:
    v = _signal(signals, key, rule)
    return Failure(rule, v, GREATER, float(threshold)) if v is not None and v > threshold else None


# --- Gopher quality (anchors.md §2.1) --------------------------------------------------------


@dataclass(frozen=True)
class GopherMinWords:
    """Too short to be a document: fewer than `min_words` non-symbol words."""

    min_words: int = 50
    name: ClassVar[str] = "gopher_min_words"

    def __post_init__(self) -> None:
        _check_number(self.name, "min_words", self.min_words)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _min(self.name, signals, "n_words", self.min_words)


@dataclass(frozen=True)
class GopherMaxWords:
    """Too long to be one page of prose (dumps, concatenated listings)."""

    max_words: int = 100_000
    name: ClassVar[str] = "gopher_max_words"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_words", self.max_words)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "n_words", self.max_words)


@dataclass(frozen=True)
class GopherMeanWordLength:
    """Mean word length outside [min_length, max_length]: code, URLs, tables, or chat noise.

    Two-sided, so a failure names its side (`..._min` / `..._max`) and carries one threshold;
    only one side can fail at a time. Either bound may be None to check one side only.
    """

    min_length: float | None = 3
    max_length: float | None = 10
    name: ClassVar[str] = "gopher_mean_word_length"

    def __post_init__(self) -> None:
        if self.min_length is None and self.max_length is None:
            raise ValueError(f"rule {self.name!r}: set min_length, max_length or both")
        for arg in ("min_length", "max_length"):
            if getattr(self, arg) is not None:
                _check_number(self.name, arg, getattr(self, arg))
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError(
                f"rule {self.name!r}: min_length {self.min_length} > max_length {self.max_length}"
            )

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        if self.min_length is not None:
            failure = _min(f"{self.name}_min", signals, "mean_word_length", self.min_length)
            if failure:
                return failure
        if self.max_length is not None:
            return _max(f"{self.name}_max", signals, "mean_word_length", self.max_length)
        return None


@dataclass(frozen=True)
class GopherHashRatio:
    """Too many "#" per token (hashtag spam, markdown/code residue)."""

    max_ratio: float = 0.1
    name: ClassVar[str] = "gopher_hash_ratio"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "hash_word_ratio", self.max_ratio)


@dataclass(frozen=True)
class GopherEllipsisRatio:
    """Too many "..."/"…" per token (truncated snippets). Gopher's symbol-to-word ratio, part 2."""

    max_ratio: float = 0.1
    name: ClassVar[str] = "gopher_ellipsis_ratio"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "ellipsis_word_ratio", self.max_ratio)


@dataclass(frozen=True)
class GopherBulletLines:
    """Mostly bullet lines: a menu or a link list rather than prose."""

    max_ratio: float = 0.9
    name: ClassVar[str] = "gopher_bullet_lines"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "bullet_lines_ratio", self.max_ratio)


@dataclass(frozen=True)
class GopherEllipsisLines:
    """Many lines ending in an ellipsis: a list of truncated teasers."""

    max_ratio: float = 0.3
    name: ClassVar[str] = "gopher_ellipsis_lines"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "ellipsis_lines_ratio", self.max_ratio)


@dataclass(frozen=True)
class GopherAlphaWords:
    """Too few tokens with letters: numbers, symbols, tables (datatrove `max_non_alpha_words_ratio`)."""

    min_ratio: float = 0.8
    name: ClassVar[str] = "gopher_alpha_words"

    def __post_init__(self) -> None:
        _check_number(self.name, "min_ratio", self.min_ratio, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _min(self.name, signals, "alpha_words_ratio", self.min_ratio)


@dataclass(frozen=True)
class GopherStopWords:
    """Fewer than `min_count` distinct stop words: not running prose in the expected language."""

    min_count: int = 2
    name: ClassVar[str] = "gopher_stop_words"

    def __post_init__(self) -> None:
        _check_number(self.name, "min_count", self.min_count)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _min(self.name, signals, "stop_words_count", self.min_count)


# --- Gopher repetition (anchors.md §2.2) -----------------------------------------------------


@dataclass(frozen=True)
class _MaxFracRule:
    max_frac: float
    name: ClassVar[str] = ""
    signal: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _check_number(self.name, "max_frac", self.max_frac, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, self.signal, self.max_frac)


@dataclass(frozen=True)
class GopherDupLineFrac(_MaxFracRule):
    """Share of lines that repeat an earlier line (boilerplate, spam)."""

    max_frac: float = 0.3
    name: ClassVar[str] = "gopher_dup_line_frac"
    signal: ClassVar[str] = "dup_line_frac"


@dataclass(frozen=True)
class GopherDupParaFrac(_MaxFracRule):
    max_frac: float = 0.3
    name: ClassVar[str] = "gopher_dup_para_frac"
    signal: ClassVar[str] = "dup_para_frac"


@dataclass(frozen=True)
class GopherDupLineCharFrac(_MaxFracRule):
    max_frac: float = 0.2
    name: ClassVar[str] = "gopher_dup_line_char_frac"
    signal: ClassVar[str] = "dup_line_char_frac"


@dataclass(frozen=True)
class GopherDupParaCharFrac(_MaxFracRule):
    max_frac: float = 0.2
    name: ClassVar[str] = "gopher_dup_para_char_frac"
    signal: ClassVar[str] = "dup_para_char_frac"


@dataclass(frozen=True)
class GopherTopNgram:
    """The single most frequent n-gram (n = 2..4) covers too many characters."""

    n: int
    max_frac: float

    def __post_init__(self) -> None:
        if self.n not in TOP_NGRAM_SIZES:
            raise ValueError(f"rule 'gopher_top_ngram': n must be one of {TOP_NGRAM_SIZES}, got {self.n!r}")
        _check_number(self.name, "max_frac", self.max_frac, upper=1.0)

    @property
    def name(self) -> str:
        return f"gopher_top_{self.n}gram"

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, f"top_{self.n}gram_char_frac", self.max_frac)


@dataclass(frozen=True)
class GopherDupNgram:
    """Characters inside repeated n-grams (n = 5..10) cover too much of the text."""

    n: int
    max_frac: float

    def __post_init__(self) -> None:
        if self.n not in DUP_NGRAM_SIZES:
            raise ValueError(f"rule 'gopher_dup_ngram': n must be one of {DUP_NGRAM_SIZES}, got {self.n!r}")
        _check_number(self.name, "max_frac", self.max_frac, upper=1.0)

    @property
    def name(self) -> str:
        return f"gopher_dup_{self.n}gram"

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, f"dup_{self.n}gram_char_frac", self.max_frac)


# --- C4 (anchors.md §2.3; goldpan.filter.lines) ----------------------------------------------
#
# C4's line rules (terminal punctuation, words per line, javascript, policy lines) remove lines;
# they are signal parameters. Its document rules are below. `filter_no_terminal_punct` picks the
# variant: False = FineWeb's setting (`C4QualityFilter(filter_no_terminal_punct=False)` in
# datatrove's examples/fineweb.py, the default here because FineWeb's statistics are computed on
# that variant's output), True = the original C4 (lines without terminal punctuation removed first).


@dataclass(frozen=True)
class _C4Rule:
    filter_no_terminal_punct: bool = False
    name: ClassVar[str] = ""
    signal: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if not isinstance(self.filter_no_terminal_punct, bool):
            raise ValueError(f"rule {self.name!r}: filter_no_terminal_punct must be true or false")  # noqa: TRY004

    def _key(self) -> str:
        return self.signal.replace("c4_", "c4_strict_", 1) if self.filter_no_terminal_punct else self.signal


@dataclass(frozen=True)
class C4LoremIpsum(_C4Rule):
    """A kept line says "lorem ipsum": a template page, never real content (C4 drops the page)."""

    name: ClassVar[str] = "c4_lorem_ipsum"
    signal: ClassVar[str] = "c4_lorem_ipsum"

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, self._key(), 0)


@dataclass(frozen=True)
class C4CurlyBracket(_C4Rule):
    """A kept line has "{": code or template residue (C4 drops the page; hurts code-heavy pages)."""

    name: ClassVar[str] = "c4_curly_bracket"
    signal: ClassVar[str] = "c4_curly_bracket"

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, self._key(), 0)


@dataclass(frozen=True)
class C4MinSentences(_C4Rule):
    """Fewer than `min_sentences` sentences in the lines C4 kept: not enough running text."""

    min_sentences: int = 5
    name: ClassVar[str] = "c4_min_sentences"
    signal: ClassVar[str] = "c4_sentences"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_number(self.name, "min_sentences", self.min_sentences)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _min(self.name, signals, self._key(), self.min_sentences)


# --- FineWeb (anchors.md §2.4), over the text C4 kept ------------------------------------------


@dataclass(frozen=True)
class FineWebLinePunct:
    """Too few lines end in a sentence terminal: menus, lists, tables rather than prose."""

    min_ratio: float = 0.12
    name: ClassVar[str] = "fineweb_line_punct_ratio"

    def __post_init__(self) -> None:
        _check_number(self.name, "min_ratio", self.min_ratio, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _min(self.name, signals, "fw_line_punct_ratio", self.min_ratio)


@dataclass(frozen=True)
class FineWebShortLines:
    """Too many lines of <= 30 characters: navigation, link lists, headings without text."""

    max_ratio: float = 0.67
    name: ClassVar[str] = "fineweb_short_line_ratio"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "fw_short_line_ratio", self.max_ratio)


@dataclass(frozen=True)
class FineWebCharDup:
    """Characters in repeated lines above `max_ratio` (FineWeb's strict 1%: boilerplate leftovers)."""

    max_ratio: float = 0.01
    name: ClassVar[str] = "fineweb_char_dup_ratio"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio, upper=1.0)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "fw_char_dup_ratio", self.max_ratio)


@dataclass(frozen=True)
class FineWebListRatio:
    """Newlines per word above `max_ratio`: a list, one short item per line."""

    max_ratio: float = 0.3
    name: ClassVar[str] = "fineweb_list_ratio"

    def __post_init__(self) -> None:
        _check_number(self.name, "max_ratio", self.max_ratio)

    def evaluate(self, signals: Mapping[str, Any]) -> Failure | None:
        return _max(self.name, signals, "fw_newline_ratio", self.max_ratio)


# --- Recipes ---------------------------------------------------------------------------------

_FIXED_RULES: dict[str, type] = {
    cls.name: cls  # type: ignore[attr-defined]
    for cls in (
        GopherMinWords,
        GopherMaxWords,
        GopherMeanWordLength,
        GopherHashRatio,
        GopherEllipsisRatio,
        GopherBulletLines,
        GopherEllipsisLines,
        GopherAlphaWords,
        GopherStopWords,
        GopherDupLineFrac,
        GopherDupParaFrac,
        GopherDupLineCharFrac,
        GopherDupParaCharFrac,
        C4LoremIpsum,
        C4CurlyBracket,
        C4MinSentences,
        FineWebLinePunct,
        FineWebShortLines,
        FineWebCharDup,
        FineWebListRatio,
    )
}
_NGRAM_KEY = re.compile(r"^gopher_(top|dup)_(\d+)gram$")
INHERIT_KEY = "_inherit"  # in a language section: false = do not start from the default section

# Every number below is the published one; the source is given per line.
# anchors.md = /work/shared/notes/anchors.md (datatrove a649de79, fineweb-2 d0defb24).
DEFAULT_RULES_CONFIG: dict[str, dict[str, Any]] = {
    "default": {
        # Gopher quality, Rae et al. 2021 (arXiv:2112.11446) via datatrove GopherQualityFilter
        # defaults (anchors.md §2.1); identical in DCLM and NeMo configs.
        "gopher_min_words": {"min_words": 50},
        "gopher_max_words": {"max_words": 100_000},
        "gopher_mean_word_length": {"min_length": 3, "max_length": 10},
        "gopher_hash_ratio": {"max_ratio": 0.1},  # max_symbol_word_ratio, "#" part
        "gopher_ellipsis_ratio": {"max_ratio": 0.1},  # max_symbol_word_ratio, ellipsis part
        "gopher_bullet_lines": {"max_ratio": 0.9},
        "gopher_ellipsis_lines": {"max_ratio": 0.3},
        "gopher_alpha_words": {"min_ratio": 0.8},  # datatrove max_non_alpha_words_ratio=0.8
        "gopher_stop_words": {"min_count": 2},
        # Gopher repetition, Gopher paper Table A1 via datatrove GopherRepetitionFilter (§2.2).
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
        # C4, Raffel et al. 2020 via datatrove C4QualityFilter defaults, run as FineWeb runs it
        # (filter_no_terminal_punct=False, examples/fineweb.py; anchors.md §2.3).
        "c4_lorem_ipsum": {"filter_no_terminal_punct": False},
        "c4_curly_bracket": {"filter_no_terminal_punct": False},
        "c4_min_sentences": {"min_sentences": 5, "filter_no_terminal_punct": False},
        # FineWeb, datatrove FineWebQualityFilter defaults (anchors.md §2.4).
        "fineweb_line_punct_ratio": {"min_ratio": 0.12},
        "fineweb_short_line_ratio": {"max_ratio": 0.67},
        "fineweb_char_dup_ratio": {"max_ratio": 0.01},
        "fineweb_list_ratio": {"max_ratio": 0.3},
    },
    # Chinese: words are characters here (goldpan.text.tokenize). Overrides of the default section.
    "zh": {
        # (derived) FineWeb-2 keeps datatrove's 50 / 100,000 *jieba words*; a jieba word is ~1.5-2
        # characters, so 50 words ~ 75-100 characters. 100 characters keeps the rule's intent
        # (a paragraph, not a caption) in character units; 200,000 ~ 100k words at ~2 chars.
        "gopher_min_words": {"min_words": 100},
        "gopher_max_words": {"max_words": 200_000},
        # FineWeb-2 configs/cmn_Hani.yml: min_avg_word_length 1, max_avg_word_length 5.
        # With character tokens the mean is ~1-1.3; the max still catches "zh" pages that are
        # mostly long Latin strings (URLs, code).
        "gopher_mean_word_length": {"min_length": 1, "max_length": 5},
        # FineWeb-2 cmn_Hani.yml: max_non_alpha_words_ratio 0.735 (our CJK-aware alpha test).
        "gopher_alpha_words": {"min_ratio": 0.735},
        # fineweb-2-pipeline.py: min_stop_words=2 with the cmn_Hani list (goldpan.filter.stopwords).
        "gopher_stop_words": {"min_count": 2},
        # FineWeb-2 cmn_Hani.yml repetition thresholds (anchors.md §2.4). Calibrated on jieba words;
        # character n-grams are shorter spans, so these are somewhat stricter here (see report).
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
        # Kept from the default section on purpose: hash/ellipsis ratios, bullet and ellipsis
        # lines, and the paragraph / line-character duplicate rules are script-independent.
        # (FineWeb-2 turned the last three off because its trafilatura output had few paragraph
        # breaks and relied on FineWeb's char_duplicates_ratio=0.1 instead.)
        # FineWeb-2 cmn_Hani.yml / fineweb-2-pipeline.py (anchors.md §2.4): line_punct_thr 0.106
        # (CJK 。！？ are sentence terminals), short_line_thr 999 = off, char_duplicates_ratio 0.1,
        # new_line_ratio 0.178 (per jieba word; per character here, so somewhat more lenient).
        "fineweb_line_punct_ratio": {"min_ratio": 0.106},
        "fineweb_short_line_ratio": None,
        "fineweb_char_dup_ratio": {"max_ratio": 0.1},
        "fineweb_list_ratio": {"max_ratio": 0.178},
        # C4's document rules are kept (lorem ipsum and "{" are script-independent; sentences are
        # counted at 。！？). FineWeb-2 does not run C4 at all; drop them here to follow it exactly.
    },
}


def build_rule(key: str, args: Mapping[str, Any] | None) -> Rule:
    """One rule from its recipe key and arguments; ValueError naming the rule on any problem."""
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise ValueError(f"rule {key!r}: arguments must be a mapping, got {type(args).__name__}")  # noqa: TRY004
    kwargs = dict(args)
    cls: type | None = _FIXED_RULES.get(key)
    if cls is None:
        m = _NGRAM_KEY.match(key) if isinstance(key, str) else None
        if m is None:
            known = sorted(_FIXED_RULES) + ["gopher_top_{2,3,4}gram", "gopher_dup_{5..10}gram"]
            raise ValueError(f"unknown rule {key!r}; known rules: {', '.join(known)}")
        cls = GopherTopNgram if m.group(1) == "top" else GopherDupNgram
        n = int(m.group(2))
        if "n" in kwargs and kwargs["n"] != n:
            raise ValueError(f"rule {key!r}: argument n={kwargs['n']!r} contradicts the rule name")
        kwargs["n"] = n
    allowed = {f.name for f in fields(cls)}
    unknown = set(kwargs) - allowed
    if unknown:
        raise ValueError(
            f"rule {key!r}: unknown argument(s) {sorted(unknown)}; expected {sorted(allowed - {'n'})}"
        )
    try:
        return cls(**kwargs)
    except ValueError:
        raise
    except TypeError as exc:
        raise ValueError(f"rule {key!r}: bad arguments {dict(args)!r}: {exc}") from exc


@dataclass
class RuleSet:
    """Rules per language, built from a recipe mapping; the unit a filter run is evaluated with."""

    sections: dict[str, list[Rule]]
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> RuleSet:
        """Build and validate every section now, so a bad recipe fails before any document is judged.

        `cfg` = {"default": {rule_key: {arg: value}}, "<lang>": {...}}. A language section starts
        from the default section (unless it sets "_inherit": false); an entry there updates that
        rule's arguments, a null entry removes the rule, a new key adds a rule.
        """
        if not isinstance(cfg, Mapping):
            raise ValueError(f"rules config must be a mapping, got {type(cfg).__name__}")  # noqa: TRY004
        default = cfg.get("default", {}) or {}
        if not isinstance(default, Mapping):
            raise ValueError("rules config: section 'default' must be a mapping")  # noqa: TRY004
        resolved: dict[str, dict[str, Any]] = {"default": {k: v for k, v in default.items() if v is not None}}
        for section, body in cfg.items():
            if section == "default":
                continue
            if not isinstance(body, Mapping):
                raise ValueError(f"rules config: section {section!r} must be a mapping")  # noqa: TRY004
            inherit = body.get(INHERIT_KEY, True)
            merged: dict[str, Any] = copy.deepcopy(resolved["default"]) if inherit else {}
            for key, args in body.items():
                if key == INHERIT_KEY:
                    continue
                if args is None:
                    merged.pop(key, None)
                elif isinstance(args, Mapping) and isinstance(merged.get(key), Mapping):
                    merged[key] = {**merged[key], **args}
                else:
                    merged[key] = args
            lang = lang_base(section) or section
            if lang in resolved:
                raise ValueError(f"rules config: section {section!r} duplicates language {lang!r}")
            resolved[lang] = merged
        sections: dict[str, list[Rule]] = {}
        for section, entries in resolved.items():
            rules = []
            for key, args in entries.items():
                try:
                    rules.append(build_rule(key, args))
                except ValueError as exc:
                    raise ValueError(f"rules config section {section!r}: {exc}") from None
            sections[section] = rules
        return cls(sections=sections, config=copy.deepcopy(dict(cfg)))

    @classmethod
    def default(cls) -> RuleSet:
        return cls.from_config(DEFAULT_RULES_CONFIG)

    def rules_for(self, lang: str | None) -> list[Rule]:
        """The language's section ('zh-Hant' and 'zh_Hani' use 'zh'), else the default section."""
        base = lang_base(lang)
        if base and base in self.sections:
            return self.sections[base]
        return self.sections.get("default", [])

    def evaluate(self, doc_id: str | None, lang: str | None, signals: Mapping[str, Any]) -> list[Failure]:
        """Every failed rule (not just the first, unlike datatrove) so each reason is recorded."""
        try:
            return [f for f in (rule.evaluate(signals) for rule in self.rules_for(lang)) if f is not None]
        except ValueError as exc:
            raise ValueError(f"doc {doc_id!r}: {exc}") from None

    def fingerprint(self) -> str:
        """sha1 of the canonical recipe JSON: identifies the thresholds a decision was made with."""
        blob = json.dumps(self.config, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def decide_batch(
    signals: Iterable[Mapping[str, Any]],
    ruleset: RuleSet,
    recipe_id: str,
    stage: str = "filter",
) -> Iterator[dict[str, Any]]:
    """Rejection rows (REJECTIONS schema) for a stream of signal rows: one per failed rule.

    Rows whose signals errored are skipped: they have no numbers to judge, and the caller counts
    them as errored from the signals table, so input = kept + rejected + errored still holds.
    """
    for row in signals:
        if row.get("status") == STATUS_ERROR:
            continue
        doc_id = row.get("doc_id")
        for failure in ruleset.evaluate(doc_id, row.get("lang"), row):
            yield {
                "batch_id": row.get("batch_id"),
                "stage": stage,
                "doc_id": doc_id,
                "rule": failure.rule,
                "value": failure.value,
                "op": failure.op,
                "threshold": failure.threshold,
                "recipe_id": recipe_id,
            }


def merge_rules_config(base: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Apply a recipe's rule settings on top of `base` (normally DEFAULT_RULES_CONFIG).

    Why: a recipe that changes one threshold must not silently drop every other rule. Within a
    section, a rule's arguments are updated key by key; `null` removes the rule; a section that
    is new is added as given; "_inherit" is taken from the override when it sets it.
    """
    merged: dict[str, Any] = {sec: (dict(rules) if isinstance(rules, Mapping) else rules) for sec, rules in base.items()}
    for section, rules in (overrides or {}).items():
        if not isinstance(rules, Mapping):
            raise ValueError(f"filter rules section {section!r} must be a mapping of rule -> arguments")
        target = merged.setdefault(section, {})
        for rule, args in rules.items():
            if rule == INHERIT_KEY or args is None:
                target[rule] = args
            elif isinstance(args, Mapping):
                prev = target.get(rule)
                target[rule] = {**(prev if isinstance(prev, Mapping) else {}), **args}
            else:
                raise ValueError(f"filter rule {section}.{rule}: arguments must be a mapping or null, got {args!r}")
    return merged


@dataclass(frozen=True)
class RuleSpec:
    """What one rule (or one side of a two-sided rule) compares: `signal op threshold` fails."""

    rule: str
    signal: str
    op: str
    threshold: float


class _Probe(dict):
    """A signals row that answers every key with one value and remembers which key was read."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.read: list[str] = []

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> float:
        self.read.append(key)
        return self.value


def rule_specs(rule: Rule) -> list[RuleSpec]:
    """The signal column, direction and threshold of a rule, found by asking the rule itself.

    Why probe instead of a second declaration per class: the threshold sweep must compare exactly
    what `evaluate` compares; a value far below every threshold fails the "min" side, one far above
    fails the "max" side, and the probe records which signal each side read.
    """
    specs: list[RuleSpec] = []
    for value in (-1e300, 1e300):
        probe = _Probe(value)
        failure = rule.evaluate(probe)
        if failure is not None and probe.read:
            specs.append(RuleSpec(failure.rule, probe.read[-1], failure.op, failure.threshold))
    return specs
