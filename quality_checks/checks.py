"""Dagster asset checks. `candidate_gate` is blocking: training_corpus waits for it."""


import dagster as dg

from assets.ordering import OrderingResource, version_written_in_run, wait_for_earlier_batches
from assets.partitions import crawl_batches
from assets.step_load import LIGHT_STEP
from goldpan.release.promote import record_gate_attempt
from resources import LakeResource, RecipeResource

GATE_CODE_VERSION = "gate-v2"


def metrics_table(report) -> str:
    rows = {r["column"]: r for r in report.results if r["table"] == "release_metrics"}
    lines = ["| metric | observed | allowed | ok |", "|---|---|---|---|"]
    for name, (lo, hi) in sorted(report.bounds.items()):
        r = rows.get(name, {})
        obs = report.metrics.get(name)
        lines.append(f"| {name} | {'' if obs is None else obs} | {lo:.4g} .. {hi:.4g} | {'yes' if r.get('success') else 'NO'} |")
    return "\n".join(lines)


@dg.asset_check(
    asset="corpus_candidate",
    name="candidate_gate",
    blocking=True,
    op_tags=LIGHT_STEP,
    description="Great Expectations suite on the candidate (ids unique and non-null, text non-empty, "
    "languages of the recipe, minimum size) and on the funnel (input = kept + rejected + errored for "
    "every stage and batch). A failure stops promotion and is recorded in corpus_releases.",
)
def candidate_gate(context: dg.AssetCheckExecutionContext, lake: LakeResource, recipe: RecipeResource,
                   ordering: OrderingResource) -> dg.AssetCheckResult:
    from quality_checks.gate import validate_candidate  # imports GX, seconds: keep it out of load time

    # The release an earlier batch's run is promoting is the "previous release" this gate compares with.
    wait_for_earlier_batches(context, "training_corpus", ordering)
    lk, rc = lake.lake(), recipe.load()
    report = validate_candidate(lk, rc, version_written_in_run(context, "corpus_candidate"))
    attempt = record_gate_attempt(
        lk,
        passed=report.success,
        candidate_version=report.candidate_version,
        recipe_id=rc.recipe_id,
        recipe_sha1=rc.sha1,
        gate=report.as_json(),
        run_id=context.run.run_id,
        commit_metadata={"dagster_run_id": context.run.run_id, "code_version": GATE_CODE_VERSION},
        stats=report.stats,
        upstream=dict(report.snapshot.versions) if report.snapshot is not None else None,
    )
    failed = report.failed
    table = ["| table | expectation | column | unexpected | sample |", "|---|---|---|---|---|"] + [
        f"| {r['table']} | {r['expectation']} | {r['column'] or ''} | {r['unexpected_count'] or r['observed_value']} "
        f"| {', '.join(r['sample'])} |"
        for r in failed
    ]
    return dg.AssetCheckResult(
        passed=report.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "attempt_id": attempt["attempt_id"],
            "candidate_version": report.candidate_version,
            "expectations": len(report.results),
            "failed_expectations": dg.MetadataValue.md("\n".join(table)) if failed else "none",
            "documents": attempt["n_docs"],
            "tokens": attempt["n_tokens"],
            "tokens_by_source": dg.MetadataValue.json(report.stats.get("tokens_by_source", {})),
            "removed_vs_previous": dg.MetadataValue.json(report.stats.get("removed_vs_previous", {})),
            "metrics": dg.MetadataValue.md(metrics_table(report)),
        },
    )


STAGE_TABLES = {"pages": True, "consent": True, "documents": True, "dedup_clusters": True, "doc_signals": True,
                "rejections": True, "mix_decisions": False}  # table -> partitioned by crawl batch


def _stage_check(table: str, partitioned: bool):
    @dg.asset_check(
        asset=table,
        name=f"{table}_suite",
        op_tags=LIGHT_STEP,
        partitions_def=crawl_batches if partitioned else None,
        blocking=False,
        description=f"Great Expectations suite on {table}" + (" (one crawl batch)" if partitioned else "")
        + ": columns of goldpan/lake/schemas.py, ids non-null and unique, statuses, value ranges, and "
        "input = kept + rejected + errored for the stage.",
    )
    def _check(context: dg.AssetCheckExecutionContext, lake: LakeResource, recipe: RecipeResource) -> dg.AssetCheckResult:
        from quality_checks.gate import validate_stage

        batch = context.partition_key if partitioned and context.has_partition_key else None
        report = validate_stage(lake.lake(), recipe.load(), table, batch)
        failed = report.failed
        return dg.AssetCheckResult(
            passed=report.success,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "expectations": len(report.results),
                "delta_version": report.candidate_version,
                "failed_expectations": dg.MetadataValue.json(
                    [{k: r[k] for k in ("table", "expectation", "column", "unexpected_count", "sample")} for r in failed]
                ),
            },
        )

    return _check


STAGE_CHECKS = [_stage_check(t, p) for t, p in STAGE_TABLES.items()]
ASSET_CHECKS = [candidate_gate, *STAGE_CHECKS]
