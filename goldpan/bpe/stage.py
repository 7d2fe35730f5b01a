"""The `doc_tokens` step: BPE tokens of every document the mix can select, counted once per text.

Counting is per-document work on the engine's workers (one tiktoken thread each, the workers are
the parallelism); a document counted before with the same text digest and tokenizer is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from goldpan.bpe.counter import TokenCounter
from goldpan.engine import Engine, worker_cache
from goldpan.engine.pooled import StageRun, run_pooled
from goldpan.engine.slices import LakeQuery
from goldpan.lake import Lake
from goldpan.lake.schemas import CURATED_DOCUMENTS, DOC_TOKENS
from goldpan.lake.views import CURRENT_TEXT_SQL, REJECTION_TABLES, stage_sql

TABLES = ["documents", "dedup_clusters", "doc_signals", *REJECTION_TABLES, "curated_documents",
          "synthetic_documents", "doc_tokens"]


def tokens_input_sql(with_synthetic: bool = False) -> str:
    """Mix-input documents (filter-kept lake documents, curated ones, guard-kept synthetic ones) without a count for their text."""
    filter_kept, _, _ = stage_sql("mix")
    return f"""
    WITH src AS (
      SELECT d.doc_id, d.batch_id, {CURRENT_TEXT_SQL} AS text FROM documents d
      JOIN ({filter_kept}) k ON k.doc_id = d.doc_id LEFT JOIN dedup_clusters c ON c.doc_id = d.doc_id
      UNION ALL SELECT doc_id, batch_id, text FROM curated_documents WHERE text IS NOT NULL
      {"UNION ALL SELECT doc_id, batch_id, text FROM synthetic_documents WHERE status = 'kept'" if with_synthetic else ""}
    )
    SELECT s.doc_id, s.batch_id, md5(s.text) AS text_md5, s.text FROM src s
    WHERE NOT EXISTS (SELECT 1 FROM doc_tokens t WHERE t.doc_id = s.doc_id AND t.text_md5 = md5(s.text)
                      AND t.tokenizer = $tok)
    ORDER BY s.doc_id
    """


@dataclass(frozen=True)
class TokensContext:
    tokenizer: str
    threads: int = 1


def tokens_batch(docs: pa.RecordBatch, ctx: TokensContext) -> pa.RecordBatch:
    """Engine batch function: (doc_id, batch_id, text_md5, text) -> `doc_tokens` rows, same order."""
    counter = worker_cache(("tokens", ctx.tokenizer, ctx.threads), lambda: TokenCounter(ctx.tokenizer, threads=ctx.threads))
    n = counter.count_batch(docs.column("text").to_pylist())
    return pa.RecordBatch.from_arrays(
        [docs.column("doc_id"), docs.column("batch_id"), pa.array([counter.name] * len(n), pa.string()),
         docs.column("text_md5"), pa.array(n, pa.int64())],
        schema=DOC_TOKENS,
    )


def run(
    lake: Lake,
    tokenizer: str,
    *,
    engine: Engine,
    commit_metadata: Mapping[str, str] | None = None,
    batch_rows: int = 512,
) -> StageRun:
    """Count and append the tokens of every mix-input document whose current text has no count yet.

    `extra["tokens"]` holds the tokens counted now."""
    lake.ensure("doc_tokens", DOC_TOKENS)
    lake.ensure("curated_documents", CURATED_DOCUMENTS)
    synthetic = lake.exists("synthetic_documents")
    tables = TABLES if synthetic else [t for t in TABLES if t != "synthetic_documents"]
    # Every table of the query holds doc_id and is a union source or joined (or anti-joined) on it:
    # each slice reads only its own documents' rows (not the whole union once per slice).
    query = LakeQuery(tokens_input_sql(synthetic), {"tok": tokenizer}, tables, batch_rows=batch_rows,
                      hash_tables=tuple(tables), tasks_per_worker=1)  # light: tiktoken in Rust
    # One tiktoken thread per worker: the engine's worker count is the stage's parallelism, so a run
    # configured for one worker uses one core for its per-document work, as every other stage does.
    ctx = TokensContext(tokenizer)
    result = run_pooled(lake, engine, table="doc_tokens", schema=DOC_TOKENS, fn=tokens_batch, context=ctx,
                        query=query, predicate=None, mode="append", commit_metadata=commit_metadata,
                        status_column=None, sum_columns=("n_tokens",))
    result.extra["tokens"] = int(result.extra["sums"]["n_tokens"])
    return result
