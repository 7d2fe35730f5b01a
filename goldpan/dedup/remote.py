"""Dedup's per-document work on the workers, which read and write the lake themselves (Ray).

Two passes over slices of the batch's kept documents (goldpan.engine.slices: the same file or hash
slices as every sliced stage), with the set-level decisions on the driver in between:

1. `features_task`: a worker reads its slice (texts included) and returns, per document, what the
   driver decides from: ids, URL, fetch time, the text's length, SHA-1, shingles, MinHash signature,
   band keys and paragraph shape (`paragraphs.ParagraphShape`): never the text.
2. `clusters_task`: once the driver has decided (URL, exact and near-duplicate clusters, paragraph
   counts: `BatchDeduplicator.run`), a worker reads its slice again, takes its documents' decided
   rows, rebuilds the text left after paragraph dedup (`dedup_text`, the only column that needs the
   text) and writes its rows as a Parquet part of `dedup_clusters` (goldpan.lake.parts); the driver
   commits every part in one Delta commit.

The rows are those of the in-process run: the driver orders the documents by id as the in-process
query does, the features are per-document, and `dedup_text` is `paragraphs.apply` with the batch's
removed keys, which is what the in-process run applies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from goldpan.dedup import paragraphs as para
from goldpan.dedup.signatures import SignatureConfig
from goldpan.dedup.urlkey import canonical_key, canonical_url
from goldpan.engine.slices import LakeQuery, read_slice
from goldpan.lake.delta import Lake
from goldpan.lake.parts import PartFile, PartTarget, PartWriter
from goldpan.lake.snapshot import Snapshot

_INT64_LIST = pa.list_(pa.int64())
_INT32_LIST = pa.list_(pa.int32())
#: what a worker returns per document besides the features (goldpan.dedup.stage.FEATURES_SCHEMA)
DOC_META = pa.schema([("page_id", pa.string()), ("url", pa.string()), ("dedup_url", pa.string()),
                      ("lang", pa.string()), ("fetched_s", pa.float64()), ("n_chars", pa.int64()),
                      # per-document URL work on the workers: the canonical URL and its dedup key
                      ("canonical_url", pa.string()), ("url_key", pa.int64())])
SHAPE = pa.schema([("para_keys", _INT64_LIST), ("para_lengths", _INT32_LIST), ("para_leads", _INT32_LIST),
                   ("para_trails", _INT32_LIST)])


@dataclass(frozen=True)
class DedupSlices:
    """The batch's input as the workers read it: lake, pinned versions, query and how it is cut."""

    lake_root: str
    storage_options: dict[str, str] | None
    snapshot: Snapshot
    query: LakeQuery
    slices: int
    files: tuple[tuple[str, ...], ...] | None

    def read(self, index: int) -> Iterator[pa.RecordBatch]:
        lake = Lake(self.lake_root, self.storage_options)
        return read_slice(lake, self.query, self.snapshot, self.slices, self.files, index)


@dataclass(frozen=True)
class FeaturesSpec:
    """What `doc_features_batch` needs besides the documents (small and picklable)."""

    signature: SignatureConfig
    #: paragraph dedup's `paragraph_min_chars`; None when paragraph dedup is off (no shapes needed)
    paragraph_min_chars: int | None


@dataclass(frozen=True)
class DedupTextSpec:
    """What `dedup_text_batch` needs: the batch's removed paragraph keys and paragraph dedup's settings."""

    removed_keys: tuple[int, ...]
    paragraph_min_chars: int
    paragraph_min_docs: int
    paragraph_min_doc_chars: int


@dataclass(frozen=True)
class FeaturesJob:
    source: DedupSlices
    spec: FeaturesSpec


@dataclass(frozen=True)
class ClustersJob:
    source: DedupSlices
    #: the batch's decided `dedup_clusters` rows, `dedup_text` still null (one Ray object, shared)
    decisions: pa.Table
    text: DedupTextSpec
    target: PartTarget


@dataclass(frozen=True)
class TaskOutput:
    """What a task hands back with its worker label and busy time (for the per-worker tally)."""

    rows: int
    features: pa.Table | None = None
    part: PartFile | None = None


def features_schema(spec: FeaturesSpec) -> pa.Schema:
    from goldpan.dedup.stage import FEATURES_SCHEMA

    return pa.schema([*FEATURES_SCHEMA, *DOC_META, *(SHAPE if spec.paragraph_min_chars is not None else [])])


def doc_features_batch(b: pa.RecordBatch, spec: FeaturesSpec) -> pa.RecordBatch:
    """Engine batch function: a batch of the stage's input rows (with text) -> DOC_META + features (+ SHAPE),
    no text. Why: the driver decides from these alone, so it never holds the batch's texts."""
    from goldpan.dedup.stage import features_batch

    schema = features_schema(spec)
    texts = [t or "" for t in b.column("text").to_pylist()]
    f = features_batch(pa.RecordBatch.from_arrays(
        [b.column("doc_id"), pa.array(texts, pa.string()), b.column("lang")], names=["doc_id", "text", "lang"]),
        spec.signature)
    canonical = [canonical_url(u) for u in b.column("dedup_url").to_pylist()]
    cols = [*f.columns, b.column("page_id"), b.column("url"), b.column("dedup_url"), b.column("lang"),
            b.column("fetched_s").cast(pa.float64()), pa.array([len(t) for t in texts], pa.int64()),
            pa.array(canonical, pa.string()), pa.array([canonical_key(c) for c in canonical], pa.int64())]
    if spec.paragraph_min_chars is not None:
        cols.extend(_shape_columns([para.shape_of(para.split_paragraphs(t, spec.paragraph_min_chars))
                                    for t in texts]))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def features_task(index: int, job: FeaturesJob, _position: int) -> TaskOutput:
    """In the worker: slice `index` -> one table of DOC_META + features (+ SHAPE), no text."""
    out = [doc_features_batch(b, job.spec) for b in job.source.read(index) if b.num_rows]
    table = pa.Table.from_batches(out, schema=features_schema(job.spec))
    return TaskOutput(rows=table.num_rows, features=table)


def texts_to_rebuild(b: pa.RecordBatch, got: pa.Table) -> pa.RecordBatch:
    """`dedup_text_batch`'s input for input batch `b` and its decided rows `got` (same order): the text of
    each document that lost paragraphs, null for the others (they keep their text: nothing to ship)."""
    cut = pc.greater(pc.fill_null(got.column("paragraphs_removed"), 0), 0)
    text = pc.if_else(cut, pc.fill_null(b.column("text"), ""), pa.scalar(None, b.column("text").type))
    return pa.RecordBatch.from_arrays([pa.chunked_array([text]).combine_chunks().cast(pa.string())], names=["text"])


def set_dedup_text(got: pa.Table, rebuilt: pa.RecordBatch) -> pa.Table:
    """`got` with `dedup_text_batch`'s output as its `dedup_text` column."""
    i = got.schema.get_field_index("dedup_text")
    field = got.schema.field(i)
    return got.set_column(i, field, pa.chunked_array([rebuilt.column(0).cast(field.type)]))


def dedup_text_batch(b: pa.RecordBatch, spec: DedupTextSpec) -> pa.RecordBatch:
    """Engine batch function: `text` (null for a document that lost no paragraph) -> `dedup_text`, the text
    left after paragraph dedup (re-splitting the texts is per-document work:
    ~2 s of the run process on 6,000 real pages)."""
    removed = dict.fromkeys(spec.removed_keys, spec.paragraph_min_docs)
    out = [para.apply(para.split_paragraphs(t, spec.paragraph_min_chars), removed, spec.paragraph_min_docs,
                      spec.paragraph_min_doc_chars).text if t is not None else None
           for t in b.column("text").to_pylist()]
    return pa.RecordBatch.from_arrays([pa.array(out, pa.string())], names=["dedup_text"])


def _shape_columns(shapes: Sequence[para.ParagraphShape]) -> list[pa.Array]:
    return [pa.array([s.keys for s in shapes], _INT64_LIST), pa.array([s.lengths for s in shapes], _INT32_LIST),
            pa.array([s.leads for s in shapes], _INT32_LIST), pa.array([s.trails for s in shapes], _INT32_LIST)]


def shapes_of(table: pa.Table) -> list[para.ParagraphShape] | None:
    """The paragraph shapes of `features_task`'s rows (None when it made none)."""
    if "para_keys" not in table.schema.names:
        return None
    cols = [table.column(c).to_pylist() for c in SHAPE.names]
    return [para.ParagraphShape(*row) for row in zip(*cols, strict=True)]


def clusters_task(index: int, job: ClustersJob, _position: int) -> TaskOutput:
    """In the worker: slice `index`'s decided rows, with the text left after paragraph dedup, as a part."""
    decisions = job.decisions
    writer = PartWriter(job.target, f"{index:05d}")
    rows = 0
    for b in job.source.read(index):
        if not b.num_rows:
            continue
        at = pc.index_in(b.column("doc_id"), value_set=decisions.column("doc_id"))
        if at.null_count:
            raise ValueError(f"slice {index}: documents the driver did not decide (the input moved under the stage)")
        got = decisions.take(at)
        got = set_dedup_text(got, dedup_text_batch(texts_to_rebuild(b, got), job.text))
        for rb in got.to_batches():
            writer.write(rb)
        rows += got.num_rows
    return TaskOutput(rows=rows, part=writer.close())
