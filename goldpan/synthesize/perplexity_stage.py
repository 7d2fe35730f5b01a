"""The perplexity step for one batch: a seeded sample of the filter-kept documents scored by the
recipe's reference model (issue 23 point 8).

- `doc_perplexity` (one slice per batch, written only here) is the step's record: every sampled
  document with its outcome (kept = scored, error = why not), the model's sha256, N and the text's
  md5. It is also the cache: a document whose text, model and N are unchanged is not scored again.
- `doc_scores` is where signals live for the sweep and the mix (`mix.max_perplexity`). Its one writer,
  the classify stage, runs after this step and copies `perplexity`, `ppl_logprob`, `ppl_tokens`,
  `ppl_model` and `ppl_model_sha256` from the batch's scored rows (goldpan.classify.stage).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from goldpan.lake import Lake, WriteResult, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DOC_PERPLEXITY
from goldpan.lake.views import CURRENT_TEXT_SQL, stage_sql
from goldpan.llm.client import EndpointConfig
from goldpan.llm.endpoint import open_endpoint
from goldpan.llm.perplexity import score_documents
from goldpan.recipe import PerplexitySection


@dataclass
class PerplexityResult:
    written: WriteResult
    scored: int
    errors: int
    seconds: float
    model: dict
    cache_hits: int = 0


def input_sql(section: PerplexitySection) -> tuple[str, list]:
    filter_kept, _, _ = stage_sql("classify")
    where, params = ["d.batch_id = ?"], []
    if section.languages:
        where.append("split_part(d.lang, '-', 1) IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(section.languages))
    # seeded sample: the first `sample_fraction` of the documents in md5(seed:doc_id) order
    where.append(f"(hash(? || ':' || d.doc_id) % 1000000) < {int(section.sample_fraction * 1_000_000)}")
    params.append(str(section.seed))
    sql = f"""SELECT d.doc_id, d.batch_id, d.lang, {CURRENT_TEXT_SQL} AS text FROM documents d
              JOIN ({filter_kept}) k ON k.doc_id = d.doc_id LEFT JOIN dedup_clusters c ON c.doc_id = d.doc_id
              WHERE {' AND '.join(where)} ORDER BY d.doc_id"""
    return sql, params


def model_of(section: PerplexitySection, cfg: EndpointConfig) -> tuple[str, str | None]:
    """(name, sha256) of the scoring model, known before anything is scored (the cache key needs it)."""
    if cfg.base_url:
        return cfg.model, None
    from goldpan.llm.models import resolve_model

    m = resolve_model(section.model)
    return m.name, m.sha256


def _cached(lake: Lake, batch_id: str, model: tuple[str, str | None], first_tokens: int) -> dict[tuple, dict]:
    """Scored rows of this batch under the same model and N, keyed by (doc_id, text md5)."""
    if not lake.exists("doc_perplexity"):
        return {}
    sql = ("SELECT * FROM doc_perplexity WHERE batch_id = ? AND status = 'kept' AND first_tokens = ? "
           "AND model_name = ? AND model_sha256 IS NOT DISTINCT FROM ?")
    rows = lake.iter_rows(sql, [batch_id, first_tokens, model[0], model[1]], tables=["doc_perplexity"])
    return {(r["doc_id"], r["text_md5"]): r for r in rows}


def _scored(section: PerplexitySection, cfg: EndpointConfig, docs: list[dict]) -> tuple[Iterator[dict], dict]:
    """Rows for `docs` from the embedded model in process (see LocalScorer) or a remote endpoint."""
    if not docs:
        return iter(()), {}
    if not cfg.base_url:
        from goldpan.llm.models import resolve_model
        from goldpan.llm.perplexity import LocalScorer, score_documents_locally

        model = resolve_model(section.model)
        scorer = LocalScorer(model.path, n_threads=cfg.n_threads)
        return (score_documents_locally(scorer, docs, section.first_tokens, model.name, model.sha256),
                {"model": model.name, "model_sha256": model.sha256, "runtime": "llama-cpp-python (in process)"})

    def remote() -> Iterator[dict]:
        with open_endpoint(cfg, logits_all=True) as ep:
            info.update(ep.describe())
            yield from score_documents(ep.client, docs, section.first_tokens, ep.model_name, ep.model_sha256)

    info: dict = {}
    return remote(), info


def run(lake: Lake, section: PerplexitySection, batch_id: str, endpoint_cfg: EndpointConfig,
        commit_metadata: Mapping[str, str] | None = None) -> PerplexityResult:
    sql, params = input_sql(section)
    docs = list(lake.iter_rows(sql, [batch_id, *params],  # bounded by the batch (texts cut to first N later)
                               tables=["documents", "dedup_clusters", "doc_signals", "rejections"]))
    model = model_of(section, endpoint_cfg)
    cache = _cached(lake, batch_id, model, section.first_tokens)
    hits, misses = [], []
    for d in docs:
        hit = cache.get((d["doc_id"], hashlib.md5((d["text"] or "").encode()).hexdigest()))
        (hits if hit is not None else misses).append(hit if hit is not None else d)
    counts = {"kept": 0, "error": 0}
    t0 = time.perf_counter()
    fresh, info = _scored(section, endpoint_cfg, misses)

    def rows() -> Iterator[dict]:
        for r in [*hits, *fresh]:
            counts[r["status"]] += 1
            yield r

    written = lake.write("doc_perplexity", rows_to_batches(rows(), DOC_PERPLEXITY), DOC_PERPLEXITY,
                         predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
                         commit_metadata=commit_metadata)
    seconds = time.perf_counter() - t0
    info = info or {"model": model[0], "model_sha256": model[1], "note": "every document cached: no model loaded"}
    return PerplexityResult(written, counts["kept"], counts["error"], seconds, info, len(hits))
