"""Threshold sweep: how many documents and tokens each threshold of one rule keeps, from stored signals.

Why from stored signals: choosing a threshold is a question about the whole corpus ("what does 0.7
instead of 0.8 cost in tokens, per language and source?"). With signals in `doc_signals` this is one
DuckDB aggregate over a narrow column, answered in well under a second, with no re-tokenisation.

Two curves per (language, source):
- `alone`: documents the swept rule alone would keep at each threshold;
- `with_others`: documents kept at that threshold that no *other* rule of the stored decisions
  (`rejections`, stage filter) rejected: what the filtered corpus would hold.
Tokens are `doc_signals.n_tokens` (the shared tokeniser's tokens: spaCy words and punctuation,
characters for Chinese), the unit every filter signal is computed in.
A document whose signal is null (e.g. no stop-word list for its language) passes, as in `rules.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from goldpan.filter.rules import Rule, RuleSet


@dataclass(frozen=True)
class SweepPoint:
    lang: str
    source: str
    threshold: float
    docs: int
    docs_total: int
    tokens: int
    tokens_total: int
    docs_with_others: int
    tokens_with_others: int
    current: bool  # this is the recipe's threshold for the language


def find_spec(ruleset: RuleSet, rule: str, lang: str | None) -> Rule:
    """The swept rule (its signal column, op and threshold) in the language's section (two-sided rules:
    name a side)."""
    rules = ruleset.rules_for(lang)
    exact = [r for r in rules if r.name == rule]
    if exact:
        return exact[0]
    sides = [r for r in rules if r.name.startswith(rule + "_")]
    if len(sides) == 1:
        return sides[0]
    if sides:
        raise ValueError(f"rule {rule!r} has two sides: sweep one of {', '.join(r.name for r in sides)}")
    known = ", ".join(sorted(r.name for r in rules))
    raise ValueError(f"rule {rule!r} is not in the recipe for language {lang or 'default'!r}; known: {known}")


def sweep(
    con,
    ruleset: RuleSet,
    rule: str,
    thresholds: Sequence[float] | None = None,
    lang: str | None = None,
    source: str | None = None,
    batch: str | None = None,
    points: int = 11,
) -> list[SweepPoint]:
    """Kept documents/tokens per (lang, source, threshold). `con` = DuckDB with the lake's tables.

    Without `thresholds`, each language gets `points` thresholds spread over its signal's observed
    range (deciles), plus the recipe's own threshold.
    """
    where, params = ["s.status = 'kept'"], []
    if lang:
        where.append("s.lang = ?")
        params.append(lang)
    if batch:
        where.append("s.batch_id = ?")
        params.append(batch)
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    src = "COALESCE(p.source, 'crawl')" if {"documents", "pages"} <= have else "'unknown'"
    joins = "LEFT JOIN documents d ON d.doc_id = s.doc_id LEFT JOIN pages p ON p.page_id = d.page_id" if (
        {"documents", "pages"} <= have) else ""
    langs = [r[0] for r in con.execute(
        f"SELECT DISTINCT COALESCE(s.lang, 'unknown') FROM doc_signals s WHERE {' AND '.join(where)} ORDER BY 1",
        params).fetchall()]
    out: list[SweepPoint] = []
    for lg in langs:
        spec = find_spec(ruleset, rule, None if lg == "unknown" else lg)
        col = '"' + spec.column.replace('"', "") + '"'
        others = (
            "s.doc_id IN (SELECT doc_id FROM rejections WHERE stage = 'filter' AND rule <> ?)"
            if "rejections" in have else "false"
        )
        base = (
            f"SELECT s.doc_id, {src} AS source, s.{col} AS v, COALESCE(s.n_tokens, 0) AS tok, {others} AS other "
            f"FROM doc_signals s {joins} WHERE {' AND '.join(where)} AND COALESCE(s.lang, 'unknown') = ?"
        )
        bparams = ([spec.name] if "rejections" in have else []) + params + [lg]
        if source:
            base = f"SELECT * FROM ({base}) WHERE source = ?"
            bparams.append(source)
        thr = list(thresholds) if thresholds else _default_thresholds(con, base, bparams, points)
        if spec.threshold not in thr:
            thr.append(spec.threshold)
        thr = sorted(set(thr))
        passes = "(b.v IS NULL OR b.v >= t.thr)" if spec.op == "<" else "(b.v IS NULL OR b.v <= t.thr)"
        values = ", ".join(["(?)"] * len(thr))
        rows = con.execute(
            f"""WITH b AS ({base}), t(thr) AS (VALUES {values})
                SELECT b.source, t.thr,
                       count(*) FILTER (WHERE {passes}) AS docs, count(*) AS docs_total,
                       COALESCE(sum(b.tok) FILTER (WHERE {passes}), 0) AS tokens, COALESCE(sum(b.tok), 0) AS tokens_total,
                       count(*) FILTER (WHERE {passes} AND NOT b.other) AS docs_o,
                       COALESCE(sum(b.tok) FILTER (WHERE {passes} AND NOT b.other), 0) AS tokens_o
                FROM b CROSS JOIN t GROUP BY b.source, t.thr ORDER BY b.source, t.thr""",
            bparams + [float(x) for x in thr],
        ).fetchall()
        for source_, t, docs, docs_total, tok, tok_total, docs_o, tok_o in rows:
            out.append(SweepPoint(lg, source_, float(t), docs, docs_total, int(tok), int(tok_total), docs_o,
                                  int(tok_o), float(t) == spec.threshold))
    return out


def _default_thresholds(con, base: str, params: list, points: int) -> list[float]:
    qs = [i / (points - 1) for i in range(points)] if points > 1 else [0.5]
    row = con.execute(f"SELECT quantile_cont(v, ?) FROM ({base}) WHERE v IS NOT NULL", [qs, *params]).fetchone()
    vals = row[0] if row and row[0] is not None else []
    return sorted({round(float(v), 6) for v in vals})


def format_table(points: list[SweepPoint], rule: str, spec_op: str) -> str:
    """The kept-token curve as a text table, one block per (language, source)."""
    keep = "keeps value >= threshold" if spec_op == "<" else "keeps value <= threshold"
    lines = [f"sweep of {rule} ({keep}); * = recipe threshold; (all) = also passes every other stored decision"]
    lines.append(f"{'lang':<6}{'source':<12}{'threshold':>12}{'docs':>8}{'docs %':>8}{'tokens':>11}{'tokens %':>9}"
                 f"{'docs(all)':>11}{'tokens(all)':>13}  kept tokens")
    for p in points:
        pct_d = 100 * p.docs / p.docs_total if p.docs_total else 0.0
        pct_t = 100 * p.tokens / p.tokens_total if p.tokens_total else 0.0
        bar = "#" * round(pct_t / 5)
        mark = "*" if p.current else " "
        lines.append(f"{p.lang:<6}{p.source[:11]:<12}{p.threshold:>11.4g}{mark}{p.docs:>8}{pct_d:>7.1f}%"
                     f"{p.tokens:>11}{pct_t:>8.1f}%{p.docs_with_others:>11}{p.tokens_with_others:>13}  {bar}")
    return "\n".join(lines)


def svg_chart(points: list[SweepPoint], rule: str, width: int = 640, height: int = 360) -> str:
    """A small standalone SVG: kept-token share against threshold, one line per (language, source)."""
    groups: dict[tuple[str, str], list[SweepPoint]] = {}
    for p in points:
        groups.setdefault((p.lang, p.source), []).append(p)
    xs = [p.threshold for p in points] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 1
    ml, mr, mt, mb = 56, 150, 28, 40
    pw, ph = width - ml - mr, height - mt - mb

    def px(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * pw

    def py(pct: float) -> float:
        return mt + (1 - pct / 100) * ph

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
         'font-size="11">'),
        f'<text x="{ml}" y="16" font-size="13">kept tokens (%) vs threshold: {_esc(rule)}</text>',
        f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for pct in (0, 25, 50, 75, 100):
        parts.append(f'<text x="{ml - 6}" y="{py(pct) + 4:.1f}" text-anchor="end">{pct}</text>')
    for x in (x0, (x0 + x1) / 2, x1):
        parts.append(f'<text x="{px(x):.1f}" y="{height - mb + 16}" text-anchor="middle">{x:.3g}</text>')
    for i, ((lg, src), pts) in enumerate(sorted(groups.items())):
        c = colors[i % len(colors)]
        coords = " ".join(
            f"{px(p.threshold):.1f},{py(100 * p.tokens / p.tokens_total if p.tokens_total else 0):.1f}" for p in pts)
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{coords}"/>')
        for p in pts:
            if p.current:
                y = py(100 * p.tokens / p.tokens_total if p.tokens_total else 0)
                parts.append(f'<circle cx="{px(p.threshold):.1f}" cy="{y:.1f}" r="4" fill="{c}"/>')
        parts.append(f'<text x="{width - mr + 8}" y="{mt + 14 * (i + 1)}" fill="{c}">{_esc(lg)} / {_esc(src)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- per language: keep rate of real documents against spam removed --------------------------------


@dataclass(frozen=True)
class LanguagePoint:
    """At one threshold of the swept rule, in one language: real documents kept and spam removed."""

    lang: str
    threshold: float
    docs_total: int
    docs_kept: int  # pass the swept rule at this threshold and every other rule of the recipe
    spam_total: int
    spam_removed: int  # fail the swept rule at this threshold or any other rule of the recipe
    current: bool

    @property
    def keep_rate(self) -> float:
        return self.docs_kept / self.docs_total if self.docs_total else 0.0

    @property
    def spam_removal_rate(self) -> float:
        return self.spam_removed / self.spam_total if self.spam_total else 0.0


def language_curves(
    con,
    ruleset: RuleSet,
    rule: str,
    thresholds: Sequence[float] | None = None,
    lang: str | None = None,
    sample_docs: int = 200,
    spam_per_kind: int = 2,
    points: int = 11,
) -> list[LanguagePoint]:
    """Per language and threshold: the share of the lake's documents the whole recipe keeps, and the
    share of spam it removes, with the swept rule at that threshold and every other rule as recipe'd.

    Why spam built here: a keep rate alone rewards keeping everything. `goldpan.filter.spam` builds
    spam pages (keyword stuffing, lorem ipsum, navigation, boilerplate, repeated lines, word salad)
    from up to `sample_docs` of the language's own documents, and their signals are computed with the
    same pure function as `doc_signals` rows; real documents are judged from their stored signals.
    """
    from goldpan.filter.signals import compute_signals
    from goldpan.filter.spam import spam_set

    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    where, params = "s.status = 'kept'", []
    if lang:
        where += " AND s.lang = ?"
        params.append(lang)
    langs = [r[0] for r in con.execute(
        f"SELECT DISTINCT s.lang FROM doc_signals s WHERE {where} AND s.lang IS NOT NULL ORDER BY 1", params
    ).fetchall()]
    out: list[LanguagePoint] = []
    for lg in langs:
        spec = find_spec(ruleset, rule, lg)
        cur = con.execute(f"SELECT * FROM doc_signals s WHERE {where} AND s.lang = ?", [*params, lg])
        names = [d[0] for d in cur.description]
        real = [dict(zip(names, row)) for row in cur.fetchall()]
        texts: list[str] = []
        if "documents" in have:
            texts = [r[0] for r in con.execute(
                "SELECT text FROM documents WHERE lang = ? AND text IS NOT NULL ORDER BY doc_id LIMIT ?",
                [lg, sample_docs]).fetchall()]
        spam = [compute_signals(s.text, lg) for s in spam_set({lg: texts}, per_kind=spam_per_kind)]
        thr = list(thresholds) if thresholds else sorted({
            round(float(v), 6) for v in _quantiles([r[spec.column] for r in real], points)} | {spec.threshold})
        others = [r for r in ruleset.rules_for(lg) if r.name != spec.name]

        def others_pass(sig: dict, lang_: str = lg, others: list = others) -> bool:
            if ruleset.section_for(lang_, sig) != ruleset.section_for(lang_):  # judged as a code page
                return not ruleset.evaluate(None, lang_, sig)
            return all(r.evaluate(sig) is None for r in others)

        real_ok = [(r[spec.column], others_pass(r)) for r in real]
        spam_ok = [(s[spec.column], others_pass(s)) for s in spam]
        for t in sorted(set(thr)):
            def passes(v, t=t, spec=spec) -> bool:
                return v is None or (v >= t if spec.op == "<" else v <= t)
            kept = sum(1 for v, ok in real_ok if ok and passes(v))
            removed = sum(1 for v, ok in spam_ok if not (ok and passes(v)))
            out.append(LanguagePoint(lg, float(t), len(real), kept, len(spam), removed, float(t) == spec.threshold))
    return out


def _quantiles(values: list, points: int) -> list[float]:
    vals = sorted(float(v) for v in values if v is not None)
    if not vals:
        return []
    return [vals[round(i * (len(vals) - 1) / max(points - 1, 1))] for i in range(points)]


def format_language_table(points: list[LanguagePoint], rule: str) -> str:
    """Per language: real documents kept and spam removed by the whole recipe at each threshold."""
    lines = [f"per language: {rule} at each threshold, every other rule as in the recipe; * = recipe threshold",
             f"{'lang':<6}{'threshold':>12}{'kept':>8}{'of':>6}{'keep %':>8}{'spam rm':>9}{'of':>5}{'spam rm %':>10}"]
    for p in points:
        mark = "*" if p.current else " "
        lines.append(f"{p.lang:<6}{p.threshold:>11.4g}{mark}{p.docs_kept:>8}{p.docs_total:>6}{100 * p.keep_rate:>7.1f}%"
                     f"{p.spam_removed:>9}{p.spam_total:>5}{100 * p.spam_removal_rate:>9.1f}%")
    return "\n".join(lines)
