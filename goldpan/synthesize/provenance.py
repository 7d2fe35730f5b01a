"""What a release owes to models: the share of its documents and tokens that are synthetic, and the models
and prompts behind them (issue 23 point 6). One query set, read by the export manifest, `why`, `diff`
and the HTML report, so they cannot disagree.

A synthetic document in `training_corpus` has origin 'synthetic' and no URL of its own; its row in
`synthetic_documents` names the model (name, sha256, runtime), the prompt template (id, sha1), the task
and its parents.
"""

from __future__ import annotations

from goldpan.lake import Lake

PROVENANCE_SQL = """
SELECT s.model_name, s.model_sha256, s.model_runtime, s.template_id, s.template_sha1, s.task,
       count(*) AS documents, sum(t.n_tokens * t.repeat) AS tokens
FROM training_corpus t JOIN synthetic_documents s ON s.doc_id = t.doc_id
WHERE t.origin = 'synthetic' GROUP BY ALL ORDER BY ALL"""

SHARE_SQL = """
SELECT count(*) FILTER (WHERE origin = 'synthetic') AS synthetic_documents, count(*) AS documents,
       coalesce(sum(n_tokens * repeat) FILTER (WHERE origin = 'synthetic'), 0) AS synthetic_tokens,
       coalesce(sum(n_tokens * repeat), 0) AS tokens
FROM training_corpus"""


def synthetic_provenance(lake: Lake, version: int) -> list[dict]:
    """Models and prompts behind release `version`'s synthetic documents: one entry per (model, template, task)."""
    if not lake.exists("synthetic_documents") or not lake.exists("training_corpus"):
        return []
    with lake.connect(versions={"training_corpus": version}, tables=["training_corpus", "synthetic_documents"]) as con:
        cur = con.execute(PROVENANCE_SQL)
        cols = [d[0] for d in cur.description]
        return [{k: (int(v) if k in ("documents", "tokens") and v is not None else v) for k, v in zip(cols, r)}
                for r in cur.fetchall()]


def synthetic_share(lake: Lake, version: int) -> dict:
    """Synthetic documents and tokens (n_tokens x repeat) of release `version`, and their shares."""
    with lake.connect(versions={"training_corpus": version}, tables=["training_corpus"]) as con:
        syn_docs, docs, syn_tok, tok = con.execute(SHARE_SQL).fetchone()
    return {"documents": int(syn_docs), "tokens": int(syn_tok),
            "share_of_documents": round(syn_docs / docs, 6) if docs else 0.0,
            "share_of_tokens": round(syn_tok / tok, 6) if tok else 0.0}


def release_synthetic(lake: Lake, version: int) -> dict:
    """The share and the provenance together (what `diff` and the report show per release)."""
    return synthetic_share(lake, version) | {"models_and_prompts": synthetic_provenance(lake, version)}


def children_of(lake: Lake, doc_ids: list[str], corpus_version: int | None = None) -> list[dict]:
    """Synthetic documents derived from any of `doc_ids`: task, model, template, outcome, and whether
    release `corpus_version` holds them."""
    if not doc_ids or not lake.exists("synthetic_documents"):
        return []
    in_rel = "FALSE"
    tables = ["synthetic_documents"]
    if corpus_version is not None and lake.exists("training_corpus"):
        in_rel = "s.doc_id IN (SELECT doc_id FROM training_corpus)"
        tables.append("training_corpus")
    sql = f"""SELECT s.doc_id, s.task, s.model_name, s.model_sha256, s.template_id, s.status, s.rule,
                     {in_rel} AS in_release
              FROM synthetic_documents s
              WHERE list_has_any(s.parent_ids, ?::VARCHAR[]) ORDER BY s.doc_id"""
    versions = {"training_corpus": corpus_version} if "training_corpus" in tables else None
    with lake.connect(versions=versions, tables=tables) as con:
        cur = con.execute(sql, [list(doc_ids)])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
