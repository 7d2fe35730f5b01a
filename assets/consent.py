"""Consent asset: one batch's pages -> `consent` (publishers' opt-out signals, decided later by the mix)."""

import dagster as dg

from assets.common import materialize_result
from assets.partitions import crawl_batches
from assets.step_load import LIGHT_STEP
from goldpan.lake import batch_predicate
from goldpan.lake.schemas import CONSENT
from resources import LakeResource, RecipeResource

CODE_VERSION = "consent-v1"


@dg.asset(
    key="consent",
    op_tags=LIGHT_STEP,
    group_name="crawl",
    partitions_def=crawl_batches,
    deps=["pages"],
    code_version=CODE_VERSION,
    kinds={"delta", "python"},
    description="One row per pages row of the batch (crawl or WARC): the publisher's opt-out signals -- "
    "TDMRep reservation and policy from HTTP headers, <meta> tags and the origin's tdmrep.json, X-Robots-Tag "
    "and meta robots directives (noai, noimageai, noindex), and which AI-training agents the origin's "
    "robots.txt version disallows the URL to. Signals only: the recipe's consent rules decide in the mix.",
)
def consent(context: dg.AssetExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.MaterializeResult:
    from goldpan.consent.stage import run
    from goldpan.crawl.settings import make_fetcher

    batch = context.partition_key
    lk, rc = lake.lake(), recipe.load()
    fetcher = None
    if rc.consent.warc_fetch_origin_files:  # WARC rows only: crawled rows use the versions their crawl stored
        fetcher = make_fetcher(rc.crawl)
    try:
        out = run(lk, batch, rc.consent, user_agent=rc.crawl.user_agent, fetcher=fetcher,
                  commit_metadata=lake.commit_metadata(context, CODE_VERSION))
    finally:
        if fetcher is not None:
            fetcher.close()
    context.log.info(f"consent[{batch}]: {out.counts}")
    return materialize_result(
        lk, out.written, CONSENT,
        preview_columns=["url", "tdm_reservation", "tdm_reservation_source", "x_robots_tag", "meta_robots",
                         "robots_ai_disallowed", "robots_status", "tdmrep_status"],
        where=batch_predicate("batch_id", batch),
        extra={"signals": dg.MetadataValue.json(out.counts), "policy_files_fetched": dg.MetadataValue.int(out.fetched_files),
               "recipe_id": rc.recipe_id},
    )  # fmt: skip
