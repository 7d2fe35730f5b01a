"""Dedup stage asset: exact and MinHash near-duplicates of a batch, against everything kept before.

The batch's documents are matched against each other and against representatives kept by earlier
batches (batch ids sort in creation order). Only prior documents sharing an exact hash or a band
key with the new batch are read back, so re-running a batch gives the same clusters.
"""


from collections import Counter

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.common import counts_markdown, materialize_result
from assets.partitions import crawl_batches
from goldpan.dedup.clusters import DedupInput, NearDupIndex, PriorDoc
from goldpan.dedup.minhash import MinHasher
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DEDUP_CLUSTERS
from resources import LakeResource, RecipeResource

CODE_VERSION = "dedup-v1"

PRIOR_SQL = """
WITH prior AS (
    SELECT doc_id, cluster_id, text_sha1, signature, band_keys
    FROM dedup_clusters
    WHERE batch_id < ? AND status = 'kept' AND minhash_config = ?
)
SELECT * FROM prior WHERE text_sha1 IN (SELECT sha1 FROM new_sha1s)
UNION
SELECT p.* FROM prior p
WHERE EXISTS (SELECT 1 FROM unnest(p.band_keys) AS k(key) JOIN new_keys n ON n.key = k.key)
"""


@dg.asset(
    key="dedup_clusters",
    group_name="dedup",
    partitions_def=crawl_batches,
    deps=["documents"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per document kept by extract: exact text hash, MinHash signature and band keys, "
    "cluster id (the representative's doc_id); later copies are rejected as exact or near duplicates.",
)
def dedup_clusters(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    cfg = rc.dedup
    index = NearDupIndex(
        MinHasher(cfg.num_bands, cfg.rows_per_band, cfg.seed), cfg.threshold, cfg.word_ngram, cfg.char_ngram
    )
    # Representative policy: earliest fetch wins, then the longest text, then the smallest doc_id.
    docs_meta = list(
        lk.iter_rows(
            "SELECT doc_id, page_id, batch_id, url, lang, text, fetched_at, n_chars FROM documents "
            "WHERE batch_id = ? AND status = 'kept'",
            [batch],
            tables=["documents"],
        )
    )
    inputs = [
        DedupInput(d["doc_id"], d["text"] or "", d["lang"] or "unknown", (d["fetched_at"], -d["n_chars"], d["doc_id"]))
        for d in docs_meta
    ]
    sha1s, keys = index.required_band_keys(inputs)
    n_prior = 0
    if lk.exists("dedup_clusters") and (sha1s or keys):
        with lk.connect(tables=["dedup_clusters"]) as con:
            con.register("new_sha1s", pa.table({"sha1": pa.array(sorted(sha1s), pa.string())}))
            con.register("new_keys", pa.table({"key": pa.array(sorted(keys), pa.int64())}))
            priors = [
                PriorDoc(r[0], r[1], r[2], np.asarray(r[3], dtype=np.uint32), np.asarray(r[4], dtype=np.int64))
                for r in con.execute(PRIOR_SQL, [batch, index.config_id]).fetchall()
            ]
        n_prior = len(priors)
        index.add_prior(priors)
    results = index.assign(inputs)
    meta = {d["doc_id"]: d for d in docs_meta}
    outcomes: Counter[str] = Counter(r.rule or r.status for r in results)

    def rows():
        for r in results:
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
                "minhash_config": index.config_id,
                "signature": r.signature.tolist(),
                "band_keys": r.band_keys.tolist(),
            }

    written = lk.write(
        "dedup_clusters",
        rows_to_batches(rows(), DEDUP_CLUSTERS),
        DEDUP_CLUSTERS,
        predicate=batch_predicate("batch_id", batch),
        partition_by=["batch_id"],
        commit_metadata=lake.commit_metadata(context, CODE_VERSION),
    )
    return materialize_result(
        lk,
        written,
        DEDUP_CLUSTERS,
        preview_columns=["doc_id", "url", "status", "rule", "duplicate_of", "similarity"],
        where=f"{batch_predicate('batch_id', batch)} AND status <> 'kept'",
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "prior_candidates_read": dg.MetadataValue.int(n_prior),
            "minhash_config": index.config_id,
        },
    )
