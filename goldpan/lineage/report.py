"""Plain-text funnel report: rows in, kept, rejected (by rule) and errored for every stage."""

from __future__ import annotations

from collections import defaultdict

from goldpan.lake import Lake
from goldpan.lake.views import FunnelRow, compute_funnel, rejection_counts


def stage_totals(rows: list[FunnelRow]) -> list[FunnelRow]:
    """Sum the per-batch funnel rows of each stage, keeping stage order."""
    acc: dict[str, list[int]] = {}
    for r in rows:
        a = acc.setdefault(r.stage, [0] * 6)
        for i, v in enumerate((r.input, r.kept, r.rejected, r.errored, r.missing, r.orphans)):
            a[i] += v
    return [FunnelRow(stage, "*", *vals) for stage, vals in acc.items()]


def format_funnel(lake: Lake, batch_id: str | None = None) -> str:
    with lake.connect() as con:
        rows = compute_funnel(con)
        rule_rows = rejection_counts(con)
    if batch_id is not None:
        rows = [r for r in rows if r.batch_id == batch_id or r.stage in ("mix", "candidate")]
    totals = stage_totals(rows)
    by_rule: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for stage, rule, n in rule_rows:
        by_rule[stage].append((rule or "?", n))
    out = [f"{'stage':<10}{'in':>8}{'kept':>8}{'rejected':>10}{'errored':>9}   rejected by rule"]
    for r in totals:
        rules = ", ".join(f"{rule} {n}" for rule, n in by_rule.get(r.stage, []))
        flag = "" if r.balanced else f"   !! unbalanced: missing {r.missing}, orphans {r.orphans}"
        out.append(f"{r.stage:<10}{r.input:>8}{r.kept:>8}{r.rejected:>10}{r.errored:>9}   {rules}{flag}")
    return "\n".join(out)
