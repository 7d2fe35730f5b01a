"""Extract stage assets: kept pages of a batch -> `documents` (primary extraction) and
`document_variants` (the recipe's other extractors, compared with the primary)."""


from collections import Counter

import dagster as dg

from assets.common import counts_markdown, materialize_result
from assets.partitions import crawl_batches
from goldpan.extract.compare import summarize_pairs
from goldpan.extract.extractors import make_extractor
from goldpan.extract.stage import build_extractors, extract_documents, extract_variants
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DOCUMENT_VARIANTS, DOCUMENTS
from resources import LakeResource, ModelsResource, RecipeResource

CODE_VERSION = "extract-v3"

PAGES_SQL = (
    "SELECT page_id, batch_id, url, host, fetched_at, content, content_type, charset_declared, source, "
    "truncated, content_bytes "
    "FROM pages WHERE batch_id = ? AND status = 'kept' ORDER BY page_id"
)


def _counted(rows, outcomes: Counter, rules: Counter, context, batch: str):
    for i, r in enumerate(rows, 1):
        outcomes[r["status"]] += 1
        if r["rule"]:
            rules[r["rule"]] += 1
        if i % 1000 == 0:
            context.log.info(f"extracted {i} rows of batch {batch}")
        yield r


@dg.asset(
    key="documents",
    group_name="extract",
    partitions_def=crawl_batches,
    deps=["pages"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per kept page of the batch: main text by the recipe's first extractor "
    "(resiliparse by default), how it was decoded, title/description/canonical URL, registered "
    "domain, fastText language (+ second language, mixed flag), token/word/sentence counts; pages "
    "with no usable text are rejected with the rule, value and threshold; crashes are error rows.",
)
def documents(
    context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, models: ModelsResource
) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    cfg = rc.extract
    lid = models.language_identifier()
    pages = lk.iter_rows(PAGES_SQL, [batch], tables=["pages"], batch_size=64)
    outcomes: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    primary = build_extractors(cfg)[0]
    caps = {"crawl": rc.crawl.max_bytes, "warc": rc.warc.max_bytes, "wet": rc.warc.max_bytes}
    rows = _counted(extract_documents(pages, lid, cfg, primary, caps), outcomes, rules, context, batch)
    written = lk.write(
        "documents",
        rows_to_batches(rows, DOCUMENTS),
        DOCUMENTS,
        predicate=batch_predicate("batch_id", batch),
        partition_by=["batch_id"],
        commit_metadata=lake.commit_metadata(context, CODE_VERSION),
    )
    context.log.info(f"documents[{batch}]: {dict(outcomes)}; rules {dict(rules)}")
    where = batch_predicate("batch_id", batch)
    with lk.connect(tables=["documents"]) as con:
        langs = dict(
            con.sql(
                f"SELECT coalesce(lang, '(none)'), count(*) FROM documents WHERE {where} GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        enc = dict(
            con.sql(
                f"SELECT encoding || ' via ' || encoding_source, count(*) FROM documents WHERE {where} "
                "AND encoding IS NOT NULL GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        mixed = con.execute(f"SELECT count(*) FROM documents WHERE {where} AND lang_mixed").fetchone()[0]
    return materialize_result(
        lk,
        written,
        DOCUMENTS,
        preview_columns=["doc_id", "url", "status", "rule", "lang", "lang_score", "n_words", "encoding", "title", "text"],
        where=where,
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "rejected_by_rule": dg.MetadataValue.json(dict(rules)),
            "languages": dg.MetadataValue.json(langs),
            "encodings": dg.MetadataValue.json(enc),
            "mixed_language_docs": dg.MetadataValue.int(int(mixed)),
            "extractor": f"{primary[1].name} {primary[1].version} {primary[1].options_json}",
            "recipe_id": rc.recipe_id,
        },
    )


@dg.asset(
    key="document_variants",
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
    lid = models.language_identifier()
    pages = lk.iter_rows(PAGES_SQL, [batch], tables=["pages"], batch_size=64)
    outcomes: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    rows = _counted(extract_variants(pages, lid, cfg), outcomes, rules, context, batch)
    written = lk.write(
        "document_variants",
        rows_to_batches(rows, DOCUMENT_VARIANTS),
        DOCUMENT_VARIANTS,
        predicate=where,
        partition_by=["batch_id"],
        commit_metadata=lake.commit_metadata(context, CODE_VERSION),
    )
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
        },
    )
