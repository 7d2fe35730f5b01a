"""The release gate: validate the corpus candidate and the whole funnel with Great Expectations.

Runs on pandas frames built by DuckDB: the candidate's ids, language and text length (not the text
itself) and the per-stage funnel. (GX's SQL datasource does not work with duckdb-engine here.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from goldpan.lake import Lake
from goldpan.lake.releases import releases
from goldpan.lake.snapshot import Snapshot, of_commit
from goldpan.lake.views import FUNNEL_COLUMNS, compute_funnel
from goldpan.recipe import Recipe
from goldpan.release.stats import compute_stats, previous_release, stats_of
from quality_checks.gx_import import import_gx
from quality_checks.suites import (
    candidate_expectations,
    funnel_expectations,
    metric_expectations,
    schema_expectations,
)

CANDIDATE_FRAME_SQL = """
SELECT doc_id, page_id, batch_id, url, lang, source, repeat, n_tokens, length(coalesce(text, '')) AS text_chars
FROM corpus_candidate
"""


@dataclass
class GateReport:
    success: bool
    candidate_version: int
    results: list[dict] = field(default_factory=list)
    funnel: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    bounds: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    snapshot: Snapshot | None = None

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.results if not r["success"]]

    def as_json(self) -> dict:
        return {"success": self.success, "results": self.results, "funnel": self.funnel,
                "bounds": {k: list(v) for k, v in self.bounds.items()}, "metrics": self.metrics}


def candidate_frame(lake: Lake, version: int) -> pd.DataFrame:
    with lake.connect(versions={"corpus_candidate": version}, tables=["corpus_candidate"]) as con:
        return con.sql(CANDIDATE_FRAME_SQL).df()


def candidate_snapshot(lake: Lake, candidate_version: int) -> Snapshot:
    """The state the candidate was built from (recorded in its commit), with the candidate pinned: the
    gate judges exactly that, never a table another run is writing meanwhile."""
    recorded = of_commit(lake, "corpus_candidate", candidate_version)
    return (recorded or Snapshot({})).pinned(corpus_candidate=candidate_version)


def funnel_frame(lake: Lake, candidate_version: int, snapshot: Snapshot | None = None) -> pd.DataFrame:
    snap = snapshot or candidate_snapshot(lake, candidate_version)
    with lake.connect(snapshot=snap) as con:
        rows = [r.__dict__ for r in compute_funnel(con)]
    df = pd.DataFrame(rows, columns=FUNNEL_COLUMNS)
    df["unbalanced"] = df["input"] - df["kept"] - df["rejected"] - df["errored"]
    return df


def _validate(ctx, name: str, df: pd.DataFrame, expectations: list) -> list[dict]:
    gx = import_gx()

    batch = (
        ctx.data_sources.add_pandas(f"{name}_source")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name=f"{name}_suite", expectations=expectations)
    res = batch.validate(suite, result_format="SUMMARY")
    out = []
    for r in res.results:
        cfg = r.expectation_config
        out.append(
            {
                "table": name,
                "expectation": cfg.type,
                "column": cfg.kwargs.get("column"),
                "success": bool(r.success),
                "unexpected_count": (r.result or {}).get("unexpected_count"),
                "observed_value": (r.result or {}).get("observed_value"),
                "sample": [str(v) for v in ((r.result or {}).get("partial_unexpected_list") or [])[:5]],
            }
        )
    return out


def metric_bounds(recipe: Recipe, stats: dict, previous: dict) -> tuple[dict[str, float], dict[str, tuple]]:
    """The dataset-level metrics of this candidate and the band each must fall in (from the recipe
    and, for rates, from the previous release)."""
    g, mix = recipe.gate, recipe.mix
    values: dict[str, float] = {"contamination_hits": float(stats["contamination_hits"])}
    bounds: dict[str, tuple] = {"contamination_hits": (0, g.max_contamination_hits)}
    if mix.total_tokens:
        values["tokens_total"] = float(stats["tokens"])
        bounds["tokens_total"] = (mix.total_tokens * (1 - g.token_tolerance), mix.total_tokens * (1 + g.token_tolerance))
    shares = stats["share_by_source"] if mix.budget_by == "source" else stats["share_by_domain"]
    for k, target in mix.targets.items():
        values[f"share_{mix.budget_by}_{k}"] = float(shares.get(k, 0.0))
        bounds[f"share_{mix.budget_by}_{k}"] = (target - g.share_tolerance, target + g.share_tolerance)
    for src in mix.effective_sources:  # a source's maximum share (synthetic text): never above it
        if src.max_share is not None:
            values[f"max_share_source_{src.name}"] = float(stats["share_by_source"].get(src.name, 0.0))
            bounds[f"max_share_source_{src.name}"] = (0.0, src.max_share)
    for lang, target in g.language_shares.items():
        values[f"share_lang_{lang}"] = float(stats["share_by_lang"].get(lang, 0.0))
        bounds[f"share_lang_{lang}"] = (target - g.language_tolerance, target + g.language_tolerance)
    if previous:  # stability versus the last release: duplicate rate and every rule's removal rate
        values["dup_rate"] = float(stats["dup_rate"])
        p = float(previous.get("dup_rate", 0.0))
        bounds["dup_rate"] = (p - g.rate_band, p + g.rate_band)
        prev_rates = previous.get("rule_rates", {})
        for rule in sorted(set(prev_rates) | set(stats["rule_rates"])):
            name = "rate_" + rule.replace("/", "_")
            values[name] = float(stats["rule_rates"].get(rule, 0.0))
            p = float(prev_rates.get(rule, 0.0))
            bounds[name] = (p - g.rate_band, p + g.rate_band)
    return values, bounds


def validate_candidate(lake: Lake, recipe: Recipe, candidate_version: int | None = None, decontam=None) -> GateReport:
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    version = lake.version("corpus_candidate") if candidate_version is None else candidate_version
    if version is None:
        raise RuntimeError("corpus_candidate has never been written")
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    cand = candidate_frame(lake, version)
    snap = candidate_snapshot(lake, version)
    funnel = funnel_frame(lake, version, snap)
    if decontam is None and recipe.decontam.eval_sets:
        from goldpan.decontam.index import build_index

        decontam = build_index(recipe.decontam.eval_sets, recipe.decontam.ngram)
    previous = previous_release(releases(lake))
    stats = compute_stats(lake, version, previous, decontam, recipe.mix.budget_by, snapshot=snap)
    values, bounds = metric_bounds(recipe, stats, stats_of(previous))
    with lake.connect(versions={"corpus_candidate": version}, tables=["corpus_candidate"]) as con:
        empty = con.sql("SELECT * FROM corpus_candidate LIMIT 0").df()
    results = _validate(ctx, "corpus_candidate", cand, candidate_expectations(recipe))
    results += _validate(ctx, "corpus_candidate_schema", empty, schema_expectations("corpus_candidate"))
    results += _validate(ctx, "funnel", funnel, funnel_expectations())
    results += _validate(ctx, "release_metrics", pd.DataFrame([values]), metric_expectations(bounds))
    return GateReport(
        success=all(r["success"] for r in results),
        candidate_version=version,
        results=results,
        funnel=funnel.to_dict(orient="records"),
        stats=stats,
        bounds=bounds,
        metrics=values,
        snapshot=snap,
    )


STAGE_TABLE_FUNNEL = {"pages": "crawl", "documents": "extract", "dedup_clusters": "dedup", "doc_signals": "filter",
                      "mix_decisions": "mix"}


def validate_stage(lake: Lake, recipe: Recipe, table: str, batch: str | None = None) -> GateReport:
    """The GX suite of one stage table (one crawl batch of it when `batch` is given): schema from
    goldpan/lake/schemas.py, ids non-null and unique, statuses, value ranges, and the funnel
    invariant input = kept + rejected + errored for that stage."""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from goldpan.lake.delta import batch_predicate
    from quality_checks.suites import STAGE_FRAMES, schema_expectations, stage_expectations

    version = lake.version(table)
    if version is None:
        raise RuntimeError(f"{table} has never been written")
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    where = f"WHERE {batch_predicate('batch_id', batch)}" if batch else ""
    with lake.connect(tables=[table] + (["pages"] if table == "consent" else [])) as con:
        frame = con.sql(STAGE_FRAMES[table].format(where=where)).df()
        empty = con.sql(f"SELECT * FROM {table} LIMIT 0").df()
    results = _validate(ctx, table, frame, stage_expectations(table, recipe))
    results += _validate(ctx, f"{table}_schema", empty, schema_expectations(table))
    funnel_rows: list[dict] = []
    stage = STAGE_TABLE_FUNNEL.get(table)
    if stage is not None:
        with lake.connect() as con:
            rows = [r.__dict__ for r in compute_funnel(con, stages=[stage]) if batch is None or r.batch_id == batch]
        fdf = pd.DataFrame(rows, columns=FUNNEL_COLUMNS)
        fdf["unbalanced"] = fdf["input"] - fdf["kept"] - fdf["rejected"] - fdf["errored"]
        results += _validate(ctx, f"{table}_funnel", fdf, funnel_expectations([stage]))
        funnel_rows = fdf.to_dict(orient="records")
    return GateReport(success=all(r["success"] for r in results), candidate_version=version, results=results,
                      funnel=funnel_rows)
