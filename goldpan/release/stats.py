"""Release statistics: what a corpus version contains and how it differs from the previous release.

Computed once per gate attempt by streaming aggregates in DuckDB (no text in memory, except the
contamination re-scan, which streams the candidate's text batch by batch). The gate compares them
with the recipe's targets and with the previous promoted release; the attempt row stores them so the
next release has something to compare with and the audit report can read tokens and removals.
"""

from __future__ import annotations

import json
from collections import Counter

from goldpan.lake import Lake
from goldpan.lake.views import all_rejections_sql, compute_funnel

RATE_STAGES = ("extract", "dedup", "filter", "classify")  # data-quality rules whose rates should stay stable

REMOVAL_SQL = """
WITH prev AS (SELECT doc_id, any_value(url) AS url FROM training_corpus GROUP BY doc_id),
cur AS (SELECT DISTINCT doc_id FROM corpus_candidate),
gone AS (SELECT doc_id, url FROM prev WHERE doc_id NOT IN (SELECT doc_id FROM cur))
SELECT COALESCE(
         (SELECT any_value(rule) FROM mix_decisions m WHERE m.doc_id = g.doc_id AND m.status <> 'kept'),
         (SELECT any_value(rule) FROM {rejections} r WHERE r.doc_id = g.doc_id),
         (SELECT any_value(rule) FROM dedup_clusters c WHERE c.doc_id = g.doc_id AND c.status <> 'kept'),
         (SELECT any_value(rule) FROM documents d WHERE d.doc_id = g.doc_id AND d.status <> 'kept'),
         'no_longer_in_input') AS reason, g.url
FROM gone g ORDER BY 1, 2
"""


def previous_release(history: list[dict]) -> dict | None:
    promoted = [r for r in history if r["status"] == "promoted"]
    return promoted[-1] if promoted else None


def compute_stats(lake: Lake, candidate_version: int, previous: dict | None, decontam=None,
                  budget_by: str = "source", snapshot=None) -> dict:
    """Release statistics of one candidate version, read from `snapshot` (the state the candidate was
    built from) when given, so the rates describe what was released and not what another run wrote."""
    versions = {"corpus_candidate": candidate_version}
    with lake.connect(versions=versions, snapshot=snapshot) as con:
        tokens, docs = con.sql(
            "SELECT coalesce(sum(n_tokens * repeat), 0), count(*) FROM corpus_candidate").fetchall()[0]

        def by(expr: str, join: str = "") -> dict[str, int]:
            rows = con.sql(f"SELECT {expr} AS k, coalesce(sum(c.n_tokens * c.repeat), 0) FROM corpus_candidate c {join} "
                           "GROUP BY 1 ORDER BY 1").fetchall()
            return {str(k): int(v) for k, v in rows}

        by_source = by("c.source")
        by_lang = by("c.lang")
        by_domain = by("coalesce(m.domain, 'general')", "LEFT JOIN mix_decisions m ON m.doc_id = c.doc_id")
        docs_by_source = dict(con.sql("SELECT source, count(*) FROM corpus_candidate GROUP BY 1").fetchall())
        funnel = compute_funnel(con)
        rule_counts = con.sql(
            "SELECT 'dedup', rule, count(*) FROM dedup_clusters WHERE status = 'rejected' GROUP BY ALL "
            "UNION ALL SELECT 'extract', rule, count(*) FROM documents WHERE status = 'rejected' GROUP BY ALL "
            f"UNION ALL SELECT stage, rule, count(DISTINCT doc_id) FROM {all_rejections_sql(_views(con))} "
            "WHERE stage IN ('filter', 'classify') GROUP BY ALL"
        ).fetchall() if {"dedup_clusters", "documents", "rejections"} <= _views(con) else []
    inputs: Counter[str] = Counter()
    for f in funnel:
        inputs[f.stage] += f.input
    rates = {f"{stage}/{rule}": (n / inputs[stage] if inputs[stage] else 0.0) for stage, rule, n in rule_counts
             if stage in RATE_STAGES}
    dedup_rejected = sum(n for stage, _, n in rule_counts if stage == "dedup")
    stats = {
        "docs": int(docs),
        "tokens": int(tokens),
        "tokens_by_source": by_source,
        "tokens_by_lang": by_lang,
        "tokens_by_domain": by_domain,
        "docs_by_source": {str(k): int(v) for k, v in docs_by_source.items()},
        "share_by_source": _shares(by_source),
        "share_by_lang": _shares(by_lang),
        "share_by_domain": _shares(by_domain),
        "budget_by": budget_by,
        "dup_rate": dedup_rejected / inputs["dedup"] if inputs["dedup"] else 0.0,
        "rule_rates": dict(sorted(rates.items())),
        "contamination_hits": contamination_hits(lake, candidate_version, decontam),
        "previous_release": previous["release"] if previous else None,
        "removed_vs_previous": removed_vs_previous(lake, candidate_version, previous),
    }
    return stats


def _views(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT view_name FROM duckdb_views()").fetchall()}


def _shares(tokens: dict[str, int]) -> dict[str, float]:
    total = sum(tokens.values())
    return {k: (v / total if total else 0.0) for k, v in tokens.items()}


def contamination_hits(lake: Lake, candidate_version: int, decontam) -> int:
    """Candidate documents that still share an n-gram with an eval set (must be zero)."""
    if decontam is None or not decontam:
        return 0
    hits = 0
    for b in lake.iter_batches("SELECT text FROM corpus_candidate", tables=["corpus_candidate"],
                               versions={"corpus_candidate": candidate_version}, batch_size=512):
        hits += sum(1 for t in b.column(0).to_pylist() if decontam.check(t) is not None)
    return hits


def removed_vs_previous(lake: Lake, candidate_version: int, previous: dict | None) -> dict[str, int]:
    """Documents of the previous release missing from this candidate, by the rule that removed them."""
    if previous is None or previous.get("corpus_version") is None:
        return {}
    from goldpan.audit.takedowns import TakedownMatcher

    versions = {"corpus_candidate": candidate_version, "training_corpus": int(previous["corpus_version"])}
    with lake.connect(versions=versions) as con:
        rows = con.sql(REMOVAL_SQL.format(rejections=all_rejections_sql(_views(con)))).fetchall()
    # A takedown applied by `goldpan takedown` deletes the document's rows everywhere, so no stage
    # names it any more: the takedowns table still does.
    matcher = TakedownMatcher.from_lake(lake)
    counts: Counter[str] = Counter()
    for reason, url in rows:
        if reason == "no_longer_in_input" and matcher.match(url) is not None:
            reason = "takedown"
        counts[str(reason)] += 1
    return dict(sorted(counts.items()))


def stats_of(row: dict | None) -> dict:
    if not row or not row.get("stats_json"):
        return {}
    return json.loads(row["stats_json"])
