"""Materialization metadata shared by every asset: row count, Delta version, schema, preview."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from goldpan.engine.memory import release_memory
from goldpan.engine.meter import StageMeter
from goldpan.lake import Lake, WriteResult

PREVIEW_ROWS = 5
PREVIEW_CHARS = 80


def table_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(f.name, str(f.type)) for f in schema])


def preview_markdown(lake: Lake, table: str, columns: list[str], where: str | None = None) -> str:
    """A few rows as a markdown table, long strings cut, so the UI shows what the run produced."""
    with lake.connect(tables=[table]) as con:
        rows = _preview_rows(con, table, columns, where)
    if not rows:
        return "_no rows_"
    esc = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _preview_rows(con, table: str, columns: list[str], where: str | None) -> list[tuple]:
    cols = ", ".join(
        f"CASE WHEN length(CAST({c} AS VARCHAR)) > {PREVIEW_CHARS} "
        f"THEN left(CAST({c} AS VARCHAR), {PREVIEW_CHARS}) || '…' ELSE CAST({c} AS VARCHAR) END AS {c}"
        for c in columns
    )
    sql = f"SELECT {cols} FROM {table}" + (f" WHERE {where}" if where else "") + f" LIMIT {PREVIEW_ROWS}"
    return con.sql(sql).fetchall()


def counts_markdown(counts: Mapping[str, int]) -> str:
    lines = ["| outcome | rows |", "|---|---|"] + [f"| {k} | {v} |" for k, v in counts.items()]
    return "\n".join(lines)


def materialize_result(
    lake: Lake,
    written: WriteResult,
    schema: pa.Schema,
    *,
    preview_columns: list[str],
    where: str | None = None,
    extra: Mapping[str, Any] | None = None,
    asset_key: dg.AssetKey | None = None,
) -> dg.MaterializeResult:
    metadata: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(written.rows),
        "dagster/column_schema": table_schema(schema),
        "delta_version": dg.MetadataValue.int(written.version),
        "table_uri": dg.MetadataValue.path(written.uri),
        "preview": dg.MetadataValue.md(preview_markdown(lake, written.table, preview_columns, where)),
    }
    metadata.update(extra or {})
    return dg.MaterializeResult(
        asset_key=asset_key,
        metadata=metadata,
        # The Delta version identifies the data: downstream is stale only when data really changed.
        data_version=dg.DataVersion(f"{written.table}@{written.version}" + (f"[{where}]" if where else "")),
    )


def engine_for(recipe):
    """The engine of this run: the recipe's `engine` section, overridden by GOLDPAN_ENGINE/GOLDPAN_WORKERS."""
    from goldpan.engine import make_engine

    return make_engine(recipe.engine)


def perf_metadata(run) -> dict[str, Any]:
    """Per-document throughput, peak memory of the process tree and the engine of a pooled stage run,
    with each worker's rows and rate (rows per busy second), so an uneven cluster shows in the UI."""
    p = run.perf()
    meta: dict[str, Any] = {
        "docs_per_s": dg.MetadataValue.float(float(p["docs_per_s"])),
        "stage_seconds": dg.MetadataValue.float(float(p["seconds"])),
        "peak_rss_mb": dg.MetadataValue.float(float(p["peak_rss_mb"])),
        "peak_rss_driver_mb": dg.MetadataValue.float(float(p["peak_rss_driver_mb"])),
        "peak_rss_max_worker_mb": dg.MetadataValue.float(float(p["peak_rss_max_worker_mb"])),
        "cpu_s": dg.MetadataValue.float(float(p["cpu_s"])),
        "cpu_ms_per_doc": dg.MetadataValue.float(float(p["cpu_ms_per_doc"])),
        "engine": f"{p['engine']} x{p['workers']}",
        "engine_kind": p["engine"],
        "engine_workers": dg.MetadataValue.int(int(p["workers"])),
    }
    if run.extra.get("lake_io"):  # "workers": the workers read and wrote the lake (Ray), else this process
        meta["lake_io"] = run.extra["lake_io"]
    return meta | per_worker_metadata(p.get("per_worker") or {})


def per_worker_metadata(per_worker: dict[str, dict[str, float]], unit: str = "docs") -> dict[str, Any]:
    """Each worker's rows, busy seconds and rate as a table, with the workers used and their mean rate."""
    if not per_worker:
        return {}
    rates = [w["rows_per_s"] for w in per_worker.values()]
    return {
        "workers_used": dg.MetadataValue.int(len(per_worker)),
        f"per_worker_{unit}_per_s": dg.MetadataValue.float(round(sum(rates) / len(rates), 1)),
        "per_worker": dg.MetadataValue.md(
            f"| worker | {unit} | busy s | {unit}/s |\n|---|---|---|---|\n" + "\n".join(
                f"| {w} | {int(v['rows'])} | {v['busy_s']} | {v['rows_per_s']} |" for w, v in per_worker.items())),
    }


def metered(fn=None, *, unit: str = "rows"):
    """Asset decorator (under `@dg.asset`): adds wall seconds, CPU seconds (this process and its workers),
    rows per second, CPU milliseconds per row and the peak RSS of the process tree during the step to every
    MaterializeResult the asset returns or yields, so the UI shows where the time and memory go for steps
    that do not run through the engine too. Rows are `dagster/row_count` (pages for `pages`, documents for
    the document tables and the release); `throughput_rows` in the metadata, when given, overrides them
    (e.g. the documents a step read where it writes few rows). `@metered(unit="pages")` also names the
    rate `pages_per_s` (and `docs` gives `docs_per_s`), as the pooled stages name theirs."""
    if fn is None:
        return lambda f: metered(f, unit=unit)
    import functools
    import inspect

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            with StageMeter() as meter:
                results = list(fn(*args, **kwargs))
            release_memory()  # what the step freed goes back to the OS, not into the next step's peak
            yield from (_with_meter(r, meter, unit) for r in results)

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with StageMeter() as meter:
            result = fn(*args, **kwargs)
        release_memory()  # what the step freed goes back to the OS, not into the next step's peak
        return _with_meter(result, meter, unit)

    return wrapper


def _with_meter(result, meter: StageMeter, unit: str):
    """`result` (a MaterializeResult; anything else passes through) with the step's meter figures added."""
    if not isinstance(result, dg.MaterializeResult):
        return result
    meta = dict(result.metadata or {})
    rows = meta.get("dagster/row_count")
    rows = getattr(rows, "value", rows)
    override = meta.pop("throughput_rows", None)
    rows = getattr(override, "value", override) if override is not None else rows
    meta.setdefault("stage_seconds", dg.MetadataValue.float(round(meter.wall_s, 3)))
    meta.setdefault("peak_rss_mb", dg.MetadataValue.float(round(meter.peak_rss / 2**20, 1)))
    meta.setdefault("peak_rss_driver_mb", dg.MetadataValue.float(round(meter.peak_driver_rss / 2**20, 1)))
    meta.setdefault("peak_rss_max_worker_mb", dg.MetadataValue.float(round(meter.peak_child_rss / 2**20, 1)))
    meta.setdefault("cpu_s", dg.MetadataValue.float(round(meter.total_cpu_s, 3)))
    if isinstance(rows, int) and meter.wall_s > 0:
        meta.setdefault("rows_per_s", dg.MetadataValue.float(round(rows / meter.wall_s, 1)))
        if unit != "rows":
            meta.setdefault(f"{unit}_per_s", dg.MetadataValue.float(round(rows / meter.wall_s, 1)))
    if isinstance(rows, int) and rows > 0:
        meta.setdefault("cpu_ms_per_row", dg.MetadataValue.float(round(1000 * meter.total_cpu_s / rows, 3)))
    return result._replace(metadata=meta)
