"""Models in the loop: `synthetic_documents` (rewrites, QA pairs, continuations of kept documents,
guarded for faithfulness) and `doc_perplexity` (a reference model's perplexity as a signal).

Both are per batch and opt-in in the recipe (`synthesize.enabled`, `synthesize.perplexity.enabled`):
a recipe without them materializes an empty result and starts no model server.
"""

import dagster as dg

from assets.common import materialize_result, metered
from assets.partitions import crawl_batches
from assets.step_load import HEAVY_STEP
from goldpan.lake import batch_predicate
from goldpan.lake.schemas import DOC_PERPLEXITY, SYNTHETIC_DOCUMENTS
from resources import LakeResource, LLMEndpointResource, ModelsResource, RecipeResource

SYNTH_CODE_VERSION = "synthetic_documents-v1"
PERPLEXITY_CODE_VERSION = "doc_perplexity-v3"  # v3: doc_scores reads it (no merge into doc_scores)


@dg.asset(
    key="synthetic_documents",
    op_tags=HEAVY_STEP,
    group_name="synthesize",
    partitions_def=crawl_batches,
    deps=["rejections", "doc_scores"],
    code_version=SYNTH_CODE_VERSION,
    kinds={"delta", "llm"},
    description="One row per model output (or failed request) for the recipe's synthesis tasks over this "
    "batch's filter-kept documents: parents, model (name, sha256, runtime), endpoint, prompt template and hash, "
    "sampling parameters and seed, tokens, latency, finish reason, text, and the faithfulness guard's verdict. "
    "Cached by (model, prompt, params, seed, parent text): a rerun sends no request.",
)
@metered
def synthetic_documents(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource,
                        llm: LLMEndpointResource, models: ModelsResource) -> dg.MaterializeResult:
    from goldpan.synthesize import stage as synth_stage

    batch, lk, rc = context.partition_key, lake.lake(), recipe.load()
    if not rc.synthesize.enabled or not rc.synthesize.tasks:
        return dg.MaterializeResult(metadata={"status": "disabled"}, data_version=dg.DataVersion("disabled"))
    lid = models.language_identifier()

    def identify(text: str):
        g = lid.identify(text)
        return g.lang, g.score

    out = synth_stage.run(lk, rc, batch, llm.config(), open_endpoint=llm.open, identify=identify,
                          run_id=context.run.run_id, commit_metadata=lake.commit_metadata(context, SYNTH_CODE_VERSION))
    if not out.balanced:
        raise dg.Failure(f"synthesize: selected != outputs + errors: {out.by_task}")
    meta = out.metadata()
    extra = {
        "requests": dg.MetadataValue.int(meta["requests"]),
        "cache_hits": dg.MetadataValue.int(meta["cache_hits"]),
        "tokens_spent": dg.MetadataValue.int(meta["tokens_spent"]),
        "tokens_out_per_s": dg.MetadataValue.float(float(meta["tokens_out_per_s"])),
        "errors": dg.MetadataValue.int(meta["errors"]),
        "by_task": dg.MetadataValue.json(out.by_task),
        "rules": dg.MetadataValue.json(out.rules),
        "endpoint": dg.MetadataValue.json(out.endpoint or {"note": "every output cached: no server started"}),
    }
    return materialize_result(lk, out.written, SYNTHETIC_DOCUMENTS,
                              preview_columns=["task", "status", "rule", "model_name", "tokens_out", "text"],
                              where=batch_predicate("batch_id", batch), extra=extra)


@dg.asset(
    key="doc_perplexity",
    op_tags=HEAVY_STEP,
    group_name="synthesize",
    partitions_def=crawl_batches,
    deps=["rejections"],
    code_version=PERPLEXITY_CODE_VERSION,
    kinds={"delta", "llm"},
    description="Perplexity of (a seeded sample of) this batch's filter-kept documents over their first N tokens "
    "under the recipe's reference model, with the model's sha256; doc_scores copies it (perplexity, "
    "ppl_logprob, ppl_model_sha256) for the sweep and the mix (mix.max_perplexity). Cached by (doc, text md5, model, N).",
)
@metered
def doc_perplexity(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource,
                   llm: LLMEndpointResource) -> dg.MaterializeResult:
    from goldpan.synthesize import perplexity_stage

    batch, lk, rc = context.partition_key, lake.lake(), recipe.load()
    section = rc.synthesize.perplexity
    if not section.enabled:
        return dg.MaterializeResult(metadata={"status": "disabled"}, data_version=dg.DataVersion("disabled"))
    out = perplexity_stage.run(lk, section, batch, llm.config(),
                               commit_metadata=lake.commit_metadata(context, PERPLEXITY_CODE_VERSION))
    return materialize_result(lk, out.written, DOC_PERPLEXITY,
                              preview_columns=["doc_id", "status", "n_tokens", "perplexity", "model_name"],
                              where=batch_predicate("batch_id", batch),
                              extra={"scored": out.scored, "errors": out.errors, "cache_hits": out.cache_hits,
                                     "docs_per_s": dg.MetadataValue.float(round(out.scored / out.seconds, 2)
                                                                          if out.seconds else 0.0),
                                     "model": dg.MetadataValue.json(out.model)})
