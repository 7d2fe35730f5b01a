"""The numbers behind the report's charts, and the same figures as markdown for Dagster metadata.

Each function reads the lake with DuckDB and returns plain data (lists of (label, value) pairs),
so the HTML report (`goldpan.lineage.html`) and the Dagster materializations (markdown tables)
show the same figures. Tables and columns that later stages add (token counts, `doc_scores`,
`document_variants`) are used when present and skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from goldpan.lake import Lake
from goldpan.lake.views import TOKEN_UNIT, compute_funnel, rejection_counts, token_funnel
from goldpan.lineage.report import stage_totals


def _cols(con, table: str) -> set[str]:
    try:
        return {r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}
    except Exception:  # noqa: BLE001 -- a table that is not registered has no columns
        return set()


def _views(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() UNION SELECT table_name FROM duckdb_tables()")
            .fetchall()}


def token_source(con) -> tuple[str, str] | None:
    """(table, column) holding per-document BPE token counts, if the release stage stored them."""
    # Only the release stage's token table counts (budgets and shares are in BPE tokens): doc_signals/documents carry word-level
    # `n_tokens` from spaCy/jieba, which are not BPE tokens.
    views = _views(con)
    for table in sorted(views):
        cols = _cols(con, table)
        if "doc_id" not in cols or table in ("training_corpus", "corpus_candidate", "doc_signals", "documents"):
            continue
        for c in ("bpe_tokens", "n_bpe_tokens", "n_tokens", "tokens", "token_count"):
            if c in cols and ("token" in table or c.startswith(("bpe", "n_bpe"))):
                return table, c
    return None


@dataclass
class FunnelFigure:
    stages: list[str] = field(default_factory=list)
    docs: list[int] = field(default_factory=list)  # kept rows after each stage
    inputs: list[int] = field(default_factory=list)
    volume: list[float] = field(default_factory=list)  # tokens kept after each stage
    volume_in: list[float] = field(default_factory=list)  # tokens entering each stage
    volume_unit: str = TOKEN_UNIT
    crawl_bytes: int = 0

    @property
    def volume_lost(self) -> list[float]:
        return [i - k for i, k in zip(self.volume_in, self.volume, strict=True)]


def funnel_figure(con, release_count: int | None = None, release_volume: float | None = None) -> FunnelFigure:
    """Documents and tokens through every stage, tokens measured the same way at every stage
    (goldpan.lineage.funnel.token_funnel) so the stages that lose tokens show it. `release_volume`
    is ignored unless the release's documents cannot be joined to their extraction counts."""
    totals = stage_totals(compute_funnel(con))
    tokens: dict[str, list[int]] = {}
    for t in token_funnel(con):
        acc = tokens.setdefault(t.stage, [0, 0])
        acc[0] += t.tokens_in
        acc[1] += t.tokens_kept
    fig = FunnelFigure()
    views = _views(con)
    if "pages" in views:
        fig.crawl_bytes = int(con.execute("SELECT coalesce(sum(content_bytes), 0) FROM pages").fetchall()[0][0])
    for row in totals:
        fig.stages.append(row.stage)
        fig.inputs.append(row.input)
        fig.docs.append(row.kept)
        t_in, t_kept = tokens.get(row.stage, (0, 0))
        fig.volume_in.append(float(t_in))
        fig.volume.append(float(t_kept))
    if release_count is not None:
        vol = float(release_volume or 0)
        if {"training_corpus", "documents"} <= views:
            vol = float(con.execute(
                "SELECT coalesce(sum(d.n_tokens), 0) FROM training_corpus c "  # documents, not repeats
                "JOIN (SELECT doc_id, max(n_tokens) AS n_tokens FROM documents GROUP BY doc_id) d USING (doc_id)"
            ).fetchall()[0][0])
        fig.stages.append("release")
        fig.inputs.append(fig.docs[-1] if fig.docs else 0)
        fig.docs.append(release_count)
        fig.volume_in.append(fig.volume[-1] if fig.volume else 0.0)
        fig.volume.append(vol)
    return fig


def rules_figure(con) -> list[tuple[str, int]]:
    """(stage:rule, documents) for every rule that rejected something, most first."""
    return sorted(((f"{s}:{r or '?'}", int(n)) for s, r, n in rejection_counts(con)), key=lambda x: -x[1])


def shares(con, table: str, column: str) -> list[tuple[str, int]]:
    if column not in _cols(con, table):
        return []
    return [(str(k), int(n)) for k, n in
            con.execute(f'SELECT coalesce(CAST("{column}" AS VARCHAR), \'-\'), count(*) FROM "{table}" GROUP BY 1 ORDER BY 2 DESC')
            .fetchall()]


def recipe_targets(recipe: dict | None, labels: Iterable[str]) -> dict[str, float]:
    """Target shares the recipe's mix section states for these labels (languages or domains).

    Recipes name targets differently as the mixer grows (`targets`, `lang_shares`, weights); any
    mapping under `mix` whose keys cover the labels and whose values are numbers counts. A plain
    language list means "these languages, no share stated": equal shares are not invented.
    """
    labels = set(labels)
    best: dict[str, float] = {}

    def walk(obj):
        nonlocal best
        if isinstance(obj, dict):
            nums = {k: float(v) for k, v in obj.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            hits = set(nums) & labels
            if hits and len(hits) > len(set(best) & labels):
                total = sum(nums.values()) or 1.0
                best = {k: v / total for k, v in nums.items()}
            for v in obj.values():
                walk(v)

    # mix.targets (token shares per source or domain) and gate.language_shares, as recipes state them.
    walk((recipe or {}).get("mix") or {})
    walk((recipe or {}).get("gate") or {})
    return best


def token_shares(con, expr: str, join: str = "") -> list[tuple[str, float]]:
    """(label, tokens x repeat) of the release by `expr` (a column of training_corpus `c`), most first.

    Recipe targets are token shares, so the chart compares tokens; words stand in without a token table.
    """
    tok = token_source(con)
    vol = f"t.{tok[1]}" if tok else "c.n_words"
    tjoin = f"LEFT JOIN {tok[0]} t ON t.doc_id = c.doc_id" if tok else ""
    rows = con.execute(f"SELECT coalesce(CAST({expr} AS VARCHAR), '-'), sum(coalesce({vol}, 0) * coalesce(c.repeat, 1)) "
                       f"FROM training_corpus c {tjoin} {join} GROUP BY 1 ORDER BY 2 DESC").fetchall()
    return [(str(k), float(v or 0)) for k, v in rows]


def histogram(con, sql: str, lo: float = 0.0, hi: float = 1.0, bins: int = 10) -> list[tuple[str, int]]:
    """Counts of `sql`'s single numeric column in `bins` equal bins over [lo, hi]."""
    width = (hi - lo) / bins
    rows = dict(con.execute(f"SELECT least(greatest(floor((v - {lo}) / {width}), 0), {bins - 1})::INT AS b, count(*) "
                        f"FROM ({sql}) t(v) WHERE v IS NOT NULL GROUP BY 1").fetchall())
    return [(f"{lo + i * width:.2g}", int(rows.get(i, 0))) for i in range(bins)]


def score_histograms(con) -> dict[str, list[tuple[str, int]]]:
    out = {}
    views = _views(con)
    if "doc_scores" in views:
        for c in ("quality_score", "math_score", "code_score"):
            if c in _cols(con, "doc_scores"):
                out[f"doc_scores.{c}"] = histogram(con, f"SELECT {c} FROM doc_scores")
    if "documents" in views and "lang_score" in _cols(con, "documents"):
        out["documents.lang_score"] = histogram(con, "SELECT lang_score FROM documents WHERE status = 'kept'")
    if "doc_signals" in views:
        for c in ("alpha_words_ratio", "dup_line_frac"):
            if c in _cols(con, "doc_signals"):
                out[f"doc_signals.{c}"] = histogram(con, f"SELECT {c} FROM doc_signals WHERE status = 'kept'")
    return out


def cluster_sizes(con) -> list[tuple[str, int]]:
    """(cluster size, number of clusters): how much duplication dedup found."""
    if "dedup_clusters" not in _views(con):
        return []
    rows = con.execute("SELECT n, count(*) FROM (SELECT cluster_id, count(*) AS n FROM dedup_clusters "
                   "WHERE cluster_id IS NOT NULL GROUP BY 1) GROUP BY 1 ORDER BY 1").fetchall()
    return [(str(n), int(c)) for n, c in rows]


# -- markdown for Dagster materializations ------------------------------------------------------

def md_table(header: list[str], rows: Iterable[Iterable]) -> str:
    esc = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def funnel_markdown(lake: Lake) -> str:
    """Documents and volume per stage, as the training_corpus materialization can show it."""
    with lake.connect() as con:
        fig = funnel_figure(con)
    return md_table(["stage", "input", "kept", fig.volume_unit + " kept"],
                    zip(fig.stages, fig.inputs, fig.docs, (int(v) for v in fig.volume)))


def rules_markdown(lake: Lake, top: int = 20) -> str:
    with lake.connect() as con:
        rows = rules_figure(con)[:top]
    return md_table(["stage:rule", "documents"], rows) if rows else "_no rejections_"


def shares_markdown(lake: Lake, corpus_version: int | None = None) -> str:
    """Language and domain shares of a training_corpus version against the recipe's targets."""
    from goldpan.audit.recipes import latest_recipe

    if not lake.exists("training_corpus"):
        return "_no training corpus yet_"
    versions = {"training_corpus": corpus_version} if corpus_version is not None else None
    with lake.connect(versions=versions, tables=["training_corpus"]) as con:
        langs, doms = shares(con, "training_corpus", "lang"), shares(con, "training_corpus", "domain")
    snap = latest_recipe(lake)
    recipe = snap["recipe"] if snap else None
    rows = []
    for dim, data in (("lang", langs), ("domain", doms[:15])):
        total = sum(n for _, n in data) or 1
        tgt = recipe_targets(recipe, [k for k, _ in data])
        rows += [(dim, k, n, f"{n / total:.1%}", f"{tgt[k]:.1%}" if k in tgt else "") for k, n in data]
    return md_table(["dimension", "value", "documents", "share", "recipe target"], rows)


def diff_markdown(lake: Lake, release: str = "latest") -> str:
    """The latest release against the previous one: counts and reasons (for the promotion's metadata)."""
    from goldpan.lineage.diff import ReleaseNotFound, diff_releases, previous_of, resolve_release

    try:
        b = resolve_release(lake, release)
    except ReleaseNotFound as exc:
        return f"_{exc}_"
    a = previous_of(lake, b)
    if a is None:
        return f"_{b['release']} is the first release_"
    d = diff_releases(lake, a["release"], b["release"])
    rows = [("added", len(d.added), ", ".join(f"{k} {v}" for k, v in d.added_by_reason().items())),
            ("removed", len(d.removed), ", ".join(f"{k} {v}" for k, v in d.removed_by_reason().items())),
            ("updated", d.updated, ""), ("unchanged", d.unchanged, "")]
    md = f"**{a['release']} → {b['release']}**\n\n" + md_table(["change", "documents", "reasons"], rows)
    if d.recipe_changes:
        md += "\n\n" + md_table(["recipe key", "before", "after"],
                                ((c["key"], c["before"], c["after"]) for c in d.recipe_changes))
    return md


def takedown_markdown(lake: Lake) -> str:
    from goldpan.audit.takedowns import requests

    rows = [(r["request_id"], r["kind"], r["value"], r["reason"], r["rows_deleted_json"] or "pending")
            for r in requests(lake)]
    return md_table(["request", "kind", "value", "reason", "rows deleted"], rows) if rows else "_no takedowns_"


def release_markdown(lake: Lake) -> dict[str, str]:
    """The report's figures as markdown, keyed for a promotion's materialization metadata.

    Each figure is computed on its own: one that fails (a table another stage is still migrating)
    is reported as such instead of hiding the others.
    """
    out = {}
    for key, fn in (("audit_funnel", funnel_markdown), ("audit_rejections_by_rule", rules_markdown),
                    ("audit_shares_vs_recipe", shares_markdown), ("audit_diff_vs_previous", diff_markdown),
                    ("audit_takedowns", takedown_markdown)):
        try:
            out[key] = fn(lake)
        except Exception as exc:  # noqa: BLE001 -- metadata must never fail a promotion that already happened
            out[key] = f"_could not compute: {type(exc).__name__}: {exc}_"
    return out
