"""The perplexity step for one batch: a seeded sample of the filter-kept documents scored by the
recipe's reference model, written to `doc_perplexity` (one slice per batch) with the model's sha256,
so a sweep or the mix can use it and a model change is visible on every row."""

from __future__ import annotations

from collections.abc import Mapping
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


def run(lake: Lake, section: PerplexitySection, batch_id: str, endpoint_cfg: EndpointConfig,
        commit_metadata: Mapping[str, str] | None = None) -> PerplexityResult:
    sql, params = input_sql(section)
    docs = lake.iter_rows(sql, [batch_id, *params],
                          tables=["documents", "dedup_clusters", "doc_signals", "rejections"])
    counts = {"kept": 0, "error": 0}
    if not endpoint_cfg.base_url:  # the embedded model: llama.cpp in process (see LocalScorer)
        import time

        from goldpan.llm.models import resolve_model
        from goldpan.llm.perplexity import LocalScorer, score_documents_locally

        model = resolve_model(section.model)
        scorer = LocalScorer(model.path, n_threads=endpoint_cfg.n_threads)
        t0 = time.perf_counter()

        def local_rows():
            for r in score_documents_locally(scorer, docs, section.first_tokens, model.name, model.sha256):
                counts[r["status"]] += 1
                yield r

        written = lake.write("doc_perplexity", rows_to_batches(local_rows(), DOC_PERPLEXITY), DOC_PERPLEXITY,
                             predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
                             commit_metadata=commit_metadata)
        return PerplexityResult(written, counts["kept"], counts["error"], time.perf_counter() - t0,
                                {"model": model.name, "model_sha256": model.sha256, "runtime": "llama-cpp-python (in process)"})
    cfg = endpoint_cfg
    with open_endpoint(cfg, logits_all=True) as ep:

        def rows():
            for r in score_documents(ep.client, docs, section.first_tokens, ep.model_name, ep.model_sha256):
                counts[r["status"]] += 1
                yield r

        written = lake.write("doc_perplexity", rows_to_batches(rows(), DOC_PERPLEXITY), DOC_PERPLEXITY,
                             predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
                             commit_metadata=commit_metadata)
        return PerplexityResult(written, counts["kept"], counts["error"], ep.client.stats.seconds, ep.describe())
