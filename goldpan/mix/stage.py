"""The mix stage over the lake: curated snapshots, token counts, decisions with budgets, candidate.

Plain Python over `Lake` (no Dagster): assets/mix.py wires these functions to assets. Every pass
streams record batches; the only per-document state held in memory is the budget plan's
(tokens, epoch limit) pair for eligible documents.
"""

from __future__ import annotations

import fnmatch
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from goldpan.lake import Lake, WriteResult
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import (
    CURATED_DOCUMENTS,
    DEDUP_MERGES,
    DOC_TOKENS,
    ERROR,
    KEPT,
    MIX_DECISIONS,
    REJECTED,
)
from goldpan.lake.snapshot import COMMIT_KEY
from goldpan.lake.snapshot import take as take_snapshot
from goldpan.lake.views import CURRENT_TEXT_SQL, REJECTION_TABLES, stage_sql
from goldpan.mix.budget import ALL, MixPlan, allocate
from goldpan.mix.select import decide_mix
from goldpan.mix.sources import read_curated
from goldpan.recipe import MixSource, Recipe

TEXT_SQL = CURRENT_TEXT_SQL


# What later dedup batches decided about an earlier kept document: a newer fetch of its URL that
# dedup kept (`supersedes`), or a cluster change that gave its cluster another representative
# (`dedup_merges`). Earlier rows are never rewritten, so the mix applies these at read time.
DEDUP_LATER_SQL = """
    LEFT JOIN (SELECT supersedes AS doc_id, min(doc_id) AS superseded_by FROM dedup_clusters
               WHERE supersedes IS NOT NULL AND status = 'kept' GROUP BY 1) sup ON sup.doc_id = d.doc_id
    LEFT JOIN (SELECT old_representative AS doc_id, arg_max(new_representative, batch_id || '/' || lpad(seq::VARCHAR, 9, '0'))
                      AS replaced_by
               FROM dedup_merges WHERE old_representative <> new_representative GROUP BY 1) mg ON mg.doc_id = d.doc_id
"""

# The latest observation with a response of each URL (goldpan.consent.decide judges by it).
LATEST_CONSENT_SQL = "SELECT url, arg_max(c, c.fetched_at) AS consent FROM consent c WHERE c.observed GROUP BY url"


# doc_scores' perplexity columns (merged in by goldpan.synthesize.perplexity_stage; null when not scored)
PPL_COLUMNS = "any_value(perplexity) AS perplexity, any_value(ppl_model) AS ppl_model, " \
              "any_value(ppl_model_sha256) AS ppl_model_sha256"
NO_PPL = "NULL::DOUBLE AS perplexity, NULL::VARCHAR AS ppl_model, NULL::VARCHAR AS ppl_model_sha256"


def lake_docs_sql(with_scores: bool, with_consent: bool = False, with_perplexity: bool = False) -> str:
    """Filter-kept lake documents with everything the mix decides on (text for decontamination)."""
    filter_kept, _, _ = stage_sql("mix")
    consent = (f"LEFT JOIN ({LATEST_CONSENT_SQL}) cs ON cs.url = p.url" if with_consent
               else "LEFT JOIN (SELECT NULL::VARCHAR AS url, NULL AS consent) cs ON cs.url = p.url")
    ppl = PPL_COLUMNS if with_perplexity else NO_PPL
    scores = (
        "LEFT JOIN (SELECT doc_id, any_value(domain) AS domain, any_value(quality_score) AS quality_score, "
        f"{ppl} FROM doc_scores GROUP BY doc_id) s ON s.doc_id = d.doc_id"
        if with_scores
        else "LEFT JOIN (SELECT NULL::VARCHAR AS doc_id, NULL::VARCHAR AS domain, NULL::DOUBLE AS quality_score, "
        f"{NO_PPL}) s ON s.doc_id = d.doc_id"
    )
    return f"""
    SELECT d.doc_id, d.batch_id, d.lang, d.lang_score, d.host, d.url, {TEXT_SQL} AS text,
           p.source AS page_source, s.domain, s.quality_score, t.n_tokens, 'lake' AS origin, NULL AS source,
           cs.consent, sup.superseded_by, mg.replaced_by, s.perplexity, s.ppl_model, s.ppl_model_sha256
    FROM documents d
    JOIN ({filter_kept}) k ON k.doc_id = d.doc_id
    LEFT JOIN dedup_clusters c ON c.doc_id = d.doc_id
    {DEDUP_LATER_SQL}
    LEFT JOIN (SELECT page_id, any_value(source) AS source, any_value(url) AS url FROM pages GROUP BY page_id) p
           ON p.page_id = d.page_id
    {consent}
    {scores}
    LEFT JOIN (SELECT doc_id, text_md5, min(n_tokens) AS n_tokens FROM doc_tokens WHERE tokenizer = $tok
               GROUP BY ALL) t ON t.doc_id = d.doc_id AND t.text_md5 = md5({TEXT_SQL})
    """


CURATED_DOCS_SQL = """
    SELECT cd.doc_id, cd.batch_id, cd.lang, cd.lang_score, cd.host, cd.url, cd.text,
           NULL AS page_source, NULL AS domain, NULL::DOUBLE AS quality_score, t.n_tokens, 'curated' AS origin,
           cd.source, NULL AS consent, NULL AS superseded_by, NULL AS replaced_by, NULL::DOUBLE AS perplexity,
           NULL AS ppl_model, NULL AS ppl_model_sha256
    FROM curated_documents cd
    LEFT JOIN (SELECT doc_id, text_md5, min(n_tokens) AS n_tokens FROM doc_tokens WHERE tokenizer = $tok
               GROUP BY ALL) t ON t.doc_id = cd.doc_id AND t.text_md5 = md5(cd.text)
"""


# Guard-kept model outputs: their own source (recipe `mix.sources` kind synthetic). `parent_urls` lets a
# takedown of any parent remove the output, `parent_consents` (each parent's latest consent row, found as
# for a lake document: parent doc -> its page's URL) lets a parent's opt-out keep it out; url is null
# (a synthetic text has no address of its own).
def synthetic_docs_sql(with_consent: bool) -> str:
    consent = (f"LEFT JOIN ({LATEST_CONSENT_SQL}) cs ON cs.url = pp.url" if with_consent
               else "LEFT JOIN (SELECT NULL::VARCHAR AS url, NULL AS consent) cs ON cs.url = pp.url")
    return f"""
    SELECT sd.doc_id, sd.batch_id, sd.lang, 1.0::DOUBLE AS lang_score, NULL AS host, NULL AS url, sd.text,
           NULL AS page_source, NULL AS domain, NULL::DOUBLE AS quality_score, t.n_tokens, 'synthetic' AS origin,
           NULL AS source, NULL AS consent, NULL AS superseded_by, NULL AS replaced_by, NULL::DOUBLE AS perplexity,
           NULL AS ppl_model, NULL AS ppl_model_sha256, sd.parent_urls, pc.parent_consents
    FROM synthetic_documents sd
    LEFT JOIN (SELECT doc_id, text_md5, min(n_tokens) AS n_tokens FROM doc_tokens WHERE tokenizer = $tok
               GROUP BY ALL) t ON t.doc_id = sd.doc_id AND t.text_md5 = md5(sd.text)
    LEFT JOIN (
        SELECT x.doc_id, list(struct_pack(parent := x.parent_id, consent := cs.consent) ORDER BY x.parent_id)
               AS parent_consents
        FROM (SELECT doc_id, unnest(parent_ids) AS parent_id FROM synthetic_documents WHERE status = 'kept') x
        LEFT JOIN documents pd ON pd.doc_id = x.parent_id
        LEFT JOIN (SELECT page_id, any_value(url) AS url FROM pages GROUP BY page_id) pp ON pp.page_id = pd.page_id
        {consent}
        GROUP BY x.doc_id) pc ON pc.doc_id = sd.doc_id
    WHERE sd.status = 'kept'
"""


# -- curated sources ---------------------------------------------------------------------------

def write_curated(lake: Lake, recipe: Recipe, identify: Callable[[str], tuple[str | None, float | None]],
                  commit_metadata=None) -> tuple[WriteResult, dict[str, int]]:
    """Snapshot every curated source of the recipe into `curated_documents` (replaced whole)."""
    counts: Counter[str] = Counter()

    def rows() -> Iterator[dict]:
        for src in recipe.mix.effective_sources:
            if src.kind in ("lake", "synthetic"):  # read from the lake's own tables, not snapshotted
                continue
            for r in read_curated(src, identify):
                counts[src.name] += 1
                yield r

    written = lake.write("curated_documents", rows_to_batches(rows(), CURATED_DOCUMENTS, 1024), CURATED_DOCUMENTS,
                         commit_metadata=commit_metadata)
    return written, dict(counts)


# -- decisions ---------------------------------------------------------------------------------

def _source_of(doc: dict, sources: list[MixSource]) -> str | None:
    if doc["origin"] == "curated":
        return doc["source"]
    if doc["origin"] == "synthetic":
        return next((s.name for s in sources if s.kind == "synthetic"), None)
    for s in sources:
        if s.kind != "lake":
            continue
        if s.batches and not any(fnmatch.fnmatchcase(doc["batch_id"], p) for p in s.batches):
            continue
        if s.origins and (doc.get("page_source") or "") not in s.origins:
            continue
        return s.name
    return None


@dataclass
class MixOutcome:
    written: WriteResult | None
    plan: MixPlan
    outcomes: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)


STAGE_SCHEMA = MIX_DECISIONS.append(pa.field("host", pa.string())).append(pa.field("max_epochs", pa.int32()))


def run(lake: Lake, recipe: Recipe, takedowns=None, decontam=None, commit_metadata=None,
        write: bool = True, skip_batches: set[str] | None = None, engine=None) -> MixOutcome:
    """Screen every document, plan token budgets, write `mix_decisions` (replaced whole).

    Reads one pinned snapshot of its inputs (`goldpan.lake.snapshot`), restricted to every batch but
    `skip_batches` (the orchestrator passes the batches other runs are still carrying
    through the per-batch stages, so a batch half-filtered is never mixed: its own run mixes it), and
    records it in the commit for the candidate and the gate. Publishers' opt-outs stored in `consent`
    are decided here by the recipe's consent rules (goldpan.consent.decide), right after takedowns.
    Raises goldpan.mix.budget.MixInfeasible (nothing written) when a target cannot be met.
    `write=False` is a dry run: the same decisions and plan, nothing written (written is None).
    With an `engine`, decontamination (the join of every text against the eval n-gram index) runs on
    its workers (goldpan.decontam.batches); the decisions are the same as without.
    """
    from goldpan.consent.decide import ConsentDecider

    cfg = recipe.mix
    sources = cfg.effective_sources
    epochs = {s.name: s.max_epochs for s in sources}
    lake.ensure("doc_tokens", DOC_TOKENS)
    lake.ensure("curated_documents", CURATED_DOCUMENTS)
    lake.ensure("dedup_merges", DEDUP_MERGES)
    present = set(lake.list_tables())
    with_scores, with_consent = "doc_scores" in present, "consent" in present
    no_parents = "NULL::VARCHAR[] AS parent_urls, NULL AS parent_consents"
    with_ppl = with_scores and "perplexity" in lake.table("doc_scores").schema().to_arrow().names
    parts = [f"SELECT *, {no_parents} FROM ({lake_docs_sql(with_scores, with_consent, with_ppl)})",
             f"SELECT *, {no_parents} FROM ({CURATED_DOCS_SQL})"]
    if "synthetic_documents" in present:
        parts.append(synthetic_docs_sql(with_consent))
    sql = f"SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY host NULLS FIRST, doc_id"
    tables = ["documents", "dedup_clusters", "dedup_merges", "doc_signals", *REJECTION_TABLES, "pages",
              "curated_documents", "doc_tokens"]
    tables += ["synthetic_documents"] if "synthetic_documents" in present else []
    tables += (["doc_scores"] if with_scores else []) + (["consent"] if with_consent else [])
    consent = ConsentDecider(recipe.consent, recipe.crawl.user_agent)
    snap = take_snapshot(lake, tables, excluded=skip_batches or ())
    commit_metadata = dict(commit_metadata or {}) | {COMMIT_KEY: snap.to_json()}
    batches = lake.iter_batches(sql, params={"tok": cfg.tokenizer}, tables=tables, batch_size=512, snapshot=snap)
    if decontam and engine is not None:
        from goldpan.decontam.batches import with_contamination

        batches = with_contamination(engine, batches, decontam)
    docs = (r for b in batches for r in b.to_pylist())

    def annotated() -> Iterator[dict]:
        for d in docs:
            d["source"] = _source_of(d, sources)
            if d["source"] is None:
                d["source_detail"] = f"batch {d['batch_id']} / {d.get('page_source')} matches no lake source"
            if decontam is None and d["text"]:
                d["text"] = "-"  # not needed downstream; keeps the no_text check meaningful
            yield d

    with tempfile.TemporaryDirectory(prefix="goldpan-mix-") as tmp:
        stage_path = Path(tmp) / "screened.parquet"
        writer = pq.ParquetWriter(stage_path, STAGE_SCHEMA)
        buf: list[dict] = []
        for row in decide_mix(annotated(), cfg, recipe.recipe_id, takedowns=takedowns, decontam=decontam,
                              consent=consent):
            if row["status"] == KEPT and row["n_tokens"] is None:
                row.update(status=ERROR, rule="no_token_count", detail="doc_tokens has no count for this text")
            row["max_epochs"] = epochs.get(row["source"] or "", 1)
            buf.append(row)
            if len(buf) >= 4096:
                writer.write_batch(pa.RecordBatch.from_pylist(buf, schema=STAGE_SCHEMA))
                buf.clear()
        if buf:
            writer.write_batch(pa.RecordBatch.from_pylist(buf, schema=STAGE_SCHEMA))
        writer.close()
        return _budget_and_write(lake, recipe, stage_path, commit_metadata, write)


def _budget_and_write(lake: Lake, recipe: Recipe, stage_path: Path, commit_metadata, write: bool = True) -> MixOutcome:
    import duckdb

    cfg = recipe.mix
    key = "source" if cfg.budget_by == "source" else "domain"
    targets = dict(cfg.targets)
    path = str(stage_path).replace("'", "''")
    order = f"md5('{int(cfg.seed)}:' || doc_id)"
    con = duckdb.connect()
    try:
        con.execute(
            f"CREATE VIEW screened AS SELECT *, {key} AS grp, "
            f"CASE WHEN status = 'kept' THEN row_number() OVER (PARTITION BY status = 'kept', {key} ORDER BY {order}) - 1 "
            f"END AS rk FROM read_parquet('{path}')"
        )
        groups: dict[str, list[tuple[int, int]]] = {}
        rows = con.sql("SELECT grp, n_tokens, max_epochs FROM screened WHERE status = 'kept' ORDER BY grp, rk")
        for grp, n, e in _iter(rows):
            if targets and grp not in targets:
                continue
            groups.setdefault(grp, []).append((int(n), int(e)))
        capped = _apply_source_caps(groups, cfg) if key == "source" else {}
        plan, repeats = allocate(groups, targets, cfg.total_tokens, cfg.budget_by, cfg.seed)
        cap_of = {g: cap for g, (_, cap) in capped.items()}
        budgets = {g.group: g.budget_tokens for g in plan.groups}
        outcomes: Counter[str] = Counter()
        rules: Counter[str] = Counter()
        all_mode = plan.budget_by == ALL
        if all_mode:  # one budget over every group: ranks follow the concatenated seeded order
            offsets, acc = {}, 0
            for g in sorted(groups):
                offsets[g] = acc
                acc += len(groups[g])

        def final() -> Iterator[dict]:
            reader = con.sql("SELECT * FROM screened ORDER BY host NULLS FIRST, doc_id").to_arrow_reader(4096)
            for batch in reader:
                for r in batch.to_pylist():
                    if r["status"] == KEPT:
                        g = r["grp"]
                        if targets and g not in targets:
                            r.update(status=REJECTED, rule="not_in_targets",
                                     detail=f"{cfg.budget_by} {g} has no target in the recipe")
                        elif g in cap_of and r["rk"] >= len(groups.get(g, ())):
                            r.update(status=REJECTED, rule="source_cap", threshold=float(cap_of[g]),
                                     value=float(r["n_tokens"]),
                                     detail=f"source {g}: max_tokens / max_share of the mix reached")
                        else:
                            rep = repeats[ALL][offsets[g] + r["rk"]] if all_mode else repeats[g][r["rk"]]
                            if rep == 0:
                                b = budgets[ALL if all_mode else g]
                                r.update(status=REJECTED, rule="over_budget", threshold=float(b) if b else None,
                                         value=float(r["n_tokens"]), detail=f"{cfg.budget_by} {g} budget filled")
                            else:
                                r["repeat"] = rep
                    outcomes[r["status"]] += 1
                    if r["rule"]:
                        rules[r["rule"]] += 1
                    yield {k: r[k] for k in MIX_DECISIONS.names}

        if write:
            # The plan travels with the Delta version it produced (read back by plan_from_lake).
            meta = dict(commit_metadata or {}) | {"mix_plan": json.dumps(plan.as_json(), sort_keys=True)}
            written = lake.write("mix_decisions", rows_to_batches(final(), MIX_DECISIONS, 4096), MIX_DECISIONS,
                                 commit_metadata=meta)
        else:
            for _ in final():
                pass
            written = None
    finally:
        con.close()
    return MixOutcome(written=written, plan=plan, outcomes=dict(outcomes), rules=dict(rules))


def _apply_source_caps(groups: dict[str, list[tuple[int, int]]], cfg) -> dict[str, tuple[int, int]]:
    """Cut the seeded document list of each source with `max_tokens` / `max_share` (and no target share)
    to its cap, in place; returns {source: (documents before the cut, cap in tokens)}.

    max_share s of the whole mix: the capped source may hold at most s/(1-s) times the tokens of the
    other sources (at one epoch), which is what the gate re-checks on the release."""
    out: dict[str, tuple[int, int]] = {}
    for src in cfg.effective_sources:
        g = src.name
        if g not in groups or g in cfg.targets or (src.max_tokens is None and src.max_share is None):
            continue
        caps = []
        if src.max_tokens is not None:
            caps.append(src.max_tokens)
        if src.max_share is not None:
            others = sum(n for name, docs in groups.items() if name != g for n, _ in docs)
            caps.append(int(others * src.max_share / (1 - src.max_share)))
        cap, taken, keep = min(caps), 0, 0
        for n, _ in groups[g]:
            if taken + n > cap:
                break
            taken += n
            keep += 1
        out[g] = (len(groups[g]), cap)
        if keep:
            groups[g] = groups[g][:keep]
        else:
            del groups[g]  # nothing fits: the source is absent from the plan, every document capped
    return out


def _iter(rel) -> Iterator[tuple]:
    reader = rel.to_arrow_reader(65536)
    for b in reader:
        yield from zip(*(b.column(i).to_pylist() for i in range(b.num_columns)))


def plan_json(plan: MixPlan) -> str:
    return json.dumps(plan.as_json(), sort_keys=True)


def plan_from_lake(lake: Lake, recipe: Recipe | None = None) -> str:
    """The target-vs-achieved table of the current `mix_decisions`, from the plan stored in its
    Delta commit."""
    from goldpan.mix.budget import GroupPlan

    hist = lake.history("mix_decisions", 1)
    raw = hist[0].get("mix_plan") if hist else None
    if not raw:
        return "_no mix plan recorded_"
    data = json.loads(raw)
    plan = MixPlan(budget_by=data["budget_by"], seed=data["seed"], total_target=data["total_target"],
                   total_derived=data["total_derived"], problems=data["problems"])
    plan.groups = [GroupPlan(**g) for g in data["groups"]]
    return plan.table()
