"""Arrow schemas of every lake table.

One place defines them so that the writer, the quality checks and the lineage queries agree.
Ids link each row to its upstream rows (batch_id -> page_id -> doc_id), which is what lets
`goldpan trace` walk a corpus document back to the fetch it came from.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

# Per-row outcome vocabulary shared by every stage: input = kept + rejected + errored.
KEPT, REJECTED, ERROR = "kept", "rejected", "error"

PAGES = pa.schema(
    [
        ("page_id", pa.string()),
        ("batch_id", pa.string()),
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("host", pa.string()),
        ("depth", pa.int32()),
        ("discovered_from", pa.string()),
        ("fetched_at", TS),
        ("status", pa.string()),  # kept | rejected | error
        ("reason", pa.string()),  # why not kept, e.g. http_404, content_type, timeout
        ("http_status", pa.int32()),
        ("content_type", pa.string()),
        ("charset_declared", pa.string()),
        ("headers_json", pa.string()),
        ("content", pa.large_binary()),
        ("content_sha1", pa.string()),
        ("content_bytes", pa.int64()),
        ("truncated", pa.bool_()),
        ("elapsed_ms", pa.float64()),
        ("source", pa.string()),
    ]
)

DOCUMENTS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("page_id", pa.string()),
        ("batch_id", pa.string()),
        ("url", pa.string()),
        ("host", pa.string()),
        ("fetched_at", TS),
        ("status", pa.string()),
        ("rule", pa.string()),
        ("value", pa.float64()),
        ("threshold", pa.float64()),
        ("detail", pa.string()),
        ("title", pa.string()),
        ("text", pa.large_string()),
        ("lang", pa.string()),
        ("lang_score", pa.float64()),
        ("n_chars", pa.int64()),
        ("n_words", pa.int64()),
        ("n_sentences", pa.int64()),
        ("n_lines", pa.int64()),
        ("encoding", pa.string()),
        ("encoding_source", pa.string()),
        ("extractor", pa.string()),
        ("extractor_version", pa.string()),
    ]
)

DEDUP_CLUSTERS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("page_id", pa.string()),
        ("batch_id", pa.string()),
        ("url", pa.string()),
        ("text_sha1", pa.string()),
        ("cluster_id", pa.string()),  # doc_id of the cluster's representative
        ("is_representative", pa.bool_()),
        ("status", pa.string()),
        ("rule", pa.string()),  # exact_duplicate | near_duplicate
        ("duplicate_of", pa.string()),
        ("similarity", pa.float64()),
        ("threshold", pa.float64()),
        ("n_shingles", pa.int64()),
        ("minhash_config", pa.string()),  # signatures compare only under the same config
        ("signature", pa.list_(pa.uint32())),
        ("band_keys", pa.list_(pa.int64())),
        # Text after paragraph-level dedup, only when paragraphs were removed (null = documents.text
        # unchanged). Every later stage reads COALESCE(dedup_clusters.dedup_text, documents.text).
        ("dedup_text", pa.large_string()),
    ]
)

REJECTIONS = pa.schema(
    [
        ("batch_id", pa.string()),
        ("stage", pa.string()),
        ("doc_id", pa.string()),
        ("rule", pa.string()),
        ("value", pa.float64()),
        ("op", pa.string()),  # how value compares with threshold when the rule fails: < or >
        ("threshold", pa.float64()),
        ("recipe_id", pa.string()),
    ]
)

MIX_DECISIONS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("batch_id", pa.string()),
        ("status", pa.string()),
        ("rule", pa.string()),
        ("value", pa.float64()),
        ("threshold", pa.float64()),
        ("detail", pa.string()),
        ("lang", pa.string()),
        ("source", pa.string()),
        ("repeat", pa.int32()),
        ("recipe_id", pa.string()),
        ("origin", pa.string()),  # lake | curated (curated corpora are outside the crawl funnel)
        ("domain", pa.string()),  # doc_scores.domain, "general" when unscored
        ("quality_score", pa.float64()),
        ("n_tokens", pa.int64()),
    ]
)

# Curated corpora a recipe lists (JSONL / Parquet / Delta), snapshotted into the lake so a release
# can be rebuilt from lake versions alone. batch_id is "curated-<source name>".
CURATED_DOCUMENTS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("batch_id", pa.string()),
        ("source", pa.string()),
        ("source_path", pa.string()),
        ("source_row", pa.int64()),
        ("url", pa.string()),
        ("host", pa.string()),
        ("title", pa.string()),
        ("text", pa.large_string()),
        ("lang", pa.string()),
        ("lang_score", pa.float64()),
        ("n_chars", pa.int64()),
    ]
)

# BPE tokens per document (contract 7), counted once per (doc_id, text digest) and reused.
DOC_TOKENS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("batch_id", pa.string()),
        ("tokenizer", pa.string()),
        ("text_md5", pa.string()),  # md5 of the text that was counted (COALESCE(dedup_text, text))
        ("n_tokens", pa.int64()),
    ]
)

CORPUS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("page_id", pa.string()),
        ("batch_id", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("text", pa.large_string()),
        ("lang", pa.string()),
        ("source", pa.string()),
        ("domain", pa.string()),
        ("n_words", pa.int64()),
        ("repeat", pa.int32()),
        ("recipe_id", pa.string()),
        ("n_tokens", pa.int64()),
        ("origin", pa.string()),
        ("pii_json", pa.string()),  # {kind: redactions} applied to this document's text, null if none
    ]
)

CORPUS_RELEASES = pa.schema(
    [
        ("attempt_id", pa.string()),
        ("release", pa.string()),
        ("status", pa.string()),  # promoted | refused | unchanged
        ("corpus_version", pa.int64()),
        ("candidate_version", pa.int64()),
        ("recipe_id", pa.string()),
        ("recipe_sha1", pa.string()),
        ("content_sha1", pa.string()),
        ("upstream_versions_json", pa.string()),
        ("gate_json", pa.string()),
        ("n_docs", pa.int64()),
        ("n_words", pa.int64()),
        ("n_tokens", pa.int64()),
        ("stats_json", pa.string()),  # shares vs targets, tokens per source/lang, removals vs previous
        ("run_id", pa.string()),
        ("decided_at", TS),
    ]
)

# Takedown requests (goldpan.audit.takedowns): the audit record, and what crawler and mixer consult.
TAKEDOWNS = pa.schema(
    [
        ("request_id", pa.string()),
        ("kind", pa.string()),  # url | domain | pattern
        ("value", pa.string()),  # normalised URL, lower-case domain, or shell-style URL glob
        ("reason", pa.string()),
        ("requested_by", pa.string()),
        ("requested_at", TS),
        ("vacuum", pa.bool_()),  # also physically remove older Delta files that held the rows
        ("rows_deleted_json", pa.string()),  # {table: rows deleted} when the request was applied
    ]
)

TABLES: dict[str, pa.Schema] = {
    "pages": PAGES,
    "documents": DOCUMENTS,
    "dedup_clusters": DEDUP_CLUSTERS,
    "rejections": REJECTIONS,
    "mix_decisions": MIX_DECISIONS,
    "curated_documents": CURATED_DOCUMENTS,
    "doc_tokens": DOC_TOKENS,
    "corpus_candidate": CORPUS,
    "training_corpus": CORPUS,
    "corpus_releases": CORPUS_RELEASES,
    "takedowns": TAKEDOWNS,
}
