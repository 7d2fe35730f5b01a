"""The classify stage's per-batch entry points: `run` writes `doc_scores` (quality, math and code
scores) of a batch; `decide` writes the keep rule's rejections of that batch (`quality_decisions`).

The models are trained across batches (`quality_model`, `domain_models`); scoring one batch is pure
per-document work, run on the engine's workers. Each worker loads a model once, by path and sha1.
Deciding is cheap and separate, so a threshold change re-decides without re-scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from goldpan.classify.config import keep_rule
from goldpan.classify.decide import STAGE, quality_rejections
from goldpan.classify.model import load
from goldpan.classify.registry import latest_model, local_model_path
from goldpan.classify.scores import LoadedModel, Scorer
from goldpan.engine import Engine, worker_cache
from goldpan.engine.pooled import StageRun, count_rows, run_pooled
from goldpan.engine.slices import LakeQuery
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import WriteResult, rows_to_batches
from goldpan.lake.schemas import DOC_SCORES, ERROR, REJECTIONS
from goldpan.lake.views import CURRENT_TEXT_SQL, stage_sql
from goldpan.recipe import ClassifySection

# Every document with computed signals, with its current text, and its perplexity when the recipe's
# perplexity step (goldpan.synthesize.perplexity_stage, before this stage) scored it: doc_scores has
# one writer, this stage, and carries the perplexity for the sweep and the mix.
SCORES_INPUT_SQL = (
    f"SELECT s.doc_id, s.batch_id, {CURRENT_TEXT_SQL} AS text, p.perplexity, p.mean_logprob AS ppl_logprob, "
    "p.n_tokens AS ppl_tokens, p.model_name AS ppl_model, p.model_sha256 AS ppl_model_sha256 FROM doc_signals s "
    "JOIN documents d ON d.doc_id = s.doc_id LEFT JOIN dedup_clusters c ON c.doc_id = s.doc_id "
    "LEFT JOIN doc_perplexity p ON p.doc_id = s.doc_id AND p.batch_id = s.batch_id AND p.status = 'kept' "
    "WHERE s.batch_id = ? AND s.status = 'kept' ORDER BY s.doc_id"
)
SCORES_INPUT_TABLES = ["doc_signals", "documents", "dedup_clusters", "doc_perplexity"]


@dataclass(frozen=True)
class ModelRef:
    """A trained model a worker can load: its content hash and a local file."""

    sha1: str
    path: str


@dataclass(frozen=True)
class ScoreContext:
    quality: ModelRef | None
    math: ModelRef | None
    code: ModelRef | None
    label_threshold: float
    max_chars: int


def _loaded(ref: ModelRef | None) -> LoadedModel | None:
    if ref is None:
        return None
    # stage_local: ~100 MB each, used by this stage only; the next stage's batches free them in the worker
    return LoadedModel(ref.sha1, worker_cache(("fasttext", ref.sha1, ref.path), lambda: load(ref.path),
                                              stage_local=True))


def score_batch(docs: pa.RecordBatch, ctx: ScoreContext) -> pa.RecordBatch:
    """Engine batch function: (doc_id, batch_id, text) rows -> `doc_scores` rows, same order.

    A batch the models cannot score is scored document by document, so one bad text becomes an
    error row with its reason instead of failing the batch."""
    scorer = Scorer(quality=_loaded(ctx.quality), math=_loaded(ctx.math), code=_loaded(ctx.code),
                    label_threshold=ctx.label_threshold, max_chars=ctx.max_chars)
    rows = docs.to_pylist()
    try:
        return scorer.score_batch(rows)
    except Exception:  # noqa: BLE001 -- isolate the document that fails, below
        out = []
        for r in rows:
            try:
                out.append(scorer.score_batch([r]))
            except Exception as exc:  # noqa: BLE001 -- one document's failure is its error row
                row = dict.fromkeys(DOC_SCORES.names)
                row.update(doc_id=r["doc_id"], batch_id=r["batch_id"], status=ERROR,
                           reason=f"score_error: {type(exc).__name__}: {exc}"[:500])
                out.append(pa.RecordBatch.from_pylist([row], schema=DOC_SCORES))
        return pa.Table.from_batches(out, schema=DOC_SCORES).combine_chunks().to_batches()[0]


def _ref(rec: dict | None, storage_options) -> ModelRef | None:
    if not rec or rec.get("status") != "trained" or not rec.get("path"):
        return None
    return ModelRef(rec["sha1"], local_model_path(rec["path"], rec["sha1"], storage_options))


def score_context(lake: Lake, section: ClassifySection) -> tuple[ScoreContext, dict[str, dict | None]]:
    """The latest trained models (fetched to local files once, on the driver) and the `models` rows."""
    recs = {n: latest_model(lake, n) for n in ("quality", "math", "code")}
    so = lake.storage_options
    ctx = ScoreContext(
        quality=_ref(recs["quality"], so) if section.quality.enabled else None,
        math=_ref(recs["math"], so) if section.domains.enabled else None,
        code=_ref(recs["code"], so) if section.domains.enabled else None,
        label_threshold=section.domains.label_threshold,
        max_chars=section.fasttext.max_chars,
    )
    return ctx, recs


def run(
    lake: Lake,
    section: ClassifySection,
    batch_id: str,
    *,
    engine: Engine,
    commit_metadata: Mapping[str, str] | None = None,
    batch_rows: int = 512,
) -> StageRun:
    """Score every document of `batch_id` that has signals with the latest models (one commit)."""
    ctx, recs = score_context(lake, section)
    total = count_rows(lake, SCORES_INPUT_SQL, [batch_id], SCORES_INPUT_TABLES)
    query = LakeQuery(SCORES_INPUT_SQL, [batch_id], SCORES_INPUT_TABLES, batch_rows=batch_rows, slice_table="doc_signals",
                       slice_partition=(("batch_id", batch_id),))
    result = run_pooled(
        lake, engine, table="doc_scores", schema=DOC_SCORES, fn=score_batch, context=ctx, query=query,
        predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"], commit_metadata=commit_metadata,
        total=total,
    )
    domains: dict[str, int] = {}
    if result.written is not None and result.written.rows:
        with lake.connect(tables=["doc_scores"]) as con:
            domains = {str(d): int(n) for d, n in con.execute(
                "SELECT domain, count(*) FROM doc_scores WHERE batch_id = ? GROUP BY 1 ORDER BY 1", [batch_id]
            ).fetchall()}
    domain_model = Scorer(None, _placeholder(ctx.math), _placeholder(ctx.code)).domain_model
    result.extra.update(
        domains=domains,
        quality_model=ctx.quality.sha1 if ctx.quality else
        f"none ({(recs['quality'] or {}).get('reason') or 'never trained'})",
        domain_model=domain_model or "none",
    )
    return result


def _placeholder(ref: ModelRef | None) -> LoadedModel | None:
    """A LoadedModel carrying only the sha1 (for the model description; nothing is loaded)."""
    return None if ref is None else LoadedModel(ref.sha1, None)


#: The table `decide` writes: one row per document of a batch below the keep rule (REJECTIONS schema).
DECISIONS_TABLE = "quality_decisions"


def decide(lake: Lake, section: ClassifySection, batch_id: str, recipe_id: str,
           commit_metadata: Mapping[str, str] | None = None) -> tuple[WriteResult, dict]:
    """Apply the recipe's keep rule to the stored quality scores of the documents of `batch_id` the
    filter kept; replace the batch's `quality_decisions` slice. Returns (write, decision summary)."""
    filter_kept, _, _ = stage_sql(STAGE)
    with lake.connect(tables=["doc_signals", "rejections", "doc_scores"]) as con:
        rel = con.execute(
            f"SELECT s.doc_id, s.batch_id, s.quality_score FROM doc_scores s JOIN ({filter_kept}) k "
            "ON k.doc_id = s.doc_id WHERE s.batch_id = ? AND s.status = 'kept' ORDER BY s.doc_id",
            [batch_id],
        )
        rows = [{"doc_id": a, "batch_id": b, "quality_score": c} for a, b, c in rel.fetchall()]
    rejected, summary = quality_rejections(rows, keep_rule(section), recipe_id)
    written = lake.write(DECISIONS_TABLE, rows_to_batches(rejected, REJECTIONS), REJECTIONS,
                         predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
                         commit_metadata=commit_metadata)
    return written, summary
