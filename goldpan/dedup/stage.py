"""The dedup stage entry point: one batch of `documents` -> `dedup_clusters` (+ the dedup index).

The per-document part (shingling, MinHash signatures, LSH band keys, paragraph shapes) runs on the
engine's workers over record batches; the set-level part (URL, exact, near-duplicate clustering
against earlier batches, paragraph dedup) is `BatchDeduplicator.run` on the driver, from those
features alone: the driver never holds the batch's texts (on 6,000 real pages its peak fell from
903-922 to 800-817 MB). A second read of the documents sends the texts that lost paragraphs back to
the workers, which rebuild what is left of them as the rows are written. Write order: the batch's
clusters first, then its index rows, so a crash between them leaves an index that a rerun replaces.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from goldpan.dedup.clusters import BatchDeduplicator, BatchOutcome, DedupInput
from goldpan.dedup.remote import (
    ClustersJob,
    DedupSlices,
    DedupTextSpec,
    FeaturesJob,
    FeaturesSpec,
    clusters_task,
    dedup_text_batch,
    doc_features_batch,
    features_schema,
    features_task,
    set_dedup_text,
    shapes_of,
    texts_to_rebuild,
)
from goldpan.dedup.signatures import SignatureBatch, SignatureConfig, compute_signatures
from goldpan.dedup.store import DeltaPriorStore, write_index
from goldpan.engine import Engine
from goldpan.engine.pooled import StageRun, count_rows, finish_run, start_run
from goldpan.engine.progress import StageProgress, report
from goldpan.engine.slices import LakeQuery, plan_slices
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.parts import PartTarget, commit_parts
from goldpan.lake.schemas import DEDUP_CLUSTERS
from goldpan.lake.views import kept_input
from goldpan.recipe import DedupSection

_INT64_LIST = pa.list_(pa.int64())
FEATURES_SCHEMA = pa.schema([("doc_id", pa.string()), ("shingles", _INT64_LIST), ("sequence", _INT64_LIST),
                             ("signature", _INT64_LIST), ("band_keys", _INT64_LIST), ("text_sha1", pa.string())])


def _list_array(flat: np.ndarray, offsets: np.ndarray) -> pa.ListArray:
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(flat.view(np.int64)))


def features_batch(docs: pa.RecordBatch, config: SignatureConfig) -> pa.RecordBatch:
    """Engine batch function: (doc_id, text, lang) -> `compute_signatures` as Arrow, same order.

    uint64 shingle hashes travel as their int64 bit pattern (and uint32 signatures as int64): Arrow
    lists of signed integers, reinterpreted without loss on the driver (`_features_of`)."""
    texts = [t or "" for t in docs.column("text").to_pylist()]
    langs = [lg or "unknown" for lg in docs.column("lang").to_pylist()]
    f = compute_signatures(texts, langs, config)
    n = len(texts)
    sig_offs = np.arange(n + 1, dtype=np.int64) * f.signatures.shape[1]
    key_offs = np.arange(n + 1, dtype=np.int64) * f.band_keys.shape[1]
    return pa.RecordBatch.from_arrays(
        [docs.column("doc_id"),
         _list_array(f.shingles, f.offsets),
         _list_array(f.sequences, f.seq_offsets),
         _list_array(f.signatures.astype(np.int64).ravel(), sig_offs),
         _list_array(f.band_keys.ravel(), key_offs),
         pa.array(f.text_sha1, pa.string())],
        schema=FEATURES_SCHEMA,
    )


def _unpack(b: pa.RecordBatch, config: SignatureConfig) -> SignatureBatch:
    def flat(name: str) -> tuple[np.ndarray, np.ndarray]:
        col = b.column(name)
        offs = col.offsets.to_numpy().astype(np.int64)
        values = col.values.to_numpy(zero_copy_only=False)[offs[0] : offs[-1]]
        return values, offs - offs[0]

    sh, sh_offs = flat("shingles")
    seq, seq_offs = flat("sequence")
    sig, _ = flat("signature")
    keys, _ = flat("band_keys")
    return SignatureBatch(sig.astype(np.uint32).reshape(-1, config.num_perm),
                          keys.astype(np.int64).reshape(-1, config.num_bands), sh_offs,
                          sh.view(np.uint64), b.column("text_sha1").to_pylist(), seq_offs, seq.view(np.uint64))


def _features_of(batches: Iterator[pa.RecordBatch], config: SignatureConfig) -> SignatureBatch:
    parts = [_unpack(b, config) for b in batches if b.num_rows]
    return SignatureBatch.concat(parts) if parts else compute_signatures([], [], config)


@dataclass(frozen=True)
class _Doc:
    doc_id: str
    page_id: str
    url: str
    canonical_url: str | None


SLICE_SQL = (
    "SELECT doc_id, page_id, url, COALESCE(canonical_url, url) AS dedup_url, lang, text, "
    "epoch_us(fetched_at) / 1e6 AS fetched_s FROM {} WHERE batch_id = ? AND {}".format(*kept_input("dedup"))
)
#: the documents in id order: the order every engine decides them in (the workers' slices are re-sorted)
SOURCE_SQL = SLICE_SQL + " ORDER BY doc_id"


_LIST_COLUMNS = ("signature", "band_keys")
_SCALARS = pa.schema([f for f in DEDUP_CLUSTERS if f.name not in _LIST_COLUMNS])


def _rows(batch_id: str, config_id: str, docs: list[_Doc], out: BatchOutcome) -> Iterator[dict]:
    """The decided rows without their signature and band keys (`_decisions` adds those as arrays)."""
    for d, r in zip(docs, out.results, strict=True):
        yield {
            "doc_id": r.doc_id, "page_id": d.page_id, "batch_id": batch_id, "url": d.url,
            "text_sha1": r.text_sha1, "cluster_id": r.cluster_id, "is_representative": r.is_representative,
            "status": r.status, "rule": r.rule, "duplicate_of": r.duplicate_of, "similarity": r.similarity,
            "threshold": r.threshold, "n_shingles": r.n_shingles, "minhash_config": config_id,
            "dedup_text": r.dedup_text, "canonical_url": d.canonical_url, "supersedes": r.supersedes,
            "value": r.value, "cluster_size": r.cluster_size, "n_paragraphs": r.n_paragraphs,
            "paragraphs_removed": r.paragraphs_removed, "chars_removed": r.chars_removed, "match": r.match,
        }


def _int64_lists(arrays: list[np.ndarray]) -> pa.ListArray:
    """One list<int64> column from per-document arrays, without a Python int per element (uint32
    signatures widen exactly)."""
    lengths = np.fromiter((a.size for a in arrays), np.int64, len(arrays))
    flat = np.concatenate([a.astype(np.int64) for a in arrays]) if arrays else np.empty(0, np.int64)
    return _list_array(flat, np.concatenate(([0], np.cumsum(lengths))))


def _decisions(batch_id: str, config_id: str, docs: list[_Doc], out: BatchOutcome) -> pa.Table:
    """The batch's `dedup_clusters` rows (no `dedup_text` yet), in the decided order."""
    scalars = pa.Table.from_batches(list(rows_to_batches(_rows(batch_id, config_id, docs, out), _SCALARS)),
                                    schema=_SCALARS)
    lists = {"signature": _int64_lists([r.signature for r in out.results]),
             "band_keys": _int64_lists([r.band_keys for r in out.results])}
    return pa.Table.from_arrays([lists[f.name] if f.name in lists else scalars.column(f.name) for f in DEDUP_CLUSTERS],
                                schema=DEDUP_CLUSTERS)


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
    # URL, text and (on an engine that shuffles) band keys are grouped by the engine: the same groups on
    # every engine, a shuffle by key on Ray.
    dd = BatchDeduplicator(section, group_by_key=engine.group_by_key,
                           shuffle_band_keys=getattr(engine, "shuffles", False))
    # Workers that reach the lake and run whole tasks (Ray): they read the documents and write the
    # parts; the local engine's workers take slices only, so its dedup reads and writes here.
    if getattr(engine, "workers_reach_lake", False) and hasattr(engine, "map_tasks"):
        return _run_on_workers(lake, section, batch_id, engine=engine, dd=dd, commit_metadata=commit_metadata,
                               batch_rows=batch_rows)
    run, before = start_run(engine)
    with run.meter:
        # Two streaming passes over the batch's documents, so this process never holds their texts
        # (the same split as on Ray: goldpan.dedup.remote): the workers turn each record batch into
        # features without text, the decisions are taken here from those alone, then a second read adds
        # the text left after paragraph dedup to the decided rows as they are written.
        query = LakeQuery(SOURCE_SQL, [batch_id], ("documents",), batch_rows=batch_rows, key="doc_id")
        snapshot = lake.snapshot(["documents"])
        spec = _features_spec(dd)
        t0 = time.perf_counter()
        progress = StageProgress("dedup_clusters", 0, count_rows(lake, SOURCE_SQL, [batch_id], ["documents"]), t0)
        feats_table = pa.Table.from_batches(
            list(_reported(engine.map_batches(doc_features_batch, query.batches(lake, snapshot), spec), progress)),
            schema=features_schema(spec))
        docs, inputs, feats = _decision_input(feats_table, dd)
        del feats_table
        t1 = time.perf_counter()
        store = DeltaPriorStore(lake, batch_id, dd.config_id, keyruns=dd.cfg.index_keyruns)
        out = dd.run(inputs, store, features=feats)
        t2 = time.perf_counter()
        run.meter.docs = len(inputs)
        decisions = _decisions(batch_id, dd.config_id, docs, out)
        run.written = lake.write(
            "dedup_clusters",
            _decided_with_text(query.batches(lake, snapshot), decisions, _text_spec(dd, out), engine),
            DEDUP_CLUSTERS, predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
            commit_metadata=commit_metadata,
        )
        index_meta = _write_index(lake, batch_id, dd, out, commit_metadata)
    _finish(run, engine, before, progress, dd, store, out, (t0, t1, t2))
    run.extra.update(index=index_meta, lake_io="driver")
    return run


def _decided_with_text(batches: Iterator[pa.RecordBatch], decisions: pa.Table, spec: DedupTextSpec,
                       engine: Engine) -> Iterator[pa.RecordBatch]:
    """The decided rows in input order, each input batch's rows with their `dedup_text` (the second pass):
    the texts of the documents that lost paragraphs go to the engine's workers, which rebuild what is left."""
    pending: deque[pa.Table] = deque()

    def texts() -> Iterator[pa.RecordBatch]:
        at = 0
        for b in batches:
            if not b.num_rows:
                continue
            got = decisions.slice(at, b.num_rows)
            if got.num_rows != b.num_rows or not got.column("doc_id").equals(pa.chunked_array([b.column("doc_id")])):
                raise ValueError("dedup_clusters: the second read of the documents differs from the first; "
                                 "nothing committed")
            at += b.num_rows
            pending.append(got)
            yield texts_to_rebuild(b, got)
        if at != decisions.num_rows:
            raise ValueError(f"dedup_clusters: {at} documents read again for {decisions.num_rows} decided; "
                             "nothing committed")

    for rebuilt in engine.map_batches(dedup_text_batch, texts(), spec):
        yield from set_dedup_text(pending.popleft(), rebuilt).to_batches()


def _features_spec(dd: BatchDeduplicator) -> FeaturesSpec:
    """What the workers compute per document (either engine path): paragraph shapes only with paragraph dedup."""
    return FeaturesSpec(dd.sig_cfg, dd.cfg.paragraph_min_chars if dd.cfg.paragraph_dedup else None)


def _text_spec(dd: BatchDeduplicator, out: BatchOutcome) -> DedupTextSpec:
    """How the workers rebuild `dedup_text` from the batch's decision (either engine path)."""
    return DedupTextSpec(tuple(out.removed_paragraph_keys), dd.cfg.paragraph_min_chars, dd.cfg.paragraph_min_docs,
                         dd.cfg.paragraph_min_doc_chars)


def _write_index(lake: Lake, batch_id: str, dd: BatchDeduplicator, out: BatchOutcome,
                 commit_metadata: Mapping[str, str] | None) -> dict:
    """The batch's keys into the cross-batch index, after its clusters are committed (either engine path)."""
    return write_index(lake, batch_id, dd.config_id, out, commit_metadata,
                       compact_files=dd.cfg.index_compact_files, keyruns_on=dd.cfg.index_keyruns,
                       run_fanin=dd.cfg.index_run_fanin)


def _finish(run: StageRun, engine: Engine, before, progress: StageProgress, dd: BatchDeduplicator,
            store: DeltaPriorStore, out: BatchOutcome, times: tuple[float, float, float]) -> None:
    """Close the progress line and the run's meter, and record the outcome (either engine path)."""
    progress.finished = True
    report(progress)
    finish_run(run, engine, before)
    _outcome_metadata(run, dd, store, out, *times)


def _outcome_metadata(run: StageRun, dd: BatchDeduplicator, store: DeltaPriorStore, out: BatchOutcome,
                      t0: float, t1: float, t2: float) -> None:
    run.outcomes = Counter(r.rule or r.status for r in out.results)
    run.extra.update(
        stats=out.stats, prior_rows_read=store.rows_read, index_lookups=store.lookups, config_id=dd.config_id,
        paragraphs_removed=sum(r.paragraphs_removed for r in out.results), cluster_merges=len(out.merges),
        seconds={"features": round(t1 - t0, 3), "clusters": round(t2 - t1, 3)},
    )


def _run_on_workers(lake: Lake, section: DedupSection, batch_id: str, *, engine: Engine, dd: BatchDeduplicator,
                    commit_metadata: Mapping[str, str] | None, batch_rows: int) -> StageRun:
    """The same stage with the lake I/O on the workers (goldpan.dedup.remote): they read their slices
    of the batch's documents and return features without text; this process decides (the set-level
    steps, the index of earlier batches); they read their slices again and write the `dedup_clusters`
    parts; this process commits them in one commit, then writes the index tables (keys, no text)."""
    run, before = start_run(engine)
    map_tasks = engine.map_tasks  # type: ignore[attr-defined]
    with run.meter:
        # light per-document work (shingles and MinHash in numpy): two tasks per worker and pass, the second
        # round half the size of the first (goldpan.engine.units.unit_shares), so neither worker waits long
        query = LakeQuery(SLICE_SQL, [batch_id], ("documents",), batch_rows=batch_rows, key="doc_id",
                          slice_table="documents", slice_partition=(("batch_id", batch_id),), tasks_per_worker=2)
        snapshot = lake.snapshot(["documents"])
        slices, units, cut = plan_slices(lake, query, snapshot, engine)
        source = DedupSlices(lake.root, dict(lake.storage_options) if lake.storage_options else None, snapshot,
                             query, slices, units)
        t0 = time.perf_counter()
        progress = StageProgress("dedup_clusters", 0, None, t0)
        report(progress)
        tables = []
        for _, got in map_tasks(features_task, range(slices), FeaturesJob(source, _features_spec(dd)),
                                rows=lambda o: o.rows):
            progress.done += got.rows
            report(progress)
            tables.append(got.features)
        # the in-process order (SOURCE_SQL: by doc id), whatever slice a document came from
        feats_table = pa.concat_tables(tables).sort_by("doc_id") if tables else None
        docs, inputs, feats = _decision_input(feats_table, dd)
        t1 = time.perf_counter()
        store = DeltaPriorStore(lake, batch_id, dd.config_id, keyruns=dd.cfg.index_keyruns)
        out = dd.run(inputs, store, features=feats)
        t2 = time.perf_counter()
        run.meter.docs = len(inputs)
        decisions = _decisions(batch_id, dd.config_id, docs, out)
        target = PartTarget(lake.uri("dedup_clusters"), lake.storage_options, DEDUP_CLUSTERS, {"batch_id": batch_id})
        job = ClustersJob(source, decisions, _text_spec(dd, out), target)
        parts = [got.part for _, got in map_tasks(clusters_task, range(slices), job, rows=lambda o: o.rows)
                 if got.part is not None]
        if sum(p.rows for p in parts) != decisions.num_rows:
            raise ValueError(f"dedup_clusters: the workers wrote {sum(p.rows for p in parts)} rows for "
                             f"{decisions.num_rows} decided documents; nothing committed")
        parts.sort(key=lambda p: p.path)  # the commit does not depend on which task finished first
        run.written = commit_parts(lake, "dedup_clusters", parts, DEDUP_CLUSTERS, mode="overwrite",
                                   partition_by=["batch_id"], replace={"batch_id": batch_id},
                                   commit_metadata=commit_metadata)
        index_meta = _write_index(lake, batch_id, dd, out, commit_metadata)
    _finish(run, engine, before, progress, dd, store, out, (t0, t1, t2))
    run.extra.update(index=index_meta, lake_io="workers", slices=cut, tasks=slices)
    return run


def _decision_input(table: pa.Table | None, dd: BatchDeduplicator
                    ) -> tuple[list[_Doc], list[DedupInput], SignatureBatch]:
    """The workers' features as the driver's inputs: documents without text, with length and paragraphs."""
    if table is None or not table.num_rows:
        return [], [], compute_signatures([], [], dd.sig_cfg)
    shapes = shapes_of(table)
    cols = {c: table.column(c).to_pylist() for c in ("doc_id", "page_id", "url", "dedup_url", "lang", "fetched_s",
                                                      "n_chars", "canonical_url", "url_key")}
    docs = [_Doc(i, p, u, cu) for i, p, u, cu in zip(cols["doc_id"], cols["page_id"], cols["url"],
                                                      cols["canonical_url"], strict=True)]
    inputs = [DedupInput(cols["doc_id"][j], "", cols["lang"][j] or "unknown", cols["dedup_url"][j], cols["fetched_s"][j],
                         length=cols["n_chars"][j], paragraphs=shapes[j] if shapes is not None else None,
                         url_key=cols["url_key"][j])
              for j in range(table.num_rows)]
    # chunk by chunk: the parts are views of the table's buffers and `concat` makes the one copy
    feats = _features_of(iter(table.select(FEATURES_SCHEMA.names).to_batches()), dd.sig_cfg)
    return docs, inputs, feats


def _reported(batches: Iterator[pa.RecordBatch], progress: StageProgress) -> Iterator[pa.RecordBatch]:
    report(progress)
    for b in batches:
        progress.done += b.num_rows
        report(progress)
        yield b
