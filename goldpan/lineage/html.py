"""`goldpan report`: one self-contained HTML page with the corpus charts, viewable offline.

Everything is inline: CSS in a <style> block, charts as <svg> drawn here from the numbers in
`goldpan.lineage.figures`, no script, no CDN, no web font. An auditor can mail the file or open it
on an air-gapped machine and see exactly what the lake said when the report was written.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

from goldpan.lake import Lake
from goldpan.lineage import figures as F

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9em} table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left} th{background:#f4f4f4}
td.n{text-align:right;font-variant-numeric:tabular-nums} svg.chart{display:block;margin:.5em 0}
svg text{font-size:11px;fill:#333} pre{white-space:pre-wrap;word-break:break-word;font-size:.8em;background:#fafafa;padding:.5em} .empty{color:#888;font-style:italic} .grid{display:flex;flex-wrap:wrap;gap:1em}
"""
COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"]


def _e(s) -> str:
    return html.escape("" if s is None else str(s))


def hbar(title: str, data: list[tuple[str, float]], width: int = 900, unit: str = "", color: str = COLORS[0],
         second: list[float] | None = None, second_label: str = "") -> str:
    """Horizontal bars, one per label; `second` draws a thin comparison bar (e.g. the recipe target)."""
    if not data:
        return f'<p class="empty">{_e(title)}: no data</p>'
    label_w, bar_h, gap = 230, 16, 6
    rows = len(data)
    h = 24 + rows * (bar_h + gap)
    vmax = max([v for _, v in data] + (second or [0])) or 1
    scale = (width - label_w - 90) / vmax
    parts = [(f'<svg class="chart" role="img" aria-label="{_e(title)}" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="{h}" viewBox="0 0 {width} {h}"><title>{_e(title)}</title>'),
             f'<text x="0" y="14" style="font-weight:600">{_e(title)}</text>']
    for i, (label, v) in enumerate(data):
        y = 24 + i * (bar_h + gap)
        shown = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{_e(shown)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(v * scale, 1):.1f}" height="{bar_h}" fill="{color}">'
                     f'<title>{_e(label)}: {_e(_num(v))}{_e(unit)}</title></rect>')
        parts.append(f'<text x="{label_w + v * scale + 4:.1f}" y="{y + 12}">{_e(_num(v))}{_e(unit)}</text>')
        if second is not None and second[i] is not None:
            x = label_w + second[i] * scale
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + bar_h + 2}" stroke="#222" '
                         f'stroke-width="2"><title>{_e(second_label)} {_e(_num(second[i]))}{_e(unit)}</title></line>')
    parts.append("</svg>")
    return "".join(parts)


def vbars(title: str, data: list[tuple[str, float]], width: int = 440, height: int = 200,
          color: str = COLORS[2]) -> str:
    """Vertical bars (histograms): labels under the bars, counts above them."""
    if not data or not any(v for _, v in data):
        return f'<p class="empty">{_e(title)}: no data</p>'
    top, bottom, left = 24, 28, 10
    n = len(data)
    bw = (width - left * 2) / n
    vmax = max(v for _, v in data) or 1
    ph = height - top - bottom
    parts = [(f'<svg class="chart" role="img" aria-label="{_e(title)}" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title>{_e(title)}</title>'),
             f'<text x="0" y="14" style="font-weight:600">{_e(title)}</text>']
    for i, (label, v) in enumerate(data):
        bh = v / vmax * (ph - 12)
        x = left + i * bw
        y = top + ph - bh
        parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" height="{max(bh, 0.5):.1f}" fill="{color}">'
                     f'<title>{_e(label)}: {_e(_num(v))}</title></rect>')
        if v:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{y - 2:.1f}" text-anchor="middle">{_e(_num(v))}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{height - 12}" text-anchor="middle">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _num(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.1f}"
    return f"{int(v):,}"


def table(header: list[str], rows) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f'<td class="n">{_e(_num(v))}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{_e(v)}</td>" for v in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def build_report(lake: Lake, release: str | None = None) -> str:
    """The whole page as a string (see `write_report`)."""
    from goldpan.audit.recipes import recipe_for
    from goldpan.lineage.diff import (
        ReleaseNotFound,
        diff_releases,
        format_diff,
        previous_of,
        promoted,
        resolve_release,
    )

    rel = resolve_release(lake, release) if release else (promoted(lake)[-1] if promoted(lake) else None)
    cv = int(rel["corpus_version"]) if rel else None
    snap = recipe_for(lake, rel) if rel else None
    recipe = snap["recipe"] if snap else None
    body: list[str] = []
    with lake.connect(versions={"training_corpus": cv} if cv is not None else None) as con:
        rel_docs = rel_vol = None
        if rel is not None:
            tok = F.token_source(con)
            if tok:
                rel_vol = con.execute(f"SELECT coalesce(sum(t.{tok[1]} * coalesce(c.repeat, 1)), 0) FROM training_corpus c "
                                  f"JOIN {tok[0]} t USING (doc_id)").fetchall()[0][0]
            else:
                rel_vol = con.execute("SELECT coalesce(sum(n_words * coalesce(repeat, 1)), 0) FROM training_corpus").fetchall()[0][0]
            rel_docs = con.execute("SELECT count(*) FROM training_corpus").fetchall()[0][0]
        fig = F.funnel_figure(con, rel_docs, rel_vol)
        rules = F.rules_figure(con)
        share_rows = []
        if rel:
            share_rows.append(("Source", F.token_shares(con, "c.source")))
            share_rows.append(("Language", F.token_shares(con, "c.lang")))
            if "doc_scores" in F._views(con) and "domain" in F._cols(con, "doc_scores"):
                share_rows.append(("Domain (classifier)", F.token_shares(
                    con, "s.domain", "LEFT JOIN doc_scores s ON s.doc_id = c.doc_id")))
            share_rows.append(("Host", F.token_shares(con, "c.domain")[:20]))
        unit = "tokens" if F.token_source(con) else "words"
        hists = F.score_histograms(con)
        sizes = F.cluster_sizes(con)
        from goldpan.consent.report import consent_counts

        consent = consent_counts(con)

    title = f"goldpan report — release {rel['release']}" if rel else "goldpan report — no release yet"
    body.append(f"<h1>{_e(title)}</h1>")
    meta = [f"lake {lake.root}", f"written {datetime.now(UTC):%Y-%m-%d %H:%M UTC}"]
    if rel:
        meta += [f"training_corpus v{cv}", f"recipe {rel['recipe_id']}", f"{rel['n_docs']:,} documents",
                 f"{rel['n_words']:,} words", f"decided {rel['decided_at']:%Y-%m-%d %H:%M}"]
    body.append(f'<p class="meta">{_e(" · ".join(meta))}</p>')

    body.append("<h2>Funnel</h2>")
    if fig.crawl_bytes:
        body.append(f'<p class="meta">{_num(fig.crawl_bytes)} bytes fetched in; '
                    f"{_num(fig.volume[-1] if fig.volume else 0)} {fig.volume_unit} out.</p>")
    body.append('<div class="grid">')
    body.append(hbar("Documents kept after each stage", list(zip(fig.stages, fig.docs)), width=480))
    body.append(hbar("Tokens kept after each stage", list(zip(fig.stages, fig.volume)),
                     width=480, color=COLORS[1]))
    body.append("</div>")
    body.append(table(["stage", "input", "kept", "tokens in", "tokens kept", "tokens lost"],
                      zip(fig.stages, fig.inputs, fig.docs, fig.volume_in, fig.volume, fig.volume_lost)))
    body.append(f'<p class="meta">tokens: {_e(fig.volume_unit)}; crawl has no text yet and curated corpora no '
                "extraction count, so their token columns are 0.</p>")

    body.append("<h2>Rejections by rule</h2>")
    body.append(hbar("Documents rejected, by stage:rule", rules[:30], color=COLORS[3]))

    if consent is not None:
        body.append("<h2>Consent (publishers' opt-outs)</h2>")
        body.append('<p class="meta">signals stored per page (table consent); documents excluded by the '
                    "recipe's consent rules in the mix (goldpan.consent.decide)</p>")
        body.append(table(["signal or rule", "pages / documents"], sorted(consent.items())))

    body.append("<h2>Source, language and domain shares</h2>")
    body.append(f'<p class="meta">share of the release\'s {unit} (x repeat); a black line marks the recipe\'s '
                "target share where the recipe states one (mix.targets, gate.language_shares)</p>")
    for name, data in share_rows:
        if not data:
            continue
        total = sum(n for _, n in data) or 1
        tgt = F.recipe_targets(recipe, [k for k, _ in data])
        pct = [(k, 100.0 * n / total) for k, n in data]
        second = [100.0 * tgt[k] if k in tgt else None for k, _ in data] if tgt else None
        body.append(hbar(f"{name} share of release {unit} (%)" + (" vs recipe target" if tgt else ""),
                         pct, unit="%", color=COLORS[4], second=second, second_label="target"))
        if tgt:
            body.append(table([name.lower(), "share", "target"],
                              [(k, f"{v:.1f}%", f"{100 * tgt[k]:.1f}%" if k in tgt else "") for k, v in pct]))
        if name == "Language" and recipe:
            allowed = (recipe.get("mix") or {}).get("languages")
            if allowed:
                body.append(f'<p class="meta">recipe languages: {_e(", ".join(allowed))}'
                            + ("" if tgt else " (no language shares stated)") + "</p>")

    if rel and lake.exists("synthetic_documents"):
        body += _synthetic_section(lake, int(cv))

    body.append("<h2>Score histograms</h2>")
    body.append('<div class="grid">')
    if hists:
        body += [vbars(name, data) for name, data in hists.items()]
    else:
        body.append('<p class="empty">no scores</p>')
    body.append("</div>")

    body.append("<h2>Dedup cluster sizes</h2>")
    body.append(vbars("Clusters by number of members", sizes, width=600, color=COLORS[6]))

    body.append("<h2>Changes since the previous release</h2>")
    prev = previous_of(lake, rel) if rel else None
    if prev is None:
        body.append('<p class="empty">no previous release to compare with</p>')
    else:
        try:
            d = diff_releases(lake, prev["release"], rel["release"])
        except ReleaseNotFound as exc:
            body.append(f'<p class="empty">{_e(exc)}</p>')
        else:
            body.append(hbar(f"{prev['release']} → {rel['release']}: documents removed, by reason",
                             list(d.removed_by_reason().items()), color=COLORS[3]))
            body.append(hbar(f"{prev['release']} → {rel['release']}: documents added, by reason",
                             list(d.added_by_reason().items()), color=COLORS[2]))
            body.append(f"<pre>{_e(format_diff(d, limit=30))}</pre>")

    body.append("<h2>Takedowns</h2>")
    from goldpan.audit.takedowns import requests

    reqs = requests(lake)
    body.append(table(["request", "kind", "value", "reason", "requested at", "rows deleted"],
                      [(r["request_id"], r["kind"], r["value"], r["reason"], f"{r['requested_at']:%Y-%m-%d %H:%M}",
                        r["rows_deleted_json"] or "pending") for r in reqs]) if reqs else '<p class="empty">none</p>')

    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n")


def _synthetic_section(lake: Lake, corpus_version: int) -> list[str]:
    """Model outputs in the release: their share, and the models and prompts that wrote them."""
    from goldpan.synthesize.provenance import release_synthetic

    syn = release_synthetic(lake, corpus_version)
    out = ["<h2>Synthetic documents (model outputs)</h2>",
           (f'<p class="meta">{syn["documents"]:,} documents ({100 * syn["share_of_documents"]:.1f}% of the '
           f'release\'s documents), {syn["tokens"]:,} tokens ({100 * syn["share_of_tokens"]:.1f}% of its tokens); '
           "each names its parents, model and prompt (goldpan trace &lt;doc_id&gt;)</p>")]
    rows = [(p["task"], p["model_name"], (p["model_sha256"] or "remote")[:16], p["model_runtime"] or "",
             p["template_id"], (p["template_sha1"] or "")[:12], p["documents"], p["tokens"] or 0)
            for p in syn["models_and_prompts"]]
    out.append(table(["task", "model", "model sha256", "runtime", "prompt template", "template sha1", "documents",
                      "tokens"], rows) if rows else '<p class="empty">no synthetic document in this release</p>')
    return out


def write_report(lake: Lake, out: str, release: str | None = None) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(lake, release), encoding="utf-8")
    return path.resolve()
