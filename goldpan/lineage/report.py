"""Plain-text funnel report: rows in, kept, rejected (by rule) and errored for every stage."""

from __future__ import annotations

from collections import defaultdict

from goldpan.lake import Lake
from goldpan.lake.views import TOKEN_UNIT, FunnelRow, TokenRow, compute_funnel, rejection_counts, token_funnel


def stage_totals(rows: list[FunnelRow]) -> list[FunnelRow]:
    """Sum the per-batch funnel rows of each stage, keeping stage order."""
    acc: dict[str, list[int]] = {}
    for r in rows:
        a = acc.setdefault(r.stage, [0] * 6)
        for i, v in enumerate((r.input, r.kept, r.rejected, r.errored, r.missing, r.orphans)):
            a[i] += v
    return [FunnelRow(stage, "*", *vals) for stage, vals in acc.items()]


def token_totals(rows: list[TokenRow]) -> dict[str, tuple[int, int]]:
    """stage -> (tokens in, tokens lost), summed over batches."""
    acc: dict[str, list[int]] = {}
    for r in rows:
        a = acc.setdefault(r.stage, [0, 0])
        a[0] += r.tokens_in
        a[1] += r.tokens_lost
    return {k: (v[0], v[1]) for k, v in acc.items()}


def format_funnel(lake: Lake, batch_id: str | None = None) -> str:
    from goldpan.consent.report import consent_counts, format_consent

    with lake.connect() as con:
        rows = compute_funnel(con)
        rule_rows = rejection_counts(con)
        token_rows = token_funnel(con)
        consent = consent_counts(con)
    if batch_id is not None:
        def keep(r) -> bool:
            return r.batch_id == batch_id or r.stage in ("mix", "candidate")

        rows, token_rows = [r for r in rows if keep(r)], [r for r in token_rows if keep(r)]
    totals = stage_totals(rows)
    tokens = token_totals(token_rows)
    by_rule: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for stage, rule, n in rule_rows:
        by_rule[stage].append((rule or "?", n))
    header = f"{'stage':<10}{'in':>8}{'kept':>8}{'rejected':>10}{'errored':>9}{'tokens in':>11}{'tokens lost':>13}"
    out = [header + "   rejected by rule"]
    for r in totals:
        rules = ", ".join(f"{rule} {n}" for rule, n in by_rule.get(r.stage, []))
        flag = "" if r.balanced else f"   !! unbalanced: missing {r.missing}, orphans {r.orphans}"
        t_in, t_lost = (f"{v:,}" for v in tokens[r.stage]) if r.stage in tokens else ("-", "-")
        out.append(f"{r.stage:<10}{r.input:>8}{r.kept:>8}{r.rejected:>10}{r.errored:>9}{t_in:>11}{t_lost:>13}"
                   f"   {rules}{flag}")
    out.append(f"(tokens: {TOKEN_UNIT}; BPE tokens of the release are in `goldpan releases`)")
    if consent is not None:  # publishers' opt-outs: signals stored per page, excluded by the mix's consent rules
        out.append(format_consent(consent))
    return "\n".join(out)
