"""Heuristic quality filtering: signals computed once (`signals`), decisions as data (`rules`).

Plain Python (no Dagster): the filter asset calls `compute_signal_batch` to fill `doc_signals`,
then `decide_batch` with a `RuleSet` to fill `rejections`. Changing a threshold means re-running
only the second step.
"""

from goldpan.filter.rules import (
    DEFAULT_RULES_CONFIG,
    Failure,
    GopherAlphaWords,
    GopherBulletLines,
    GopherDupLineCharFrac,
    GopherDupLineFrac,
    GopherDupNgram,
    GopherDupParaCharFrac,
    GopherDupParaFrac,
    GopherEllipsisLines,
    GopherEllipsisRatio,
    GopherHashRatio,
    GopherMaxWords,
    GopherMeanWordLength,
    GopherMinWords,
    GopherStopWords,
    GopherTopNgram,
    Rule,
    RuleSet,
    build_rule,
    decide_batch,
)
from goldpan.filter.signals import (
    SIGNAL_COLUMNS,
    SIGNAL_NAMES,
    SIGNALS_VERSION,
    compute_signal_batch,
    compute_signals,
    signals_schema,
)

__all__ = [
    "DEFAULT_RULES_CONFIG",
    "SIGNALS_VERSION",
    "SIGNAL_COLUMNS",
    "SIGNAL_NAMES",
    "Failure",
    "GopherAlphaWords",
    "GopherBulletLines",
    "GopherDupLineCharFrac",
    "GopherDupLineFrac",
    "GopherDupNgram",
    "GopherDupParaCharFrac",
    "GopherDupParaFrac",
    "GopherEllipsisLines",
    "GopherEllipsisRatio",
    "GopherHashRatio",
    "GopherMaxWords",
    "GopherMeanWordLength",
    "GopherMinWords",
    "GopherStopWords",
    "GopherTopNgram",
    "Rule",
    "RuleSet",
    "build_rule",
    "compute_signal_batch",
    "compute_signals",
    "decide_batch",
    "signals_schema",
]
