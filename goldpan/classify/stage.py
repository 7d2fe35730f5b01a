"""The classify stage's per-batch entry points: `run` writes `doc_scores` (quality, math and code
scores) of a batch; `decide` writes the keep rule's rejections of that batch (`quality_decisions`).

The models are trained across batches (`quality_model`, `domain_models`); scoring one batch is pure
per-document work, run on the engine's workers. Each worker loads a model once, by path and sha1.
Deciding is cheap and separate, so a threshold change re-decides without re-scoring.

Scoring runs in one pass with the three models in each worker when their files together fit
`classify.one_pass_max_mb` (the default size, ~15 MB a model), and on Ray, whose workers read their
slices and write parts themselves. Above the budget it runs one model at a time: a pass of the engine
over the input per model (a worker holds one model), then one pass on this process that joins the
probabilities with the rows into `doc_scores`. Measured on 6,000 real pages with 2 workers: at DCLM's
size (~100 MB a model) the three models in both workers were the peak of the whole graph (+600 MB);
the passes cost re-reading the input and re-preprocessing each text (~0.25 ms per document per extra
model, against 0.13 ms to predict).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import pyarrow as pa

from goldpan.classify.config import keep_rule
from goldpan.classify.decide import STAGE, quality_rejections
from goldpan.classify.model import line_probability, load
from goldpan.classify.registry import latest_model, local_model_path
from goldpan.classify.scores import LoadedModel, Scorer
from goldpan.classify.text import fasttext_line
from goldpan.engine import Engine, InProcessEngine, worker_cache
from goldpan.engine.meter import StageMeter
from goldpan.engine.pooled import StageRun, count_rows, finish_run, run_pooled, start_run
from goldpan.engine.slices import LakeQuery
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.delta import WriteResult, rows_to_batches
from goldpan.lake.schemas import DOC_SCORES, DOC_SCORES_PERPLEXITY, ERROR, KEPT, REJECTIONS
from goldpan.lake.views import CURRENT_TEXT_SQL, stage_sql
from goldpan.recipe import ClassifySection

# Every document with computed signals, with its current text, and its perplexity when the recipe's
# perplexity step (goldpan.synthesize.perplexity_stage, before this stage) scored it: doc_scores has
# one writer, this stage, and carries the perplexity for the sweep and the mix.
_SCORES_FROM = (
    "FROM doc_signals s "
    "JOIN documents d ON d.doc_id = s.doc_id LEFT JOIN dedup_clusters c ON c.doc_id = s.doc_id "
    "LEFT JOIN doc_perplexity p ON p.doc_id = s.doc_id AND p.batch_id = s.batch_id AND p.status = 'kept' "
    "WHERE s.batch_id = ? AND s.status = 'kept' ORDER BY s.doc_id"
)
_PERPLEXITY_COLUMNS = ("p.perplexity, p.mean_logprob AS ppl_logprob, p.n_tokens AS ppl_tokens, p.model_name AS ppl_model, "
                       "p.model_sha256 AS ppl_model_sha256")
SCORES_INPUT_SQL = f"SELECT s.doc_id, s.batch_id, {CURRENT_TEXT_SQL} AS text, {_PERPLEXITY_COLUMNS} {_SCORES_FROM}"
# The same rows in the same order, for the passes (a model needs the text only) and the join (no text).
SCORES_PASS_SQL = f"SELECT s.doc_id, {CURRENT_TEXT_SQL} AS text {_SCORES_FROM}"
SCORES_JOIN_SQL = (f"SELECT s.doc_id, s.batch_id, coalesce({CURRENT_TEXT_SQL}, '') <> '' AS has_text, "
                   f"{_PERPLEXITY_COLUMNS} {_SCORES_FROM}")
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
    # stage_local: used by this stage only (~20 MB each at the default size, ~100 MB at DCLM's); the next stage's batches free them in the worker
    return LoadedModel(ref.sha1, worker_cache(("fasttext", ref.sha1, ref.path), lambda: load(ref.path),
                                              stage_local=True))


def score_batch(docs: pa.RecordBatch, ctx: ScoreContext) -> pa.RecordBatch:
    """Engine batch function: (doc_id, batch_id, text) rows -> `doc_scores` rows, same order, with all
    three models at once: the one pass of engines whose workers read and write the lake (Ray).

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


#: The models a document is scored with, in the order a failing one names the error (as `score_batch`).
MODELS = ("quality", "math", "code")
PROBS = pa.schema([("doc_id", pa.string()), ("p", pa.float64()), ("error", pa.string())])  # a pass's output


@dataclass(frozen=True)
class ModelPass:
    """One model's pass over the stage's input: the worker loads only this model."""

    model: ModelRef
    max_chars: int

    @property
    def stage_key(self) -> str:
        # goldpan.engine.cache.stage_of: a pass with another model is another stage for the worker
        # cache, so the previous pass's model is dropped before this one is loaded.
        return self.model.sha1


def probability_batch(docs: pa.RecordBatch, mp: ModelPass) -> pa.RecordBatch:
    """Engine batch function: one model's P(positive) for each (doc_id, text) row, same order; null for
    a row without text, and null with the error for a row the model cannot score (one bad text does
    not fail the batch)."""
    model = worker_cache(("fasttext", mp.model.sha1, mp.model.path), lambda: load(mp.model.path),
                         stage_local=True)
    texts = docs.column("text").to_pylist()
    probs: list[float | None] = [None] * len(texts)
    errors: list[str | None] = [None] * len(texts)
    ok = [i for i, t in enumerate(texts) if t]
    try:
        lines = [fasttext_line(texts[i], mp.max_chars) for i in ok]
        for i, p in zip(ok, line_probability(model, lines).tolist(), strict=True):
            probs[i] = p
    except Exception:  # noqa: BLE001 -- isolate the document that fails, below
        for i in ok:
            try:
                probs[i] = float(line_probability(model, [fasttext_line(texts[i], mp.max_chars)])[0])
            except Exception as exc:  # noqa: BLE001 -- one document's failure is its error row
                errors[i] = f"score_error: {type(exc).__name__}: {exc}"[:500]
    return pa.RecordBatch.from_arrays([docs.column("doc_id"), pa.array(probs, pa.float64()),
                                       pa.array(errors, pa.string())], schema=PROBS)


@dataclass(frozen=True)
class AssembleContext:
    domain_model: str | None
    quality_sha1: str | None
    label_threshold: float


def assemble_batch(docs: pa.RecordBatch, ctx: AssembleContext) -> pa.RecordBatch:
    """Input rows (SCORES_JOIN_SQL: `has_text` instead of the text) with each model's probability and
    error (`<model>_p`, `<model>_error` columns) ->
    `doc_scores` rows, as `Scorer.score_batch` makes them (same status, reason, domain rule)."""
    scorer = Scorer(None, None, None, label_threshold=ctx.label_threshold)
    rows = docs.to_pylist()
    cols: dict[str, list] = {name: [] for name in DOC_SCORES.names}
    for r in rows:
        error = next((r[f"{m}_error"] for m in MODELS if r.get(f"{m}_error")), None)
        if error is not None:  # as score_batch's per-document fallback: every other column null
            for name in DOC_SCORES.names:
                cols[name].append(None)
            cols["doc_id"][-1], cols["batch_id"][-1] = r["doc_id"], r["batch_id"]
            cols["status"][-1], cols["reason"][-1] = ERROR, error
            continue
        good = bool(r["has_text"])
        q, ma, co = r.get("quality_p"), r.get("math_p"), r.get("code_p")
        cols["doc_id"].append(r["doc_id"])
        cols["batch_id"].append(r["batch_id"])
        cols["status"].append(KEPT if good else ERROR)
        cols["reason"].append(None if good else "no_text")
        cols["quality_score"].append(q)
        cols["quality_model"].append(ctx.quality_sha1 if good else None)
        cols["math_score"].append(ma)
        cols["code_score"].append(co)
        cols["domain"].append(scorer.domain_of(ma, co) if good else None)
        cols["domain_model"].append(ctx.domain_model if good else None)
        for name in DOC_SCORES_PERPLEXITY:
            cols[name].append(r.get(name))
    return pa.RecordBatch.from_pydict(cols, schema=DOC_SCORES)


@dataclass
class PassResult:
    """One model's probabilities and errors, batch by batch, with a digest of each batch's doc ids."""

    probs: list[pa.Array]
    errors: list[pa.Array]
    digests: list[bytes]

    @classmethod
    def collect(cls, batches: Iterator[pa.RecordBatch]) -> PassResult:
        res = cls([], [], [])
        for b in batches:  # the doc ids are not kept: 8 bytes per document and model, plus a digest per batch
            res.probs.append(b.column("p"))
            res.errors.append(b.column("error"))
            res.digests.append(_ids_digest(b.column("doc_id")))
        return res


def _ids_digest(ids: pa.Array) -> bytes:
    return hashlib.blake2b("\n".join(ids.to_pylist()).encode(), digest_size=16).digest()


def _with_probabilities(batches, passes: dict[str, PassResult]) -> Iterator[pa.RecordBatch]:
    """The input batches with each model's `<model>_p` / `<model>_error` columns, joined by position:
    every pass read the same snapshot with the same query and batch size, so batch k of a pass holds
    the rows of input batch k (checked on a digest of the doc ids)."""
    for k, b in enumerate(batches):
        n = b.num_rows
        arrays, names = list(b.columns), list(b.schema.names)
        for m in MODELS:
            res = passes.get(m)
            if res is None:
                arrays += [pa.nulls(n, pa.float64()), pa.nulls(n, pa.string())]
            elif k >= len(res.digests) or res.digests[k] != _ids_digest(b.column("doc_id")):
                raise RuntimeError(f"doc_scores: the {m} pass read other rows than the input in batch {k}")
            else:
                arrays += [res.probs[k], res.errors[k]]
            names += [f"{m}_p", f"{m}_error"]
        yield pa.RecordBatch.from_arrays(arrays, names=names)


def _ref(rec: dict | None, storage_options) -> ModelRef | None:
    if not rec or rec.get("status") != "trained" or not rec.get("path"):
        return None
    return ModelRef(rec["sha1"], local_model_path(rec["path"], rec["sha1"], storage_options))


def score_context(lake: Lake, section: ClassifySection,
                  run_id: str | None = None) -> tuple[ScoreContext, dict[str, dict | None]]:
    """The latest trained models (fetched to local files once, on the driver) and the `models` rows;
    with `run_id`, the models that run trained where it trained them (see `registry.latest_model`)."""
    recs = {n: latest_model(lake, n, prefer_run=run_id) for n in ("quality", "math", "code")}
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
    run_id: str | None = None,
) -> StageRun:
    """Score every document of `batch_id` that has signals with the latest models (one commit): those
    run `run_id` trained when it trained any, so that concurrent runs score as sequential ones."""
    ctx, recs = score_context(lake, section, run_id)
    snapshot = lake.snapshot(SCORES_INPUT_TABLES)  # every pass reads the same rows
    total = count_rows(lake, SCORES_INPUT_SQL, [batch_id], SCORES_INPUT_TABLES)
    query = LakeQuery(SCORES_INPUT_SQL, [batch_id], SCORES_INPUT_TABLES, batch_rows=batch_rows, slice_table="doc_signals",
                       slice_partition=(("batch_id", batch_id),), tasks_per_worker=1)  # light: ~0.3 ms a document
    if one_pass(engine, ctx, section.one_pass_max_mb):
        # One pass with the three models per worker: on Ray, whose workers read their slices and write
        # parts themselves, so the driver does no I/O; elsewhere when the three fit the recipe's budget
        # (the input read and each text preprocessed once). The rows are the passes' rows.
        result = run_pooled(
            lake, engine, table="doc_scores", schema=DOC_SCORES, fn=score_batch, context=ctx, query=query,
            predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
            commit_metadata=commit_metadata, total=total,
        )
        result.extra["scoring_passes"] = 1
        return _described(lake, batch_id, ctx, recs, result)
    passes_run, before = start_run(engine)
    with StageMeter() as meter:
        passes: dict[str, PassResult] = {}
        for m in MODELS:
            ref = getattr(ctx, m)
            if ref is not None:  # one model at a time on the workers (see the module docstring)
                passes[m] = PassResult.collect(engine.map_batches(
                    probability_batch, replace(query, sql=SCORES_PASS_SQL).batches(lake, snapshot),
                    ModelPass(ref, ctx.max_chars)))
        joined = AssembleContext(
            domain_model=Scorer(None, _placeholder(ctx.math), _placeholder(ctx.code)).domain_model,
            quality_sha1=ctx.quality.sha1 if ctx.quality else None, label_threshold=ctx.label_threshold)
        result = run_pooled(
            lake, InProcessEngine(), table="doc_scores", schema=DOC_SCORES, fn=assemble_batch, context=joined,
            inputs=_with_probabilities(replace(query, sql=SCORES_JOIN_SQL).batches(lake, snapshot), passes),
            predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
            commit_metadata=commit_metadata, total=total,
        )
        meter.docs = result.meter.docs
    finish_run(passes_run, engine, before)
    result.meter, result.engine, result.workers = meter, engine.name, engine.workers
    result.per_worker = passes_run.per_worker
    result.extra["scoring_passes"] = len(passes)
    return _described(lake, batch_id, ctx, recs, result)


def one_pass(engine: Engine, ctx: ScoreContext, max_mb: float) -> bool:
    """Whether the batch is scored in one pass with every model loaded at once: always on an engine that
    asks for it (Ray), else when the model files together are at most `max_mb` (each worker holds them all).
    Why not always: at DCLM's size (dim 100, 200k buckets: ~100 MB a model) the three models in both
    workers were the peak of the whole graph (+600 MB on 6,000 real pages); at the default size
    (~15 MB each) one pass spares two reads of the input and two preprocessings of every text."""
    if getattr(engine, "one_pass_scoring", False):
        return True
    total = 0
    for ref in (ctx.quality, ctx.math, ctx.code):
        if ref is not None:
            try:
                total += os.path.getsize(ref.path)
            except OSError:
                return False
    return total <= max_mb * 2**20


def _described(lake: Lake, batch_id: str, ctx: ScoreContext, recs: dict, result: StageRun) -> StageRun:
    """`result` with the batch's domain counts and the models it was scored with (for the metadata)."""
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
