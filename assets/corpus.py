"""Promotion asset: the gated training corpus and its release ledger."""


import dagster as dg

from assets.common import metered
from assets.ordering import OrderingResource, version_written_in_run, wait_for_earlier_batches
from assets.step_load import HEAVY_STEP
from goldpan.lineage.figures import release_markdown
from goldpan.release import stage as release_stage
from goldpan.release.promote import PromotionRefused
from resources import LakeResource, RecipeResource

CODE_VERSION = "promote-v1"

# Declarative automation must not bypass the gate either: blocking checks only stop downstream
# steps of the same run, so the condition also requires the candidate's blocking checks to pass.
GATED = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "training_corpus",
            group_name="release",
            deps=["corpus_candidate"],
            code_version=CODE_VERSION,
            kinds={"delta"},
            automation_condition=GATED,
            description="The promoted corpus: each promotion is one Delta version, copied from a candidate "
            "version the gate approved.",
        ),
        dg.AssetSpec(
            "corpus_releases",
            group_name="release",
            deps=["corpus_candidate"],
            code_version=CODE_VERSION,
            kinds={"delta"},
            automation_condition=GATED,
            description="One row per promotion attempt (the gate writes approved/refused; promotion turns "
            "an approval into promoted or unchanged): versions, recipe, gate results, counts.",
        ),
    ],
    op_tags=HEAVY_STEP,
)
@metered(unit="docs")
def training_corpus(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource, ordering: OrderingResource):
    wait_for_earlier_batches(context, "training_corpus", ordering)
    lk = lake.lake()
    try:  # this run's candidate; a promotion run on its own takes the latest (still needing its approval)
        out = release_stage.run(lk, recipe.load(), context.run.run_id,
                                candidate_version=version_written_in_run(context, "corpus_candidate"),
                                commit_metadata=lake.commit_metadata(context, CODE_VERSION))
    except PromotionRefused as exc:
        raise dg.Failure(str(exc)) from None
    attempt = out.attempt
    context.log.info(
        f"release {attempt['release']}: {attempt['status']} (training_corpus version {attempt['corpus_version']}, "
        f"{attempt['n_docs']} documents)"
    )
    yield dg.MaterializeResult(
        asset_key="training_corpus",
        metadata={**_corpus_metadata(lk, out), **{k: dg.MetadataValue.md(v) for k, v in release_markdown(lk).items()}},
        data_version=dg.DataVersion(f"training_corpus@{attempt['corpus_version']}"),
    )
    yield dg.MaterializeResult(
        asset_key="corpus_releases",
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(out.history)),
            "delta_version": dg.MetadataValue.int(lk.version("corpus_releases")),
            "latest_attempts": dg.MetadataValue.md(_attempts_md(out.history[-10:])),
        },
    )


def _corpus_metadata(lk, out) -> dict:
    attempt = out.attempt
    return {
        "release": attempt["release"],
        "status": attempt["status"],
        "corpus_version": dg.MetadataValue.int(attempt["corpus_version"]),
        "candidate_version": dg.MetadataValue.int(out.candidate_version),
        "dagster/row_count": dg.MetadataValue.int(attempt["n_docs"]),
        "words": dg.MetadataValue.int(attempt["n_words"]),
        "content_sha1": attempt["content_sha1"],
        "recipe_id": attempt["recipe_id"],
        "table_uri": dg.MetadataValue.path(lk.uri("training_corpus")),
        "takedowns_removed": dg.MetadataValue.json(out.taken_down),
    }


def _attempts_md(attempts: list[dict]) -> str:
    table = ["| release | status | corpus version | candidate version | documents | decided at |", "|---|---|---|---|---|---|"]
    table += [
        f"| {r['release'] or ''} | {r['status']} | {r['corpus_version'] if r['corpus_version'] is not None else ''} "
        f"| {r['candidate_version']} | {r['n_docs']} | {r['decided_at']:%Y-%m-%d %H:%M:%S} |"
        for r in attempts
    ]
    return "\n".join(table)
