"""Cluster report over `dedup_clusters`: size distribution, largest clusters, one document's cluster.

Plain SQL over a DuckDB connection with the lake views registered (`Lake.connect()`), so
`goldpan clusters`, `goldpan trace` (audit) and the asset's materialization metadata show the
same numbers. A cluster is the set of rows sharing `cluster_id` (the representative's doc_id),
across every batch; `cluster_size` stored per row is the size when that row's batch was written,
the live size is counted here.
"""

from __future__ import annotations

from goldpan.lake import Lake

MEMBER_COLUMNS = ["doc_id", "batch_id", "url", "status", "rule", "is_representative", "duplicate_of", "similarity",
                  "cluster_id"]


def size_distribution(con, batch_id: str | None = None) -> list[tuple[int, int]]:
    """[(cluster size, number of clusters)] ascending; `batch_id` limits to clusters it touched."""
    where = ""
    params: list = []
    if batch_id is not None:
        where = "WHERE cluster_id IN (SELECT cluster_id FROM dedup_clusters WHERE batch_id = ?)"
        params = [batch_id]
    return [
        (int(s), int(n))
        for s, n in con.execute(
            f"SELECT size, count(*) FROM (SELECT cluster_id, count(*) AS size FROM dedup_clusters {where} "
            "GROUP BY cluster_id) GROUP BY size ORDER BY size",
            params,
        ).fetchall()
    ]


def largest_clusters(con, limit: int = 10, sample_urls: int = 3) -> list[dict]:
    """The biggest clusters with their representative and a few member URLs (ties: cluster_id)."""
    rows = con.execute(
        """
        WITH sizes AS (SELECT cluster_id, count(*) AS size FROM dedup_clusters GROUP BY cluster_id
                       HAVING count(*) > 1 ORDER BY size DESC, cluster_id LIMIT ?)
        SELECT s.cluster_id, s.size, r.url AS rep_url,
               list(c.url ORDER BY c.batch_id, c.doc_id)[1:?] AS urls
        FROM sizes s JOIN dedup_clusters c USING (cluster_id)
        LEFT JOIN dedup_clusters r ON r.doc_id = s.cluster_id
        GROUP BY ALL ORDER BY s.size DESC, s.cluster_id
        """,
        [limit, sample_urls],
    ).fetchall()
    return [{"cluster_id": c, "size": int(n), "representative_url": ru, "sample_urls": list(u)} for c, n, ru, u in rows]


def _has_merges(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'dedup_merges'")
                .fetchone()[0])


def merge_records(con) -> list:
    """Every recorded cluster change (`dedup_merges`), in order, as `ClusterMerge`s ([] without the table)."""
    from goldpan.dedup.clusters import ClusterMerge
    from goldpan.dedup.store import MERGE_FIELDS

    if not _has_merges(con):
        return []
    rows = con.execute(f"SELECT {', '.join(MERGE_FIELDS)} FROM dedup_merges ORDER BY batch_id, seq").fetchall()
    return [ClusterMerge(**dict(zip(MERGE_FIELDS, r, strict=True))) for r in rows]


def current_cluster(con, cluster_id: str) -> tuple[str, str, list[str]]:
    """(current cluster id, its representative, every stored cluster id now part of it) after the
    recorded merges: rows keep the cluster id they were written with, so a cluster's members are
    the rows of all the ids that resolve to it."""
    from goldpan.dedup.clusters import resolve_clusters

    state = resolve_clusters(merge_records(con))
    cur = state[cluster_id].cluster_id if cluster_id in state else cluster_id
    rep = state[cur].representative if cur in state else cur
    ids = sorted({cur} | {c for c, s in state.items() if s.cluster_id == cur})
    return cur, rep, ids


def cluster_history(con, doc_id: str) -> list[dict]:
    """The recorded changes to `doc_id`'s cluster (merges it took part in, representative changes),
    oldest first: what `goldpan clusters --doc` and `goldpan trace` show to explain a merged cluster."""
    row = con.execute("SELECT cluster_id FROM dedup_clusters WHERE doc_id = ? LIMIT 1", [doc_id]).fetchone()
    if row is None or not _has_merges(con):
        return []
    _, _, ids = current_cluster(con, row[0])
    rows = con.execute(
        "SELECT batch_id, cluster_id, into_cluster_id, old_representative, new_representative, via_doc_id, linked_to, "
        "similarity, match, reason, representative_rule FROM dedup_merges "
        "WHERE list_contains(?, cluster_id) OR list_contains(?, into_cluster_id) ORDER BY batch_id, seq",
        [ids, ids]).fetchall()
    cols = ["batch_id", "cluster_id", "into_cluster_id", "old_representative", "new_representative", "via_doc_id",
            "linked_to", "similarity", "match", "reason", "representative_rule"]
    return [dict(zip(cols, r, strict=True)) for r in rows]


def cluster_members(con, doc_id: str, limit: int = 50) -> list[dict]:
    """Every member of `doc_id`'s cluster, `doc_id` included, as dicts with MEMBER_COLUMNS; [] if the
    document is unknown. The cluster is the one it belongs to now: members of clusters merged into
    it by later batches count, and the current representative comes first (then by batch, doc_id).
    `goldpan trace` calls this."""
    row = con.execute("SELECT cluster_id FROM dedup_clusters WHERE doc_id = ? LIMIT 1", [doc_id]).fetchone()
    if row is None:
        return []
    cur, rep, ids = current_cluster(con, row[0])
    cols = [c for c in MEMBER_COLUMNS if c not in ("is_representative", "cluster_id")]
    rows = con.execute(
        f"""
        SELECT {", ".join(cols)}, doc_id = ? AS is_representative, ? AS cluster_id
        FROM dedup_clusters WHERE list_contains(?, cluster_id)
        ORDER BY doc_id = ? DESC, batch_id, doc_id LIMIT ?
        """,
        [rep, cur, ids, rep, limit],
    ).fetchall()
    return [dict(zip([*cols, "is_representative", "cluster_id"], r, strict=True)) for r in rows]


def outcome_counts(con, batch_id: str | None = None) -> dict[str, int]:
    where, params = ("WHERE batch_id = ?", [batch_id]) if batch_id else ("", [])
    return {
        k: int(n)
        for k, n in con.execute(
            f"SELECT COALESCE(rule, status), count(*) FROM dedup_clusters {where} GROUP BY 1 ORDER BY 1", params
        ).fetchall()
    }


def summary_markdown(lake: Lake, batch_id: str | None = None, limit: int = 5) -> str:
    """Markdown summary for materialization metadata and the CLI."""
    with lake.connect(tables=["dedup_clusters"]) as con:
        dist = size_distribution(con, batch_id)
        top = largest_clusters(con, limit)
    lines = ["| cluster size | clusters |", "|---|---|"] + [f"| {s} | {n} |" for s, n in dist]
    if top:
        lines += ["", "| largest cluster | size | sample URLs |", "|---|---|---|"]
        lines += [f"| {t['cluster_id']} | {t['size']} | {' '.join(u or '' for u in t['sample_urls'])} |" for t in top]
    return "\n".join(lines)
