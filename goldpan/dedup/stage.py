"""The dedup stage entry point: one batch of `documents` -> `dedup_clusters` (+ the dedup index).

The per-document part (shingling, MinHash signatures, LSH band keys) runs on the engine's workers
over record batches; the set-level part (URL, exact, near-duplicate clustering against earlier
batches, paragraph dedup) is `BatchDeduplicator.run` on the driver. Write order: the batch's
clusters first, then its index rows, so a crash between them leaves an index that a rerun replaces.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from goldpan.dedup.clusters import BatchDeduplicator, BatchOutcome, DedupConfig, DedupInput
from goldpan.dedup.store import DeltaPriorStore, write_index
from goldpan.dedup.urlkey import canonical_url
from goldpan.engine import Engine, worker_cache
from goldpan.engine.pooled import StageRun, finish_run, start_run
from goldpan.engine.progress import StageProgress, report
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DEDUP_CLUSTERS
from goldpan.recipe import DedupSection

_INT64_LIST = pa.list_(pa.int64())
FEATURES_SCHEMA = pa.schema([("doc_id", pa.string()), ("shingles", _INT64_LIST), ("signature", _INT64_LIST),
                             ("band_keys", _INT64_LIST)])


def dedup_config(section: DedupSection) -> DedupConfig:
    """The recipe's dedup section as the library's config (same field names)."""
    return DedupConfig(**section.model_dump())


def features_batch(docs: pa.RecordBatch, config: DedupConfig) -> pa.RecordBatch:
    """Engine batch function: (doc_id, text, lang) -> shingle hashes, signature and band keys, same order.

    uint64 shingle hashes travel as their int64 bit pattern (and signatures as int64): Arrow lists
    of signed integers, reinterpreted without loss on the driver."""
    dd = worker_cache(("dedup", repr(config)), lambda: BatchDeduplicator(config))
    ids, texts, langs = (docs.column(c).to_pylist() for c in ("doc_id", "text", "lang"))
    inputs = [DedupInput(d, t or "", lg or "unknown", None, None) for d, t, lg in zip(ids, texts, langs, strict=True)]
    shingles, sigs, keys = dd.signatures(inputs)
    return pa.RecordBatch.from_arrays(
        [pa.array(ids, pa.string()),
         pa.array([s.view(np.int64) for s in shingles], _INT64_LIST),
         pa.array(list(sigs.astype(np.int64)), _INT64_LIST),
         pa.array(list(keys.astype(np.int64)), _INT64_LIST)],
        schema=FEATURES_SCHEMA,
    )


def _features_of(batches: Iterator[pa.RecordBatch], num_perm: int, num_bands: int):
    shingles: list[np.ndarray] = []
    sigs: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    for b in batches:
        col = b.column("shingles")
        flat = col.flatten().to_numpy(zero_copy_only=False).view(np.uint64)
        offs = col.offsets.to_numpy() - col.offsets[0].as_py()
        shingles.extend(flat[offs[i] : offs[i + 1]] for i in range(b.num_rows))
        if b.num_rows:
            sigs.append(b.column("signature").flatten().to_numpy().astype(np.uint32).reshape(-1, num_perm))
            keys.append(b.column("band_keys").flatten().to_numpy().astype(np.int64).reshape(-1, num_bands))
    sig = np.concatenate(sigs) if sigs else np.empty((0, num_perm), np.uint32)
    key = np.concatenate(keys) if keys else np.empty((0, num_bands), np.int64)
    return shingles, sig, key


@dataclass(frozen=True)
class _Doc:
    doc_id: str
    page_id: str
    url: str
    dedup_url: str


SOURCE_SQL = (
    "SELECT doc_id, page_id, url, COALESCE(canonical_url, url) AS dedup_url, lang, text, "
    "epoch_us(fetched_at) / 1e6 AS fetched_s FROM documents WHERE batch_id = ? AND status = 'kept' "
    "ORDER BY doc_id"
)


def _rows(batch_id: str, config_id: str, docs: list[_Doc], out: BatchOutcome) -> Iterator[dict]:
    for d, r in zip(docs, out.results, strict=True):
        yield {
            "doc_id": r.doc_id, "page_id": d.page_id, "batch_id": batch_id, "url": d.url,
            "text_sha1": r.text_sha1, "cluster_id": r.cluster_id, "is_representative": r.is_representative,
            "status": r.status, "rule": r.rule, "duplicate_of": r.duplicate_of, "similarity": r.similarity,
            "threshold": r.threshold, "n_shingles": r.n_shingles, "minhash_config": config_id,
            "signature": r.signature.astype(np.int64).tolist(), "band_keys": r.band_keys.tolist(),
            "dedup_text": r.dedup_text, "canonical_url": canonical_url(d.dedup_url), "supersedes": r.supersedes,
            "value": r.value, "cluster_size": r.cluster_size, "n_paragraphs": r.n_paragraphs,
            "paragraphs_removed": r.paragraphs_removed, "chars_removed": r.chars_removed,
        }


def run(
    lake: Lake,
    section: DedupSection,
    batch_id: str,
    *,
    engine: Engine,
    commit_metadata: Mapping[str, str] | None = None,
    batch_rows: int = 128,
) -> StageRun:
    """Dedup the kept documents of `batch_id` against earlier batches; write clusters, then the index."""
    # Band keys are grouped by the engine (a shuffle by key on Ray): the same groups on every engine.
    dd = BatchDeduplicator(dedup_config(section), group_by_key=engine.group_by_key)
    run, before = start_run(engine)
    with run.meter:
        docs: list[_Doc] = []
        inputs: list[DedupInput] = []
        for b in lake.iter_batches(SOURCE_SQL, [batch_id], tables=["documents"], batch_size=1024):
            for d in b.to_pylist():
                docs.append(_Doc(d["doc_id"], d["page_id"], d["url"], d["dedup_url"]))
                inputs.append(DedupInput(d["doc_id"], d["text"] or "", d["lang"] or "unknown", d["dedup_url"],
                                         d["fetched_s"]))
        t0 = time.perf_counter()
        progress = StageProgress("dedup_clusters", 0, len(inputs), t0)
        feats = _features_of(
            _reported(engine.map_batches(features_batch, _text_batches(inputs, batch_rows), dd.cfg), progress),
            dd.hasher.num_perm, dd.hasher.num_bands,
        )
        t1 = time.perf_counter()
        store = DeltaPriorStore(lake, batch_id, dd.config_id)
        out = dd.run(inputs, store, features=feats)
        t2 = time.perf_counter()
        run.meter.docs = len(inputs)
        run.written = lake.write(
            "dedup_clusters", rows_to_batches(_rows(batch_id, dd.config_id, docs, out), DEDUP_CLUSTERS),
            DEDUP_CLUSTERS, predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
            commit_metadata=commit_metadata,
        )
        index_meta = write_index(lake, batch_id, dd.config_id, out, commit_metadata,
                                 compact_files=dd.cfg.index_compact_files)
    progress.finished = True
    report(progress)
    finish_run(run, engine, before)
    run.outcomes = Counter(r.rule or r.status for r in out.results)
    run.extra.update(
        index=index_meta, stats=out.stats, prior_rows_read=store.rows_read, config_id=dd.config_id,
        paragraphs_removed=sum(r.paragraphs_removed for r in out.results),
        seconds={"features": round(t1 - t0, 3), "clusters": round(t2 - t1, 3)},
    )
    return run


def _reported(batches: Iterator[pa.RecordBatch], progress: StageProgress) -> Iterator[pa.RecordBatch]:
    report(progress)
    for b in batches:
        progress.done += b.num_rows
        report(progress)
        yield b


def _text_batches(inputs: list[DedupInput], rows: int) -> Iterator[pa.RecordBatch]:
    for s in range(0, len(inputs), rows):
        chunk = inputs[s : s + rows]
        yield pa.RecordBatch.from_pydict(
            {"doc_id": [d.doc_id for d in chunk], "text": [d.text for d in chunk], "lang": [d.lang for d in chunk]}
        )
