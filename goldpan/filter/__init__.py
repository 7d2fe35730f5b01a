"""Heuristic quality filtering: signals computed once (`signals`), decisions as data (`rules`).

Plain Python (no Dagster): the filter asset calls `compute_signal_batch` to fill `doc_signals`,
then `decide_batch` with a `RuleSet` to fill `rejections`. Changing a threshold means re-running
only the second step. The rules are one table (`ruletable.RULE_TABLE`), their per-language defaults
`defaults`, and one evaluator (`rules`).
"""

from goldpan.filter.defaults import DATATROVE_RULES_CONFIG, MULTILINGUAL_RULES_CONFIG
from goldpan.filter.rules import (
    DEFAULT_RULES_CONFIG,
    Failure,
    Rule,
    RuleSet,
    build_rules,
    decide_batch,
    merge_rules_config,
    ruleset_from_section,
)
from goldpan.filter.ruletable import RULE_TABLE, RULES, RuleSpec, recipe_keys, rule_names
from goldpan.filter.signals import (
    SIGNAL_COLUMNS,
    SIGNAL_NAMES,
    SIGNALS_VERSION,
    compute_signal_batch,
    compute_signals,
    signals_schema,
)

__all__ = [
    "DATATROVE_RULES_CONFIG",
    "DEFAULT_RULES_CONFIG",
    "MULTILINGUAL_RULES_CONFIG",
    "RULES",
    "RULE_TABLE",
    "SIGNALS_VERSION",
    "SIGNAL_COLUMNS",
    "SIGNAL_NAMES",
    "Failure",
    "Rule",
    "RuleSet",
    "RuleSpec",
    "build_rules",
    "compute_signal_batch",
    "compute_signals",
    "decide_batch",
    "merge_rules_config",
    "recipe_keys",
    "rule_names",
    "ruleset_from_section",
    "signals_schema",
]
