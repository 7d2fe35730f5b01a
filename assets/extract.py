"""Extract stage asset: kept pages of a batch -> `documents` (main text, language, counts)."""


from collections import Counter

import dagster as dg

from assets.common import counts_markdown, materialize_result
from assets.partitions import crawl_batches
from goldpan.extract.stage import ExtractConfig, extract_documents
from goldpan.lake import batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import DOCUMENTS
from resources import LakeResource, ModelsResource, RecipeResource

CODE_VERSION = "extract-v1"


@dg.asset(
    key="documents",
    group_name="extract",
    partitions_def=crawl_batches,
    deps=["pages"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per kept page of the batch: resiliparse main text, encoding, fastText language, "
    "word/sentence counts; pages with no usable text are rejected with the rule, value and threshold.",
)
def documents(
    context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, models: ModelsResource
) -> dg.MaterializeResult:
    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    cfg = ExtractConfig(**rc.extract.model_dump())
    lid = models.language_identifier()
    pages = lk.iter_rows(
        "SELECT page_id, batch_id, url, host, fetched_at, content, content_type, charset_declared "
        "FROM pages WHERE batch_id = ? AND status = 'kept' ORDER BY page_id",
        [batch],
        tables=["pages"],
        batch_size=64,
    )
    outcomes: Counter[str] = Counter()
    rules: Counter[str] = Counter()

    def counted(rows):
        for i, r in enumerate(rows, 1):
            outcomes[r["status"]] += 1
            if r["rule"]:
                rules[r["rule"]] += 1
            if i % 1000 == 0:
                context.log.info(f"extracted {i} pages of batch {batch}")
            yield r

    written = lk.write(
        "documents",
        rows_to_batches(counted(extract_documents(pages, lid, cfg)), DOCUMENTS),
        DOCUMENTS,
        predicate=batch_predicate("batch_id", batch),
        partition_by=["batch_id"],
        commit_metadata=lake.commit_metadata(context, CODE_VERSION),
    )
    context.log.info(f"documents[{batch}]: {dict(outcomes)}; rules {dict(rules)}")
    return materialize_result(
        lk,
        written,
        DOCUMENTS,
        preview_columns=["doc_id", "url", "status", "rule", "lang", "n_words", "title", "text"],
        where=batch_predicate("batch_id", batch),
        extra={
            "outcomes": dg.MetadataValue.md(counts_markdown(outcomes)),
            "rejected_by_rule": dg.MetadataValue.json(dict(rules)),
            "recipe_id": rc.recipe_id,
        },
    )
