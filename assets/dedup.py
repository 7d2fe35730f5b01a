"""Dedup stage asset: URL, exact, MinHash near-duplicate and paragraph dedup of a batch, against every
earlier batch through the Delta index (`dedup_index`, `dedup_paragraphs`).

Thin wiring: the decisions are `goldpan.dedup.clusters.BatchDeduplicator`; the index reads and
writes are `goldpan.dedup.store`. Only index rows sharing a key with the new batch are read back, so
the cost of a batch grows with the batch, and a re-run (which sees only earlier batches) gives the
same clusters.
"""


from collections import Counter

import dagster as dg

from assets.common import counts_markdown, materialize_result
from assets.ordering import OrderingResource, wait_for_earlier_batches
from assets.partitions import crawl_batches
from goldpan.dedup.clusters import BatchDeduplicator, DedupConfig, DedupInput
from goldpan.dedup.report import summary_markdown
from goldpan.dedup.store import DeltaPriorStore, write_index
from goldpan.dedup.urlkey import canonical_url
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DEDUP_CLUSTERS
from resources import LakeResource, RecipeResource

CODE_VERSION = "dedup-v3"


def dedup_config(section) -> DedupConfig:
    """The recipe's dedup section as the library's config (same field names)."""
    return DedupConfig(**section.model_dump())


@dg.asset(
    key="dedup_clusters",
    group_name="dedup",
    partitions_def=crawl_batches,
    deps=["documents"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per document kept by extract: canonical URL, normalised-text SHA-1, MinHash "
    "signature and band keys, cluster id/size/representative, and the decision (url_duplicate, "
    "exact_duplicate, near_duplicate, paragraph-dedup rejections). `dedup_text` holds the text after "
    "paragraph dedup when paragraphs were removed. Also appends the batch to `dedup_index` and "
    "`dedup_paragraphs`; changes to earlier clusters (merges, new representatives) go to `dedup_merges`.",
)
def dedup_clusters(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "dedup_clusters", ordering)
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    dd = BatchDeduplicator(dedup_config(rc.dedup))
    dt = lk.table("documents")
    cols = set(pa_names(dt.schema())) if dt is not None else set()
    url_expr = "COALESCE(canonical_url, url)" if "canonical_url" in cols else "url"
    docs_meta = list(
        lk.iter_rows(
            f"SELECT doc_id, page_id, url, {url_expr} AS dedup_url, lang, text, "
            "epoch_us(fetched_at) / 1e6 AS fetched_s FROM documents WHERE batch_id = ? AND status = 'kept' "
            "ORDER BY doc_id",
            [batch],
            tables=["documents"],
        )
    )
    inputs = [
        DedupInput(d["doc_id"], d["text"] or "", d["lang"] or "unknown", d["dedup_url"], d["fetched_s"])
        for d in docs_meta
    ]
    store = DeltaPriorStore(lk, batch, dd.config_id)
    out = dd.run(inputs, store)
    meta = {d["doc_id"]: d for d in docs_meta}

    def rows():
        for r in out.results:
            m = meta[r.doc_id]
            yield {
                "doc_id": r.doc_id,
                "page_id": m["page_id"],
                "batch_id": batch,
                "url": m["url"],
                "text_sha1": r.text_sha1,
                "cluster_id": r.cluster_id,
                "is_representative": r.is_representative,
                "status": r.status,
                "rule": r.rule,
                "duplicate_of": r.duplicate_of,
                "similarity": r.similarity,
                "threshold": r.threshold,
                "n_shingles": r.n_shingles,
                "minhash_config": dd.config_id,
            "cluster_merges": dg.MetadataValue.int(len(out.merges)),
                "signature": r.signature.astype("int64").tolist(),
                "band_keys": r.band_keys.tolist(),
                "dedup_text": r.dedup_text,
                "canonical_url": canonical_url(m["dedup_url"]),
                "supersedes": r.supersedes,
                "value": r.value,
                "cluster_size": r.cluster_size,
                "n_paragraphs": r.n_paragraphs,
                "paragraphs_removed": r.paragraphs_removed,
                "chars_removed": r.chars_removed,
                "match": r.match,
            }

    commit = lake.commit_metadata(context, CODE_VERSION)
    written = lk.write(
        "dedup_clusters",
        rows_to_batches(rows(), DEDUP_CLUSTERS),
        DEDUP_CLUSTERS,
        predicate=batch_predicate("batch_id", batch),
        partition_by=["batch_id"],
        commit_metadata=commit,
    )
    index_meta = write_index(lk, batch, dd.config_id, out, commit, compact_files=dd.cfg.index_compact_files)
    outcomes: Counter[str] = Counter(r.rule or r.status for r in out.results)
    return materialize_result(
        lk,
        written,
        DEDUP_CLUSTERS,
        preview_columns=["doc_id", "url", "status", "rule", "duplicate_of", "similarity", "cluster_size"],
        where=f"{batch_predicate('batch_id', batch)} AND status <> 'kept'",
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "clusters": dg.MetadataValue.md(summary_markdown(lk, batch)),
            "paragraphs_removed": dg.MetadataValue.int(sum(r.paragraphs_removed for r in out.results)),
            "prior_rows_read": dg.MetadataValue.json(store.rows_read),
            "match_stats": dg.MetadataValue.json(out.stats),
            "minhash_config": dd.config_id,
            "cluster_merges": dg.MetadataValue.int(len(out.merges)),
            **{k: dg.MetadataValue.int(v) for k, v in index_meta.items()},
        },
    )


def pa_names(schema) -> list[str]:
    import pyarrow as pa

    return pa.schema(schema).names
