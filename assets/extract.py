"""Extract stage assets: kept pages of a batch -> `documents` (primary extraction) and
`document_variants` (the recipe's other extractors, compared with the primary)."""


import dagster as dg

from assets.common import counts_markdown, engine_for, materialize_result, perf_metadata
from assets.partitions import crawl_batches
from assets.step_load import HEAVY_STEP, LIGHT_STEP
from goldpan.extract import stage as extract_stage
from goldpan.extract.compare import summarize_pairs
from goldpan.extract.extractors import make_extractor
from goldpan.extract.line_model import load_line_model
from goldpan.extract.model_registry import register_line_model
from goldpan.extract.stage import build_extractors
from goldpan.lake import batch_predicate
from goldpan.lake.schemas import DOCUMENT_VARIANTS, DOCUMENTS
from resources import LakeResource, ModelsResource, RecipeResource

# v4: truncated pages rejected (rule truncated) unless extract.keep_truncated; v5: line features read
# the markup around each line. The shipped line model's sha1 is part of the version, so a retrained
# model (and only that, or a code change) makes Dagster see the batches' documents as stale.
CODE_VERSION = f"extract-v5+lines-{load_line_model('shipped:line_model.json').sha1[:12]}"


def _byte_caps(rc) -> dict[str, int]:
    """The byte cap each page source was cut at: the threshold of a `truncated` rejection."""
    return {"crawl": rc.crawl.max_bytes, "warc": rc.warc.max_bytes, "wet": rc.warc.max_bytes}


@dg.asset(
    key="documents",
    op_tags=HEAVY_STEP,
    group_name="extract",
    partitions_def=crawl_batches,
    deps=["pages"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per kept page of the batch: main text by the recipe's first extractor "
    "(goldpan by default: resiliparse + learned line classifier), which path answered, how it was "
    "decoded, title/description/canonical URL, registered domain, fastText language (+ second language, mixed flag), token/word/sentence counts; pages "
    "with no usable text are rejected with the rule, value and threshold; crashes are error rows.",
)
def documents(
    context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, models: ModelsResource
) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    run = extract_stage.run(lk, rc.extract, batch, engine=engine_for(rc), lid_model_path=models.lid_model_path,
                            commit_metadata=lake.commit_metadata(context, CODE_VERSION),
                            batch_rows=max(1, rc.engine.batch_rows // 2), byte_caps=_byte_caps(rc))
    context.log.info(f"documents[{batch}]: {dict(run.outcomes)}; rules {dict(run.extra['rules'])}; {run.perf()}")
    where = batch_predicate("batch_id", batch)
    primary = build_extractors(rc.extract)[0][1]
    line_model = getattr(primary, "line_model", None)
    if line_model is not None and register_line_model(lk, line_model, rc.recipe_id, context.run.run_id,
                                                      lake.commit_metadata(context, CODE_VERSION)):
        context.log.info(f"documents[{batch}]: line model {line_model.sha1} recorded in `models`")
    return materialize_result(
        lk, run.written, DOCUMENTS,
        preview_columns=["doc_id", "url", "status", "rule", "lang", "lang_score", "n_words", "encoding", "title", "text"],
        where=where,
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(run.outcomes)),
            "rejected_by_rule": dg.MetadataValue.json(dict(run.extra["rules"])),
            **document_profile(lk, where),
            "extractor": f"{primary.name} {primary.version} {primary.options_json}",
            "recipe_id": rc.recipe_id,
            **perf_metadata(run),
        },
    )


def document_profile(lk, where: str) -> dict:
    """Languages, encodings and mixed-language count of the batch's documents, for the UI."""
    with lk.connect(tables=["documents"]) as con:
        langs = dict(con.sql(f"SELECT coalesce(lang, '(none)'), count(*) FROM documents WHERE {where} "
                             "GROUP BY 1 ORDER BY 2 DESC").fetchall())
        enc = dict(con.sql(f"SELECT encoding || ' via ' || encoding_source, count(*) FROM documents WHERE {where} "
                           "AND encoding IS NOT NULL GROUP BY 1 ORDER BY 2 DESC").fetchall())
        mixed = con.execute(f"SELECT count(*) FROM documents WHERE {where} AND lang_mixed").fetchone()[0]
    return {"languages": dg.MetadataValue.json(langs), "encodings": dg.MetadataValue.json(enc),
            "mixed_language_docs": dg.MetadataValue.int(int(mixed))}


@dg.asset(
    key="document_variants",
    op_tags=LIGHT_STEP,
    group_name="extract",
    partitions_def=crawl_batches,
    deps=["pages", "documents"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="Extra extractions of the batch's kept HTML pages by the recipe's other extractors "
    "(same columns as documents), for comparison only; metadata compares each with the primary "
    "(mean token F1, lengths). Empty when the recipe lists one extractor.",
)
def document_variants(
    context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, models: ModelsResource
) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    cfg = rc.extract
    where = batch_predicate("batch_id", batch)
    run = extract_stage.run(lk, cfg, batch, engine=engine_for(rc), lid_model_path=models.lid_model_path,
                            commit_metadata=lake.commit_metadata(context, CODE_VERSION), variants=True,
                            batch_rows=max(1, rc.engine.batch_rows // 2), byte_caps=_byte_caps(rc))
    written, outcomes, rules = run.written, run.outcomes, run.extra["rules"]
    comparison: dict[str, dict] = {}
    for spec in cfg.extractors[1:]:
        ext_name = spec.name
        sql = (
            "SELECT d.text, v.text, d.lang FROM documents d JOIN document_variants v USING (page_id) "
            f"WHERE d.{where} AND v.{where} AND v.extractor_options = ? AND v.extractor = ? "
            "AND d.extractor <> 'plaintext'"
        )
        opts = make_extractor(spec.name, spec.options).options_json
        with lk.connect(tables=["documents", "document_variants"]) as con:
            pairs = con.sql(sql, params=[opts, ext_name]).fetchall()
        comparison[spec.key] = summarize_pairs(pairs)
    context.log.info(f"document_variants[{batch}]: {dict(outcomes)}; vs primary {comparison}")
    return materialize_result(
        lk,
        written,
        DOCUMENT_VARIANTS,
        preview_columns=["doc_id", "url", "extractor", "status", "rule", "lang", "n_words", "text"],
        where=where,
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "rejected_by_rule": dg.MetadataValue.json(dict(rules)),
            "primary": cfg.extractors[0].key,
            "comparison_with_primary": dg.MetadataValue.json(comparison),
            "recipe_id": rc.recipe_id,
            **perf_metadata(run),
        },
    )
