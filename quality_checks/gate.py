"""The release gate: validate the corpus candidate and the whole funnel with Great Expectations.

Runs on pandas frames built by DuckDB: the candidate's ids, language and text length (not the text
itself) and the per-stage funnel. (GX's SQL datasource does not work with duckdb-engine here.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from goldpan.lake import Lake
from goldpan.lineage.funnel import FUNNEL_COLUMNS, compute_funnel
from goldpan.recipe import Recipe
from quality_checks.suites import candidate_expectations, funnel_expectations

CANDIDATE_FRAME_SQL = """
SELECT doc_id, page_id, batch_id, url, lang, repeat, length(coalesce(text, '')) AS text_chars
FROM corpus_candidate
"""


@dataclass
class GateReport:
    success: bool
    candidate_version: int
    results: list[dict] = field(default_factory=list)
    funnel: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.results if not r["success"]]

    def as_json(self) -> dict:
        return {"success": self.success, "results": self.results, "funnel": self.funnel}


def candidate_frame(lake: Lake, version: int) -> pd.DataFrame:
    with lake.connect(versions={"corpus_candidate": version}, tables=["corpus_candidate"]) as con:
        return con.sql(CANDIDATE_FRAME_SQL).df()


def funnel_frame(lake: Lake, candidate_version: int) -> pd.DataFrame:
    with lake.connect(versions={"corpus_candidate": candidate_version}) as con:
        rows = [r.__dict__ for r in compute_funnel(con)]
    df = pd.DataFrame(rows, columns=FUNNEL_COLUMNS)
    df["unbalanced"] = df["input"] - df["kept"] - df["rejected"] - df["errored"]
    return df


def _validate(ctx, name: str, df: pd.DataFrame, expectations: list) -> list[dict]:
    import great_expectations as gx

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


def validate_candidate(lake: Lake, recipe: Recipe, candidate_version: int | None = None) -> GateReport:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    version = lake.version("corpus_candidate") if candidate_version is None else candidate_version
    if version is None:
        raise RuntimeError("corpus_candidate has never been written")
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    cand = candidate_frame(lake, version)
    funnel = funnel_frame(lake, version)
    results = _validate(ctx, "corpus_candidate", cand, candidate_expectations(recipe))
    results += _validate(ctx, "funnel", funnel, funnel_expectations())
    return GateReport(
        success=all(r["success"] for r in results),
        candidate_version=version,
        results=results,
        funnel=funnel.to_dict(orient="records"),
    )
