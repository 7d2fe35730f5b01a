"""Mix stage assets: curated snapshots, token counts, recipe decisions with budgets, the candidate."""


import dagster as dg

from assets.common import counts_markdown, engine_for, materialize_result, metered, perf_metadata
from assets.ordering import (
    OrderingResource,
    batches_in_flight,
    version_written_in_run,
    wait_for_earlier_batches,
)
from assets.step_load import HEAVY_STEP, LIGHT_STEP
from goldpan.bpe import stage as bpe_stage
from goldpan.lake.schemas import CORPUS, CURATED_DOCUMENTS, MIX_DECISIONS
from resources import LakeResource, ModelsResource, RecipeResource

CURATED_CODE_VERSION = "curated-v1"
TOKENS_CODE_VERSION = "tokens-v1"
MIX_CODE_VERSION = "mix-v2"
CANDIDATE_CODE_VERSION = "candidate-v2"


@dg.asset(
    key="curated_documents",
    op_tags=LIGHT_STEP,
    group_name="mix",
    code_version=CURATED_CODE_VERSION,
    kinds={"delta"},
    description="Snapshot of the curated corpora the recipe lists (JSONL / Parquet / Delta), one row per "
    "record with its file and row number; empty when the recipe mixes only crawled documents.",
)
@metered
def curated_documents(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource,
                      models: ModelsResource) -> dg.MaterializeResult:
    from goldpan.mix.sources import SourceError
    from goldpan.mix.stage import write_curated

    lk, rc = lake.lake(), recipe.load()
    lid = None

    def identify(text: str):
        nonlocal lid
        if lid is None:
            lid = models.language_identifier()
        g = lid.identify(text)
        return g.lang, g.score

    try:
        written, counts = write_curated(lk, rc, identify, lake.commit_metadata(context, CURATED_CODE_VERSION))
    except SourceError as exc:
        raise dg.Failure(str(exc)) from None
    return materialize_result(lk, written, CURATED_DOCUMENTS, preview_columns=["source", "source_row", "lang", "title"],
                              extra={"records_by_source": dg.MetadataValue.json(counts)})


@dg.asset(
    key="doc_tokens",
    op_tags=HEAVY_STEP,
    group_name="mix",
    deps=["rejections", "quality_decisions", "documents", "dedup_clusters", "curated_documents", "synthetic_documents"],
    code_version=TOKENS_CODE_VERSION,
    kinds={"delta"},
    description="BPE token count (tiktoken GPT-2, offline) of every document the mix can select, counted once "
    "per text digest and reused by every later mix and release.",
)
def doc_tokens(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "doc_tokens", ordering)
    lk, rc = lake.lake(), recipe.load()
    run = bpe_stage.run(lk, rc.mix.tokenizer, engine=engine_for(rc), batch_rows=rc.engine.batch_rows * 4,
                           commit_metadata=lake.commit_metadata(context, TOKENS_CODE_VERSION))
    docs, tokens = run.meter.docs, run.extra["tokens"]
    with lk.connect(tables=["doc_tokens"]) as con:
        total_rows, total_tokens = con.sql("SELECT count(*), coalesce(sum(n_tokens), 0) FROM doc_tokens").fetchall()[0]
    version = lk.version("doc_tokens")
    return dg.MaterializeResult(
        metadata={
            "counted_now_docs": dg.MetadataValue.int(docs),
            "counted_now_tokens": dg.MetadataValue.int(tokens),
            "dagster/row_count": dg.MetadataValue.int(int(total_rows)),
            "tokens_all_rows": dg.MetadataValue.int(int(total_tokens)),
            "tokenizer": rc.mix.tokenizer,
            "delta_version": dg.MetadataValue.int(version),
            "table_uri": dg.MetadataValue.path(lk.uri("doc_tokens")),
            **perf_metadata(run),
        },
        data_version=dg.DataVersion(f"doc_tokens@{version}"),
    )


@dg.asset(
    key="mix_decisions",
    op_tags=HEAVY_STEP,
    group_name="mix",
    # consent: publishers' opt-out signals, decided here by the recipe's consent rules.
    deps=["rejections", "quality_decisions", "documents", "curated_documents", "doc_tokens", "consent",
          "synthetic_documents"],
    code_version=MIX_CODE_VERSION,
    kinds={"delta", "duckdb"},
    description="One row per document that passed dedup and filter (all batches) and per curated record: "
    "selected by the recipe (with its repeat count) or not, with the rule that left it out (language, "
    "domain, quality, takedown, tdm_reserved / noai / robots_ai_disallowed, contaminated, over_budget, ...). Fails when a target share cannot be met.",
)
@metered
def mix_decisions(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "mix_decisions", ordering)
    from goldpan.audit.takedowns import TakedownMatcher
    from goldpan.decontam.index import build_index
    from goldpan.mix import stage as mix_stage
    from goldpan.mix.budget import MixInfeasible

    lk, rc = lake.lake(), recipe.load()
    index = build_index(rc.decontam.eval_sets, rc.decontam.ngram) if rc.decontam.eval_sets else None
    try:
        in_flight = batches_in_flight(context)
        if in_flight:
            context.log.info(f"mix leaves out batches other runs are still processing: {sorted(in_flight)}")
        out = mix_stage.run(lk, rc, takedowns=TakedownMatcher.from_lake(lk), decontam=index,
                      commit_metadata=lake.commit_metadata(context, MIX_CODE_VERSION), skip_batches=in_flight,
                      engine=engine_for(rc) if index else None)
    except MixInfeasible as exc:
        context.log.error(f"{exc}\n{exc.plan.table()}")
        raise dg.Failure(
            description=str(exc),
            metadata={"mix_plan": dg.MetadataValue.md(exc.plan.table()), "problems": dg.MetadataValue.json(exc.plan.problems)},
        ) from None
    context.log.info("mix plan (target vs achieved):\n" + out.plan.table())
    extra = {
        "outcomes": dg.MetadataValue.md(counts_markdown(out.outcomes)),
        "rejected_by_rule": dg.MetadataValue.json(out.rules),
        "recipe_id": rc.recipe_id,
        "mix_plan": dg.MetadataValue.md(out.plan.table()),
        "mix_plan_json": dg.MetadataValue.json(out.plan.as_json()),
        "achieved_tokens": dg.MetadataValue.int(out.plan.achieved_total),
    }
    if index is not None:
        extra["eval_ngrams_indexed"] = dg.MetadataValue.int(len(index.keys))
        extra["eval_items_too_short"] = dg.MetadataValue.json(index.too_short)
    return materialize_result(lk, out.written, MIX_DECISIONS, preview_columns=["doc_id", "status", "rule", "source",
                              "repeat", "n_tokens"], extra=extra)


@dg.asset(
    key="corpus_candidate",
    op_tags=HEAVY_STEP,
    group_name="release",
    deps=["mix_decisions"],
    code_version=CANDIDATE_CODE_VERSION,
    kinds={"delta", "duckdb"},
    description="The documents the recipe selected, with PII-redacted text, tokens and provenance ids: what "
    "the quality gate validates and what training_corpus promotes.",
)
@metered
def corpus_candidate(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource) -> dg.MaterializeResult:
    wait_for_earlier_batches(context, "corpus_candidate", ordering)
    from goldpan.bpe.counter import TokenCounter
    from goldpan.release.candidate import write_candidate

    lk, rc = lake.lake(), recipe.load()
    # This run's mix, not a later batch's mix that another run wrote since (None: a candidate run on its own).
    out = write_candidate(lk, rc.release.redact_pii, TokenCounter(rc.mix.tokenizer),
                          lake.commit_metadata(context, CANDIDATE_CODE_VERSION),
                          mix_version=version_written_in_run(context, "mix_decisions"),
                          engine=engine_for(rc), batch_rows=rc.engine.batch_rows)
    if rc.release.redact_pii and not out.pii_applied:
        context.log.warning("PII redaction NOT applied: goldpan.filter.pii.redact_pii is not available")
    with lk.connect(tables=["corpus_candidate"]) as con:
        langs = dict(con.sql("SELECT lang, sum(n_tokens * repeat) FROM corpus_candidate GROUP BY 1 ORDER BY 2 DESC").fetchall())
        words, tokens = con.sql(
            "SELECT coalesce(sum(n_words * repeat), 0), coalesce(sum(n_tokens * repeat), 0) FROM corpus_candidate"
        ).fetchall()[0]
    return materialize_result(
        lk,
        out.written,
        CORPUS,
        preview_columns=["doc_id", "lang", "source", "n_tokens", "repeat", "title", "text"],
        extra={
            "tokens_by_lang": dg.MetadataValue.json({k: int(v) for k, v in langs.items()}),
            "words": dg.MetadataValue.int(int(words)),
            "tokens": dg.MetadataValue.int(int(tokens)),
            "pii_redaction": "applied" if out.pii_applied else ("unavailable" if rc.release.redact_pii else "off"),
            "pii_redactions": dg.MetadataValue.json(out.redactions),
            "docs_redacted": dg.MetadataValue.int(out.docs_redacted),
        },
    )
