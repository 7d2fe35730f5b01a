"""Arrow schemas of every lake table.

One place defines them so that the writer, the quality checks and the lineage queries agree.
Ids link each row to its upstream rows (batch_id -> page_id -> doc_id), which is what lets
`goldpan trace` walk a corpus document back to the fetch it came from.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

# Delta Lake has no unsigned integer types (deltalake writes uint32 as int32 and fails on values
# >= 2^31): no schema below may use one. tests/unit/test_schema_extremes.py enforces it.

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
        ("content_sha1", pa.string()),  # unchanged rows (304): the sha1 of the earlier stored content
        ("content_bytes", pa.int64()),
        ("truncated", pa.bool_()),
        ("elapsed_ms", pa.float64()),
        ("source", pa.string()),
        # Consent evidence (issue 25): the policy_files versions of the origin's robots.txt that
        # allowed (or refused) this fetch and of its /.well-known/tdmrep.json; null for WARC records.
        ("robots_version", pa.string()),
        ("tdmrep_version", pa.string()),
        # crawl rows that followed redirects: [{"url": ..., "status": 301}, ..., {"url": final, "status": 200}]
        ("redirect_chain_json", pa.string()),
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
        # Added by the extract stage (issue 4).
        ("extractor_options", pa.string()),  # JSON of the extractor's options
        ("source", pa.string()),  # pages.source: crawl | warc | wet
        ("description", pa.string()),  # <meta name=description>
        ("canonical_url", pa.string()),  # <link rel=canonical>
        ("registered_domain", pa.string()),  # host's registrable domain (bundled PSL snapshot)
        ("encoding_declared", pa.string()),  # first declared charset (codec name), header before meta
        ("encoding_declared_source", pa.string()),  # http-header | html-meta
        ("encoding_detected", pa.string()),  # codec chosen by detection, when detection ran
        ("encoding_mismatch", pa.bool_()),  # a declared charset disagreed with the bytes
        ("lang2", pa.string()),  # strongest other language, line by line
        ("lang2_share", pa.float64()),  # its share of identified characters
        ("lang_mixed", pa.bool_()),  # lang2_share >= recipe extract.mixed_min_share
        ("n_tokens", pa.int64()),  # words + punctuation tokens
        ("n_paragraphs", pa.int64()),  # blocks separated by blank lines
        ("word_segmenter", pa.string()),  # spacy | chars | jieba
        # Which path of the extractor answered (issue 16): a cascade's `goldpan` or `trafilatura`,
        # else the extractor's name; null for plain text and error rows.
        ("extractor_path", pa.string()),
        ("truncated", pa.bool_()),  # the page body was cut at the byte cap (pages.truncated)
    ]
)

# Extra extractions of the same pages for comparison (recipe extract.extractors[1:]); same columns
# as `documents`, keyed by (page_id, extractor id); never read by later stages.
DOCUMENT_VARIANTS = DOCUMENTS

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
        # MinHash minima are uint32 values (0 .. 2^32-1, 0xFFFFFFFF for an empty shingle set), but
        # Delta has no unsigned types: a uint32 column is stored as int32 and a value >= 2^31 fails
        # the write. int64 holds every uint32 value unchanged; readers cast back to uint32.
        ("signature", pa.list_(pa.int64())),
        ("band_keys", pa.list_(pa.int64())),
        # Text after paragraph-level dedup, only when paragraphs were removed (null = documents.text
        # unchanged). Every later stage reads COALESCE(dedup_clusters.dedup_text, documents.text).
        ("dedup_text", pa.large_string()),
        # Added by the dedup stage (issue 6): canonical URL and the older version a newer fetch
        # replaces, rule value (characters left after paragraph dedup), cluster size as of this
        # batch, and what paragraph dedup removed.
        ("canonical_url", pa.string()),
        ("supersedes", pa.string()),
        ("value", pa.float64()),
        ("cluster_size", pa.int64()),
        ("n_paragraphs", pa.int64()),
        ("paragraphs_removed", pa.int64()),
        ("chars_removed", pa.int64()),
        # Issue 18: how a near duplicate matched its neighbour: jaccard | containment.
        ("match", pa.string()),
    ]
)

# Changes a batch made to earlier dedup clusters (goldpan.dedup.clusters.ClusterMerge): a new
# document linked two or more earlier clusters (reason clusters_linked: cluster_id now belongs to
# into_cluster_id), or the representative rule gave an earlier cluster a new representative
# (reason representative_rule). Earlier rows of dedup_clusters are never rewritten; readers resolve
# cluster ids through this table (goldpan.dedup.report, the mixer).
DEDUP_MERGES = pa.schema(
    [
        ("batch_id", pa.string()),
        ("seq", pa.int64()),  # order of the merges within the batch
        ("cluster_id", pa.string()),
        ("into_cluster_id", pa.string()),
        ("old_representative", pa.string()),
        ("new_representative", pa.string()),
        ("new_representative_batch", pa.string()),
        ("via_doc_id", pa.string()),  # the new document whose verified match linked the cluster
        ("linked_to", pa.string()),  # the earlier document it matched
        ("similarity", pa.float64()),
        ("match", pa.string()),  # jaccard | containment
        ("reason", pa.string()),  # clusters_linked | representative_rule
        ("representative_rule", pa.string()),  # oldest | longest | newest
    ]
)

# Incremental dedup index (goldpan.dedup.store): url / sha1 / LSH band key -> document, per batch.
DEDUP_INDEX = pa.schema(
    [
        ("bucket", pa.int32()),  # key & 15: the partition a lookup of this key reads
        ("kind", pa.string()),  # url | sha1 | band | anchor
        ("key", pa.int64()),
        ("doc_id", pa.string()),
        ("cluster_id", pa.string()),
        ("batch_id", pa.string()),
        ("config", pa.string()),  # keys compare only under the same config (minhash config for bands)
    ]
)

# Paragraph dedup counts: distinct documents per paragraph key, per batch.
DEDUP_PARAGRAPHS = pa.schema(
    [
        ("bucket", pa.int32()),
        ("para_key", pa.int64()),
        ("n_docs", pa.int64()),
        ("batch_id", pa.string()),
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

# BPE tokens per document (the unit of every token budget and share), counted once per (doc_id, text digest) and reused.
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

# Crawl frontier (goldpan.crawl.frontier): one row per known normalised URL, the crawler's memory
# between batches (what to fetch next, when, and the validators for a conditional GET).
# state: queued (never fetched) | fetched (2xx or 304) | rejected (a final answer: robots, 4xx,
# content type, redirect trouble) | failed (error, 5xx, 429: retried with backoff) | takedown.
CRAWL_FRONTIER = pa.schema(
    [
        ("url", pa.string()),
        ("host", pa.string()),
        ("depth", pa.int32()),
        ("seq", pa.int64()),  # discovery order: breadth-first order is (depth, seq)
        ("state", pa.string()),
        ("discovered_from", pa.string()),
        ("first_seen_at", TS),  # start of the batch that first found the URL
        ("next_fetch_at", TS),  # null: never (takedown)
        ("last_fetched_at", TS),
        ("last_batch_id", pa.string()),
        ("last_page_id", pa.string()),
        ("last_status", pa.string()),  # kept | rejected | error of the last pages row
        ("last_reason", pa.string()),
        ("last_http_status", pa.int32()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("content_sha1", pa.string()),  # of the last content stored as kept
        ("failure_count", pa.int32()),  # consecutive failures, drives the backoff
        ("fetch_count", pa.int32()),
        ("takedown_request_id", pa.string()),
        ("redirect_to", pa.string()),  # where this URL redirected on its last fetch (next hop)
    ]
)

# One row per batch (crawl or WARC/WET import): where its pages came from and how the run went.
BATCHES = pa.schema(
    [
        ("batch_id", pa.string()),
        ("kind", pa.string()),  # crawl | warc
        ("sources_json", pa.string()),  # crawl: the seeds; warc: the file URIs of the batch
        ("recipe_id", pa.string()),
        ("state", pa.string()),  # running | done
        ("started_at", TS),
        ("finished_at", TS),
        ("stats_json", pa.string()),
    ]
)

# Classify stage (goldpan.classify): one row per document that reached the filter decisions, per batch.
# Scores are signals; the keep decision (`quality_decisions`: rejection rows with stage 'classify', the
# REJECTIONS columns) is a separate cheap step with its own table.
DOC_SCORES = pa.schema(
    [
        ("doc_id", pa.string()),
        ("batch_id", pa.string()),
        ("status", pa.string()),  # kept (scored) | error (no text to score)
        ("reason", pa.string()),
        ("quality_score", pa.float64()),  # P(high quality) in 0..1; null when no quality model was trained
        ("quality_model", pa.string()),  # sha1 of the fastText .bin in <lake>/models/quality/
        ("math_score", pa.float64()),
        ("code_score", pa.float64()),
        ("domain", pa.string()),  # math | code | general (null when no domain model)
        ("domain_model", pa.string()),  # "math:<sha1>,code:<sha1>"
        # Perplexity under the recipe's reference model (synthesize.perplexity, goldpan.synthesize.perplexity_stage),
        # merged in after the classify stage wrote the row; null when not scored (opt-in, sampled).
        ("perplexity", pa.float64()),  # exp(-ppl_logprob)
        ("ppl_logprob", pa.float64()),  # mean natural-log likelihood per token over the first ppl_tokens tokens
        ("ppl_tokens", pa.int32()),
        ("ppl_model", pa.string()),  # model name
        ("ppl_model_sha256", pa.string()),  # sha256 of the weights file (null for a remote model)
    ]
)

#: the perplexity columns of doc_scores (written by the perplexity step, not by the classify stage)
DOC_SCORES_PERPLEXITY = ("perplexity", "ppl_logprob", "ppl_tokens", "ppl_model", "ppl_model_sha256")

# Every classifier training attempt (trained or refused), with its held-out metrics and config.
MODELS = pa.schema(
    [
        ("name", pa.string()),  # quality | math | code
        ("kind", pa.string()),  # quality | domain
        ("round", pa.int32()),  # domain mining round (quality: 1)
        ("status", pa.string()),  # trained | refused
        ("reason", pa.string()),
        ("sha1", pa.string()),
        ("path", pa.string()),
        ("trained_at", TS),
        ("n_train_pos", pa.int64()),
        ("n_train_neg", pa.int64()),
        ("n_heldout_pos", pa.int64()),
        ("n_heldout_neg", pa.int64()),
        ("n_mined", pa.int64()),  # domain: pool documents taken as positives for this round
        ("precision", pa.float64()),
        ("recall", pa.float64()),
        ("f1", pa.float64()),
        ("eval_threshold", pa.float64()),
        ("train_seconds", pa.float64()),
        ("config_json", pa.string()),
        ("sources_json", pa.string()),
        ("recipe_id", pa.string()),
        ("run_id", pa.string()),
    ]
)

# Recipe text per recipe hash (goldpan.audit.recipes): what `goldpan diff` compares between releases.
RECIPE_SNAPSHOTS = pa.schema(
    [
        ("recipe_sha1", pa.string()),
        ("recipe_id", pa.string()),
        ("name", pa.string()),
        ("recipe_json", pa.large_string()),  # Recipe.model_dump() as sorted JSON (env vars expanded)
        ("recorded_at", TS),
        ("run_id", pa.string()),
    ]
)

# Each origin's robots.txt and /.well-known/tdmrep.json, one row per version (goldpan.crawl.policy_files):
# the evidence `pages.robots_version` / `pages.tdmrep_version` point at. A version is the file's
# bytes plus how it was obtained (HTTP status, outcome); a refetch of the same version adds no row.
POLICY_FILES = pa.schema(
    [
        ("version_id", pa.string()),  # sha1 of (origin, path, outcome, body sha1), 20 hex digits
        ("origin", pa.string()),  # scheme://host[:port]
        ("path", pa.string()),  # /robots.txt | /.well-known/tdmrep.json
        ("url", pa.string()),
        ("final_url", pa.string()),  # after redirects
        ("http_status", pa.int32()),
        ("outcome", pa.string()),  # parsed | allow_all:<why> | disallow_all:<why> | absent:<why> | invalid | ...
        ("sha1", pa.string()),  # of the body (null: no body)
        ("text", pa.large_string()),
        ("n_bytes", pa.int64()),
        ("fetched_at", TS),  # first fetch that saw this version
        ("batch_id", pa.string()),  # batch of that first fetch
    ]
)

# Publishers' opt-out signals, one row per pages row (goldpan.consent.stage); signals only, the
# recipe decides (goldpan.consent.decide, applied by the mix). Nulls mean "not declared"; the
# *_status columns say whether a per-origin source was read at all (unknown for WARC records
# unless the recipe lets goldpan fetch them).
CONSENT = pa.schema(
    [
        ("page_id", pa.string()),
        ("batch_id", pa.string()),
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("host", pa.string()),
        ("fetched_at", TS),
        ("source", pa.string()),  # pages.source
        ("http_status", pa.int32()),
        ("content_sha1", pa.string()),
        ("observed", pa.bool_()),  # a response was received (false: robots refusal, network error)
        ("inherited_from", pa.string()),  # unchanged (304 / same sha1): page_id whose HTML signals carry over
        ("robots_version", pa.string()),
        ("robots_status", pa.string()),  # parsed | allow_all | unreachable | unknown
        ("robots_ai_agents", pa.list_(pa.string())),  # AI-training agents checked (recipe list)
        ("robots_ai_disallowed", pa.list_(pa.string())),  # ... of which robots.txt disallows this URL
        ("robots_ai_evidence", pa.string()),  # JSON {agent: deciding rule}
        ("tdmrep_version", pa.string()),
        ("tdmrep_status", pa.string()),  # rule | no_rule | absent | invalid | unavailable | unknown
        ("tdmrep_location", pa.string()),  # the first tdmrep.json rule matching the URL path
        ("tdm_reservation_file", pa.int32()),
        ("tdm_policy_file", pa.string()),
        ("tdm_reservation_header", pa.int32()),  # tdm-reservation HTTP header (0 / 1; invalid = null)
        ("tdm_policy_header", pa.string()),
        ("tdm_reservation_meta", pa.int32()),  # <meta name="tdm-reservation">
        ("tdm_policy_meta", pa.string()),
        ("tdm_reservation", pa.int32()),  # 1 if any source reserves, else 0 if any says 0, else null
        ("tdm_reservation_source", pa.string()),  # tdmrep.json | http-header | html-meta
        ("tdm_policy", pa.string()),
        ("x_robots_tag", pa.list_(pa.string())),  # directives, "agent:directive" when scoped
        ("meta_robots", pa.list_(pa.string())),  # <meta name="robots"> (and agent-named) directives
        ("signals_version", pa.string()),
    ]
)

# Model outputs (goldpan.synthesize), one row per output of a task for a parent (or per failed
# request): kept (passed the guard) | rejected (rule/value/threshold of the first failed guard rule,
# every failure in guard_json) | error (timeout, server_error, empty, length = cut at max tokens, ...).
# cache_key = sha256(model sha, rendered prompt hash, sampling params, seed, parent text hashes): a
# row that holds an answer is reused by any later run with the same key, so a rerun sends no request.
SYNTHETIC_DOCUMENTS = pa.schema(
    [
        ("doc_id", pa.string()),  # "syn-" + first 20 hex of cache_key
        ("batch_id", pa.string()),  # the crawl batch of the parents
        ("task", pa.string()),
        ("kind", pa.string()),  # rewrite | qa | continuation
        ("output_index", pa.int32()),  # 0 .. outputs_per_parent-1
        ("parent_ids", pa.list_(pa.string())),  # documents.doc_id of the parents
        ("parent_urls", pa.list_(pa.string())),  # their URLs: what a takedown matches
        ("parent_text_sha1", pa.list_(pa.string())),  # of the text each parent gave the prompt
        ("status", pa.string()),
        ("rule", pa.string()),
        ("value", pa.float64()),
        ("op", pa.string()),
        ("threshold", pa.float64()),
        ("detail", pa.string()),
        ("guard_json", pa.string()),  # every guard failure [{rule, value, op, threshold, detail}]
        ("lang", pa.string()),  # the parents' language (the prompt's language)
        ("model_name", pa.string()),
        ("model_sha256", pa.string()),  # of the weights file (local models), null for a remote API
        ("model_runtime", pa.string()),  # e.g. llama-cpp-python 0.3.36 (embedded)
        ("server_model_id", pa.string()),  # the id the server reports
        ("endpoint", pa.string()),  # base URL
        ("template_id", pa.string()),  # <template>.<lang>
        ("template_sha1", pa.string()),
        ("prompt_sha1", pa.string()),  # of the rendered prompt (system + user)
        ("params_json", pa.string()),  # sampling parameters sent, seed included
        ("seed", pa.int64()),
        ("cache_key", pa.string()),
        ("answered", pa.bool_()),  # the server answered (cacheable), vs a transport failure
        ("tokens_in", pa.int64()),
        ("tokens_out", pa.int64()),
        ("latency_ms", pa.float64()),
        ("finish_reason", pa.string()),
        ("attempts", pa.int32()),
        ("text", pa.large_string()),
        ("n_chars", pa.int64()),
        ("created_at", TS),  # when the request was answered (kept when reused from the cache)
        ("run_id", pa.string()),  # the run that sent the request
        ("recipe_id", pa.string()),
    ]
)

# Perplexity of documents under a small reference model (goldpan.llm.perplexity), one row per
# scored document and model: a signal for sweeps and the mix, stored apart from decisions.
DOC_PERPLEXITY = pa.schema(
    [
        ("doc_id", pa.string()),
        ("batch_id", pa.string()),
        ("status", pa.string()),  # kept (scored) | error
        ("reason", pa.string()),
        ("model_name", pa.string()),
        ("model_sha256", pa.string()),
        ("first_tokens", pa.int32()),  # the recipe's N
        ("n_tokens", pa.int32()),  # tokens actually scored (shorter documents: fewer)
        ("mean_logprob", pa.float64()),  # mean natural-log likelihood per token
        ("perplexity", pa.float64()),  # exp(-mean_logprob)
        ("text_md5", pa.string()),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "pages": PAGES,
    "documents": DOCUMENTS,
    "document_variants": DOCUMENT_VARIANTS,
    "dedup_clusters": DEDUP_CLUSTERS,
    "dedup_index": DEDUP_INDEX,
    "dedup_merges": DEDUP_MERGES,
    "dedup_paragraphs": DEDUP_PARAGRAPHS,
    "rejections": REJECTIONS,
    "quality_decisions": REJECTIONS,
    "mix_decisions": MIX_DECISIONS,
    "curated_documents": CURATED_DOCUMENTS,
    "doc_tokens": DOC_TOKENS,
    "corpus_candidate": CORPUS,
    "training_corpus": CORPUS,
    "corpus_releases": CORPUS_RELEASES,
    "takedowns": TAKEDOWNS,
    "crawl_frontier": CRAWL_FRONTIER,
    "batches": BATCHES,
    "doc_scores": DOC_SCORES,
    "models": MODELS,
    "recipe_snapshots": RECIPE_SNAPSHOTS,
    "policy_files": POLICY_FILES,
    "consent": CONSENT,
    "synthetic_documents": SYNTHETIC_DOCUMENTS,
    "doc_perplexity": DOC_PERPLEXITY,
}
