"""Expectation suites, one function per validated frame, built from the recipe and the lake schemas.

GX is imported inside functions: its import takes seconds and must not slow code-location loading.
Frames hold ids, statuses, scores and aggregates, never document text, so memory stays bounded by
the number of rows of one batch (stage checks) or of the candidate's id columns.
"""

from __future__ import annotations

from goldpan.lake.schemas import ERROR, KEPT, REJECTED, TABLES
from goldpan.recipe import Recipe

FUNNEL_STAGES = ["crawl", "extract", "dedup", "filter", "mix", "candidate"]
STATUSES = [KEPT, REJECTED, ERROR]


def expected_columns(table: str) -> list[str]:
    """Columns a stage table must have: its schema in goldpan/lake/schemas.py (others add columns)."""
    if table == "doc_signals":
        from goldpan.filter.signals import signals_schema

        return list(signals_schema().names)
    return list(TABLES[table].names)


# Per stage table: the narrow frame validated (SQL over the table, `{where}` filters one batch), and
# the row-level expectations on it. Unique ids are per table (rejections: one row per doc and rule).
STAGE_FRAMES: dict[str, str] = {
    "pages": "SELECT page_id, batch_id, url, status, http_status, content_bytes FROM pages {where}",
    "documents": "SELECT doc_id, page_id, batch_id, status, lang, lang_score, n_chars, n_words FROM documents {where}",
    "dedup_clusters": "SELECT doc_id, page_id, batch_id, status, rule, similarity, threshold FROM dedup_clusters {where}",
    "doc_signals": "SELECT doc_id, batch_id, status FROM doc_signals {where}",
    "rejections": "SELECT batch_id, stage, doc_id, rule, doc_id || '/' || stage || '/' || rule AS key FROM rejections {where}",
    "mix_decisions": "SELECT doc_id, batch_id, status, rule, repeat, quality_score, n_tokens, origin FROM mix_decisions {where}",
    # consent: exactly one signals row per pages row of the batch (pages_row / consent_row flag each side)
    "consent": """SELECT * FROM (
        SELECT coalesce(p.page_id, c.page_id) AS page_id, coalesce(p.batch_id, c.batch_id) AS batch_id,
               p.page_id IS NOT NULL AS pages_row, c.page_id IS NOT NULL AS consent_row,
               c.tdm_reservation, c.robots_status, c.tdmrep_status
        FROM pages p FULL OUTER JOIN consent c ON c.page_id = p.page_id) {where}""",
}
CONSENT_ROBOTS_STATUS = ["parsed", "allow_all", "unreachable", "unknown"]
CONSENT_TDMREP_STATUS = ["rule", "no_rule", "absent", "invalid", "unavailable", "unknown"]
FUNNEL_STAGE_OF = {"pages": "crawl", "documents": "extract", "dedup_clusters": "dedup", "doc_signals": "filter",
                   "mix_decisions": "mix"}


def stage_expectations(table: str, recipe: Recipe) -> list:
    import great_expectations.expectations as gxe

    e: list = []
    id_col = {"pages": "page_id", "rejections": "key", "consent": "page_id"}.get(table, "doc_id")
    e += [gxe.ExpectColumnValuesToNotBeNull(column=id_col), gxe.ExpectColumnValuesToBeUnique(column=id_col),
          gxe.ExpectColumnValuesToNotBeNull(column="batch_id")]
    if table in ("documents", "dedup_clusters"):
        e.append(gxe.ExpectColumnValuesToNotBeNull(column="page_id"))
    if table not in ("rejections", "consent"):
        e.append(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES))
    if table == "consent":
        e += [gxe.ExpectColumnValuesToBeInSet(column="pages_row", value_set=[True]),
              gxe.ExpectColumnValuesToBeInSet(column="consent_row", value_set=[True]),
              gxe.ExpectColumnValuesToBeInSet(column="tdm_reservation", value_set=[0, 1]),
              gxe.ExpectColumnValuesToBeInSet(column="robots_status", value_set=CONSENT_ROBOTS_STATUS),
              gxe.ExpectColumnValuesToBeInSet(column="tdmrep_status", value_set=CONSENT_TDMREP_STATUS)]
    if table == "pages":
        e.append(gxe.ExpectColumnValuesToBeBetween(column="http_status", min_value=100, max_value=599))
        e.append(gxe.ExpectColumnValuesToBeBetween(column="content_bytes", min_value=0))
    if table == "documents":
        e.append(gxe.ExpectColumnValuesToBeBetween(column="lang_score", min_value=0, max_value=1))
        e.append(gxe.ExpectColumnValuesToBeBetween(column="n_chars", min_value=0))
        e.append(gxe.ExpectColumnValuesToBeBetween(column="n_words", min_value=0))
    if table == "dedup_clusters":
        e.append(gxe.ExpectColumnValuesToBeBetween(column="similarity", min_value=0, max_value=1))
    if table == "rejections":
        e.append(gxe.ExpectColumnValuesToNotBeNull(column="rule"))
    if table == "mix_decisions":
        e.append(gxe.ExpectColumnValuesToBeBetween(column="repeat", min_value=0))
        e.append(gxe.ExpectColumnValuesToBeBetween(column="quality_score", min_value=0, max_value=1))
        e.append(gxe.ExpectColumnValuesToBeBetween(column="n_tokens", min_value=0))
        e.append(gxe.ExpectColumnValuesToBeInSet(column="origin", value_set=["lake", "curated", "synthetic"]))
    return e


def schema_expectations(table: str) -> list:
    import great_expectations.expectations as gxe

    return [gxe.ExpectTableColumnsToMatchSet(column_set=expected_columns(table), exact_match=False)]


def candidate_expectations(recipe: Recipe) -> list:
    """Row-level rules on the candidate: ids present and unique, text present, languages of the recipe."""
    import great_expectations.expectations as gxe

    # mix.languages ["*"] takes every language: then there is no set to check against.
    langs = [] if "*" in recipe.mix.languages else [
        gxe.ExpectColumnValuesToBeInSet(column="lang", value_set=list(recipe.mix.languages))]
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=recipe.gate.min_docs),
        gxe.ExpectColumnValuesToNotBeNull(column="doc_id"),
        gxe.ExpectColumnValuesToBeUnique(column="doc_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="batch_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="source"),
        gxe.ExpectColumnValuesToBeBetween(column="text_chars", min_value=1),
        *langs,
        gxe.ExpectColumnValuesToBeBetween(column="repeat", min_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="n_tokens"),
        gxe.ExpectColumnValuesToBeBetween(column="n_tokens", min_value=1),
    ]


def funnel_expectations(stages: list[str] | None = None) -> list:
    """Nothing lost: every stage of every batch balances, with no missing or invented rows."""
    import great_expectations.expectations as gxe

    e = [gxe.ExpectColumnDistinctValuesToContainSet(column="stage", value_set=stages or FUNNEL_STAGES)]
    e += [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=0) for c in ("unbalanced", "missing", "orphans")]
    return e


def metric_expectations(bounds: dict[str, tuple[float | None, float | None]]) -> list:
    """Dataset-level rules: one single-row frame of release metrics, one bound per metric column."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeBetween(column=m, min_value=lo, max_value=hi) for m, (lo, hi) in sorted(bounds.items())]
