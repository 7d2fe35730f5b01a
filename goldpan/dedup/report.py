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


def cluster_members(con, doc_id: str, limit: int = 50) -> list[dict]:
    """Every member of `doc_id`'s cluster, `doc_id` included (representative first, then by batch and
    doc_id), as dicts with MEMBER_COLUMNS; [] if the document is unknown. `goldpan trace` calls this."""
    rows = con.execute(
        f"""
        SELECT {", ".join(MEMBER_COLUMNS)}
        FROM dedup_clusters
        WHERE cluster_id = (SELECT cluster_id FROM dedup_clusters WHERE doc_id = ? LIMIT 1)
        ORDER BY is_representative DESC, batch_id, doc_id LIMIT ?
        """,
        [doc_id, limit],
    ).fetchall()
    return [dict(zip(MEMBER_COLUMNS, r, strict=True)) for r in rows]


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
