"""Filter decisions as data: one evaluator compares stored signals with the thresholds of the rule table.

Why rules are separate from signals: a threshold change (or a new per-language recipe) must be a cheap
re-evaluation over the `doc_signals` table, and every rejection must say which rule, which value and
which threshold decided it. The rules themselves are rows of `goldpan.filter.ruletable.RULE_TABLE`;
a `Rule` here is one row with the threshold a recipe section gave it.

Semantics mirror datatrove: a minimum ("<") fails when value < threshold, a maximum (">") when
value > threshold, so a value equal to the threshold passes. Unlike datatrove, a threshold of 0 is a
real threshold; to disable a rule, set its entry to null in a section.

A signal that is null (e.g. `stop_words_count` for a language without a stop-word list) cannot be
judged, so the rule passes; a signal *missing* from the row is a programming or version error and raises.

Views: in `prose` view (multilingual mode) a rule reads the `prose_` column of its signal, computed over
the prose lines only; in `full` view (datatrove mode) the column itself. A page whose code share
reaches `code_min_share` is judged by the `code` section over the full text instead of its language's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldpan.filter.defaults import CODE_SECTION_NAME, DEFAULT_RULES_CONFIG, MODE_CONFIGS
from goldpan.filter.ruletable import GREATER, LESS, OPTION_ARGS, RECIPE_KEYS, RULES, RuleSpec, recipe_keys
from goldpan.filter.signals import PROSE_PREFIX, STATUS_ERROR, VIEW_SIGNALS
from goldpan.filter.stopwords import lang_base

__all__ = [
    "DEFAULT_RULES_CONFIG", "GREATER", "INHERIT_KEY", "LESS", "RULES", "Failure", "Rule", "RuleSet",
    "RuleSpec", "build_rules", "decide_batch", "merge_rules_config", "ruleset_from_section",
]

INHERIT_KEY = "_inherit"  # in a language section: false = do not start from the default section
VIEWS = ("prose", "full")


@dataclass(frozen=True)
class Failure:
    """One failed rule: `value op threshold` is true (e.g. 37 < 50), decided by `section`'s threshold."""

    rule: str
    value: float
    op: str
    threshold: float
    section: str = field(default="default", compare=False)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table with its threshold, reading one signal column."""

    spec: RuleSpec
    threshold: float
    column: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def op(self) -> str:
        return self.spec.op

    def evaluate(self, signals: Mapping[str, Any], section: str = "default") -> Failure | None:
        if self.column not in signals:
            raise ValueError(f"rule {self.name!r} needs signal {self.column!r}, which is missing from the signals row")
        value = signals[self.column]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        v = float(value)
        failed = v < self.threshold if self.spec.op == LESS else v > self.threshold
        return Failure(self.name, v, self.spec.op, self.threshold, section) if failed else None


def _check_number(rule: str, arg: str, value: Any, upper: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"rule {rule!r}: {arg} must be a number, got {value!r}")
    if value < 0 or (upper is not None and value > upper):
        bound = f"[0, {upper}]" if upper is not None else ">= 0"
        raise ValueError(f"rule {rule!r}: {arg} must be in {bound}, got {value!r}")
    return float(value)


def _nearest(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(str(key), recipe_keys(), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def build_rules(key: str, args: Mapping[str, Any] | None, view: str = "full") -> list[Rule]:
    """The rules of one recipe entry (two for `gopher_mean_word_length`); ValueError naming the rule."""
    specs = RECIPE_KEYS.get(key) if isinstance(key, str) else None
    if specs is None:
        raise ValueError(f"unknown rule {key!r}{_nearest(key)}; known rules: {', '.join(recipe_keys())}")
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise ValueError(f"rule {key!r}: arguments must be a mapping, got {type(args).__name__}")  # noqa: TRY004
    allowed = {s.arg for s in specs if s.arg} | OPTION_ARGS[key]
    unknown = set(args) - allowed
    if unknown:
        raise ValueError(f"rule {key!r}: unknown argument(s) {sorted(unknown)}; expected {sorted(allowed)}")
    strict = args.get("filter_no_terminal_punct", False)
    if not isinstance(strict, bool):
        raise ValueError(f"rule {key!r}: filter_no_terminal_punct must be true or false")  # noqa: TRY004
    rules: list[Rule] = []
    for spec in specs:
        if spec.arg is None:
            threshold = spec.default
        elif spec.arg in args and args[spec.arg] is not None:
            threshold = _check_number(key, spec.arg, args[spec.arg], spec.upper)
        elif len(specs) > 1:
            continue  # a two-sided rule may check one side only
        else:
            threshold = spec.default
        column = spec.strict_signal if (strict and spec.strict_signal) else spec.signal
        if view == "prose" and column in VIEW_SIGNALS:
            column = PROSE_PREFIX + column
        rules.append(Rule(spec, threshold, column))
    if not rules:
        raise ValueError(f"rule {key!r}: set {' or '.join(s.arg for s in specs if s.arg)}")
    lo = next((r.threshold for r in rules if r.op == LESS), None)
    hi = next((r.threshold for r in rules if r.op == GREATER), None)
    if len(specs) > 1 and lo is not None and hi is not None and lo > hi:
        args_lo, args_hi = (s.arg for s in specs)
        raise ValueError(f"rule {key!r}: {args_lo} {args[args_lo]} > {args_hi} {args[args_hi]}")
    return rules


def _resolve_sections(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each section's entries after inheriting from `default` (unless `_inherit: false`)."""
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
        merged: dict[str, Any] = copy.deepcopy(resolved["default"]) if body.get(INHERIT_KEY, True) else {}
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
    return resolved


@dataclass
class RuleSet:
    """Rules per section (language, `default`, `code`), built from a recipe mapping."""

    sections: dict[str, list[Rule]]
    config: dict[str, Any] = field(default_factory=dict)
    view: str = "full"
    code_min_share: float | None = None

    @classmethod
    def from_config(
        cls, cfg: Mapping[str, Any], view: str = "full", code_min_share: float | None = None
    ) -> RuleSet:
        """Build and validate every section now, so a bad recipe fails before any document is judged.

        `cfg` = {"default": {recipe_key: {arg: value}}, "<lang>": {...}, "code": {...}}. A section
        starts from `default` (unless it sets "_inherit": false); an entry there updates that rule's
        arguments, a null entry removes the rule, a new key adds one.
        """
        if view not in VIEWS:
            raise ValueError(f"rules view must be one of {VIEWS}, got {view!r}")
        sections: dict[str, list[Rule]] = {}
        for section, entries in _resolve_sections(cfg).items():
            sec_view = "full" if section == CODE_SECTION_NAME else view
            rules: list[Rule] = []
            for key, args in entries.items():
                try:
                    rules.extend(build_rules(key, args, sec_view))
                except ValueError as exc:
                    raise ValueError(f"rules config section {section!r}: {exc}") from None
            sections[section] = rules
        return cls(sections=sections, config=copy.deepcopy(dict(cfg)), view=view, code_min_share=code_min_share)

    @classmethod
    def default(cls) -> RuleSet:
        """The datatrove-mode rules (FineWeb's English values, goldpan's Chinese section), full text."""
        return cls.from_config(MODE_CONFIGS["datatrove"])

    def section_for(self, lang: str | None, signals: Mapping[str, Any] | None = None) -> str:
        """The section that judges a document: `code` for a mostly-code page, else its language's."""
        if (
            signals is not None
            and self.code_min_share is not None
            and CODE_SECTION_NAME in self.sections
            and (signals.get("code_char_frac") or 0.0) >= self.code_min_share
        ):
            return CODE_SECTION_NAME
        base = lang_base(lang)
        return base if base and base in self.sections and base != CODE_SECTION_NAME else "default"

    def rules_for(self, lang: str | None, signals: Mapping[str, Any] | None = None) -> list[Rule]:
        """The rules that judge a document of `lang` ('zh-Hant' uses 'zh'), with these signals."""
        return self.sections.get(self.section_for(lang, signals), [])

    def evaluate(self, doc_id: str | None, lang: str | None, signals: Mapping[str, Any]) -> list[Failure]:
        """Every failed rule (not just the first, unlike datatrove) so each reason is recorded."""
        section = self.section_for(lang, signals)
        try:
            return [f for f in (r.evaluate(signals, section) for r in self.sections.get(section, [])) if f]
        except ValueError as exc:
            raise ValueError(f"doc {doc_id!r}: {exc}") from None

    def fingerprint(self) -> str:
        """sha1 of the canonical recipe JSON and mode: identifies the thresholds a decision was made with."""
        blob = json.dumps([self.config, self.view, self.code_min_share], sort_keys=True, separators=(",", ":"),
                          default=str)
        return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def merge_rules_config(base: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Apply a recipe's rule settings on top of `base` (a mode's defaults).

    Why: a recipe that changes one threshold must not silently drop every other rule. Within a
    section, a rule's arguments are updated key by key; `null` removes the rule; a section that
    is new is added as given; "_inherit" is taken from the override when it sets it.
    """
    merged: dict[str, Any] = {sec: (dict(rules) if isinstance(rules, Mapping) else rules) for sec, rules in base.items()}
    for section, rules in (overrides or {}).items():
        if not isinstance(rules, Mapping):
            raise ValueError(f"filter rules section {section!r} must be a mapping of rule -> arguments")  # noqa: TRY004
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


def ruleset_from_section(section: Any) -> RuleSet:
    """The RuleSet a recipe's `filter` section describes (mode defaults + its overrides): the one
    conversion used by the filter asset, `sweep`, `trace` and `why`."""
    mode = getattr(section, "mode", "multilingual")
    rules = getattr(section, "rules", {}) or {}
    view = "prose" if mode == "multilingual" else "full"
    share = getattr(section, "code_page_min_share", None) if mode == "multilingual" else None
    return RuleSet.from_config(merge_rules_config(MODE_CONFIGS[mode], rules), view=view, code_min_share=share)


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


def describe(rule: Rule) -> dict[str, Any]:
    """One rule as the table row `why`/`trace` show: name, signal column, comparison and threshold."""
    return {"rule": rule.name, "family": rule.spec.family, "signal": rule.column, "op": rule.op,
            "threshold": rule.threshold, "about": rule.spec.doc}
