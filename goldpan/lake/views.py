"""The stage contract: the order of the stages, what each stage's input is (the kept rows of the stage
before), the current text of a document, and the funnel that checks input = kept + rejected + errored
for every stage and batch, by ids.

It lives here, below every stage, because the stages themselves (mix, release, classify), the gate
and the reports all read it; `lineage/` only reports on it. Each stage's outcomes are read from
its own table joined on the linking id. `missing` counts input rows with no outcome (a row the stage
lost) and `orphans` counts outcome rows with no input (a row it invented); both must be zero. Input
is counted by distinct id and outcomes by row, so an id with two outcome rows unbalances the stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from goldpan.lake.schemas import REJECTIONS

#: The text a document carries after dedup: paragraph dedup may have removed boilerplate paragraphs
#: (`dedup_clusters.dedup_text`), else the extracted text. Every stage after dedup reads this.
CURRENT_TEXT_SQL = "COALESCE(c.dedup_text, d.text)"


#: The two tables of rejection rows, one writer each: `rejections` (the filter's rules, asset
#: `rejections`) and `quality_decisions` (the classify keep rule, asset `quality_decisions`). Both have
#: the `REJECTIONS` schema; `stage` says which one a row came from.
REJECTION_TABLES = ("rejections", "quality_decisions")



def all_rejections_sql(present: Iterable[str]) -> str:
    """A relation over the rejection rows of both tables, for readers that report on the filter and the
    classify decisions together; `present` names the views of the connection (a lake written before
    the classify stage ran has no `quality_decisions` yet)."""
    have = set(present)
    parts = [f"SELECT * FROM {t}" for t in REJECTION_TABLES if t in have]
    if not parts:
        cols = ", ".join(f"NULL::{'DOUBLE' if REJECTIONS.field(n).type == pa.float64() else 'VARCHAR'} AS {n}"
                         for n in REJECTIONS.names)
        parts = [f"SELECT {cols} WHERE false"]
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def current_text(dedup_alias: str = "c", doc_alias: str = "d") -> str:
    """`CURRENT_TEXT_SQL` for other table aliases (`dedup_clusters` as `dedup_alias`, `documents` as `doc_alias`)."""
    return f"COALESCE({dedup_alias}.dedup_text, {doc_alias}.text)"

#: What each per-document stage reads: the table of the stage before it, and the predicate of the rows
#: that stage kept. The funnel below and the stages' own input queries are both built from it, so the
#: input a stage reads and the input the funnel counts cannot drift apart.
KEPT_INPUT: dict[str, tuple[str, str]] = {
    "extract": ("pages", "status = 'kept'"),
    "dedup": ("documents", "status = 'kept'"),
    "filter": ("dedup_clusters", "status = 'kept'"),
}


def kept_input(stage: str, alias: str | None = None) -> tuple[str, str]:
    """(table, predicate) of `stage`'s input, the predicate qualified by the table's `alias` if given."""
    table, predicate = KEPT_INPUT[stage]
    return table, f"{alias}.{predicate}" if alias else predicate


# Each stage: (name, input relation, outcome relation, join key). Relations are SQL over the lake
# views; every outcome relation exposes (batch_id, <key>, status).
STAGES: list[tuple[str, str, str, str]] = [
    (
        "crawl",
        "SELECT batch_id, page_id FROM pages",
        "SELECT batch_id, page_id, status FROM pages",
        "page_id",
    ),
    (
        "extract",
        "SELECT batch_id, page_id FROM {} WHERE {}".format(*kept_input("extract")),
        "SELECT batch_id, page_id, status FROM documents",
        "page_id",
    ),
    (
        "dedup",
        "SELECT batch_id, doc_id FROM {} WHERE {}".format(*kept_input("dedup")),
        "SELECT batch_id, doc_id, status FROM dedup_clusters",
        "doc_id",
    ),
    (
        "filter",
        "SELECT batch_id, doc_id FROM {} WHERE {}".format(*kept_input("filter")),
        """SELECT s.batch_id, s.doc_id,
                  CASE WHEN s.status = 'error' THEN 'error'
                       WHEN r.doc_id IS NOT NULL THEN 'rejected' ELSE 'kept' END AS status
           FROM doc_signals s
           LEFT JOIN (SELECT DISTINCT doc_id FROM rejections WHERE stage = 'filter') r USING (doc_id)""",
        "doc_id",
    ),
    (
        # The classify stage (goldpan.classify) scores every document with signals; its outcome here is
        # restricted to the documents the filter kept, and 'rejected' means a quality keep-rule row.
        "classify",
        """SELECT s.batch_id, s.doc_id FROM doc_signals s
           WHERE s.status = 'kept'
             AND s.doc_id NOT IN (SELECT doc_id FROM rejections WHERE stage = 'filter')""",
        """SELECT q.batch_id, q.doc_id,
                  CASE WHEN q.status = 'error' THEN 'error'
                       WHEN r.doc_id IS NOT NULL THEN 'rejected' ELSE 'kept' END AS status
           FROM doc_scores q
           LEFT JOIN (SELECT DISTINCT doc_id FROM quality_decisions) r USING (doc_id)
           WHERE q.doc_id NOT IN (SELECT doc_id FROM rejections WHERE stage = 'filter')""",
        "doc_id",
    ),
    (
        "mix",
        """SELECT s.batch_id, s.doc_id FROM doc_signals s
           WHERE s.status = 'kept'
             AND s.doc_id NOT IN (SELECT doc_id FROM rejections WHERE stage = 'filter')
             AND s.doc_id NOT IN (SELECT doc_id FROM quality_decisions)""",
        ("SELECT batch_id, doc_id, status FROM mix_decisions WHERE origin IS DISTINCT FROM 'curated' "
         "AND origin IS DISTINCT FROM 'synthetic'"),
        "doc_id",
    ),
    (
        # Curated corpora enter at the mix: every snapshotted record gets exactly one decision.
        "curated",
        "SELECT batch_id, doc_id FROM curated_documents",
        "SELECT batch_id, doc_id, status FROM mix_decisions WHERE origin = 'curated'",
        "doc_id",
    ),
    (
        # Model outputs the guard kept (goldpan.synthesize) enter at the mix like curated records.
        "synthetic",
        "SELECT batch_id, doc_id FROM synthetic_documents WHERE status = 'kept'",
        "SELECT batch_id, doc_id, status FROM mix_decisions WHERE origin = 'synthetic'",
        "doc_id",
    ),
    (
        "candidate",
        "SELECT batch_id, doc_id FROM mix_decisions WHERE status = 'kept'",
        "SELECT batch_id, doc_id, 'kept' AS status FROM corpus_candidate",
        "doc_id",
    ),
]

FUNNEL_COLUMNS = ["stage", "batch_id", "input", "kept", "rejected", "errored", "missing", "orphans"]


def stage_sql(stage: str) -> tuple[str, str, str]:
    for name, inp, out, key in STAGES:
        if name == stage:
            return inp, out, key
    raise KeyError(stage)


def funnel_sql(stages: list[str] | None = None) -> str:
    parts = []
    for name, inp, out, key in STAGES:
        if stages is not None and name not in stages:
            continue
        parts.append(
            f"""
            SELECT '{name}' AS stage, COALESCE(i.batch_id, o.batch_id) AS batch_id,
                   count(DISTINCT i.{key}) AS input,
                   count(*) FILTER (WHERE i.{key} IS NOT NULL AND o.status = 'kept') AS kept,
                   count(*) FILTER (WHERE i.{key} IS NOT NULL AND o.status = 'rejected') AS rejected,
                   count(*) FILTER (WHERE i.{key} IS NOT NULL AND o.status = 'error') AS errored,
                   count(*) FILTER (WHERE i.{key} IS NOT NULL AND o.{key} IS NULL) AS missing,
                   count(*) FILTER (WHERE i.{key} IS NULL) AS orphans
            FROM ({inp}) i FULL OUTER JOIN ({out}) o ON i.{key} = o.{key}
            GROUP BY ALL"""
        )
    order = ", ".join(f"'{n}'" for n, *_ in STAGES)
    return (
        "SELECT * FROM (" + " UNION ALL ".join(parts) + f") ORDER BY list_position([{order}], stage), batch_id"
    )


@dataclass(frozen=True)
class FunnelRow:
    stage: str
    batch_id: str
    input: int
    kept: int
    rejected: int
    errored: int
    missing: int
    orphans: int

    @property
    def balanced(self) -> bool:
        return self.missing == 0 and self.orphans == 0 and self.input == self.kept + self.rejected + self.errored


def required_tables() -> set[str]:
    return {"pages", "documents", "dedup_clusters", "doc_signals", "doc_scores", "rejections", "quality_decisions",
            "mix_decisions",
            "corpus_candidate", "curated_documents", "synthetic_documents"}


def _present(con) -> set[str]:
    """The lake views of `con`; a rejection table nobody wrote is shown empty (no rejections).

    A stage exists in the funnel when its outcome table does (`doc_scores` for classify): a lake whose
    batches never ran the classify keep rule has no `quality_decisions`, and its mix input is then the
    filter's kept rows."""
    present = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() UNION SELECT table_name FROM duckdb_tables()").fetchall()}
    for table in REJECTION_TABLES:
        if table not in present:
            con.register(table, REJECTIONS.empty_table())
            present.add(table)
    return present


def compute_funnel(con, stages: list[str] | None = None) -> list[FunnelRow]:
    """Funnel rows for the stages whose tables exist in `con` (a DuckDB connection with lake views)."""
    present = _present(con)
    usable = []
    for name, inp, out, _ in STAGES:
        if stages is not None and name not in stages:
            continue
        needed = {t for t in required_tables() if t in inp or t in out}
        if needed <= present:
            usable.append(name)
    if not usable:
        return []
    return [FunnelRow(*r) for r in con.sql(funnel_sql(usable)).fetchall()]


def rejection_counts(con) -> list[tuple[str, str, int]]:
    """(stage, rule, documents) for every rule that rejected something, across all stages."""
    present = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views()").fetchall()}
    parts = []
    if "pages" in present:
        parts.append("SELECT 'crawl' AS stage, reason AS rule, count(*) AS n FROM pages WHERE status <> 'kept' GROUP BY ALL")
    if "documents" in present:
        parts.append("SELECT 'extract', rule, count(*) FROM documents WHERE status <> 'kept' GROUP BY ALL")
    if "dedup_clusters" in present:
        parts.append("SELECT 'dedup', rule, count(*) FROM dedup_clusters WHERE status <> 'kept' GROUP BY ALL")
    if "doc_signals" in present:
        parts.append("SELECT 'filter', 'signal_error', count(*) FROM doc_signals WHERE status = 'error' HAVING count(*) > 0")
    for table in REJECTION_TABLES:
        if table in present:
            parts.append(f"SELECT stage, rule, count(DISTINCT doc_id) FROM {table} GROUP BY ALL")
    if "mix_decisions" in present:
        parts.append("SELECT 'mix', rule, count(*) FROM mix_decisions WHERE status <> 'kept' GROUP BY ALL")
    if not parts:
        return []
    return con.sql(" UNION ALL ".join(parts) + " ORDER BY 1, 3 DESC, 2").fetchall()


# Tokens through the funnel: every crawled document has a token count from extraction
# (documents.n_tokens: words + punctuation, spaCy for space-separated languages, characters or
# jieba for Chinese), whereas BPE counts (doc_tokens) exist only for documents that reached the mix.
# Measuring every stage with the extraction count is what shows where tokens are lost; crawl (no
# text yet) and curated corpora (no documents row) have no token figure.
TOKEN_UNIT = "tokens (words + punctuation, as extracted)"
_NO_TOKENS = ("crawl", "curated")


@dataclass(frozen=True)
class TokenRow:
    stage: str
    batch_id: str
    tokens_in: int
    tokens_kept: int

    @property
    def tokens_lost(self) -> int:
        return self.tokens_in - self.tokens_kept


def token_funnel(con, stages: list[str] | None = None) -> list[TokenRow]:
    """(stage, batch) -> tokens of the stage's input and of what it kept, for the stages with text."""
    present = _present(con)
    if "documents" not in present:
        return []
    parts = []
    for name, inp, out, key in STAGES:
        if name in _NO_TOKENS or (stages is not None and name not in stages):
            continue
        if not {t for t in required_tables() if t in inp or t in out} <= present:
            continue
        parts.append(
            f"""
            SELECT '{name}' AS stage, i.batch_id,
                   coalesce(sum(t.n_tokens), 0) AS tokens_in,
                   coalesce(sum(t.n_tokens) FILTER (WHERE o.status = 'kept'), 0) AS tokens_kept
            FROM (SELECT DISTINCT * FROM ({inp})) i
            LEFT JOIN (SELECT {key}, any_value(status) AS status FROM ({out}) GROUP BY {key}) o USING ({key})
            LEFT JOIN (SELECT {key}, max(n_tokens) AS n_tokens FROM documents GROUP BY {key}) t USING ({key})
            GROUP BY ALL"""
        )
    if not parts:
        return []
    order = ", ".join(f"'{n}'" for n, *_ in STAGES)
    sql = "SELECT * FROM (" + " UNION ALL ".join(parts) + f") ORDER BY list_position([{order}], stage), batch_id"
    return [TokenRow(s, b, int(i), int(k)) for s, b, i, k in con.sql(sql).fetchall()]
