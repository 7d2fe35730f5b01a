"""Seeded, order-independent sampling of lake documents and seeded splits of labelled texts.

Why hash ordering: `ORDER BY md5(seed || doc_id)` picks the same documents whatever order the
Parquet files are read in, and adding a batch only adds candidates instead of reshuffling everyone,
so a retrain on the same lake with the same seed sees the same negatives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from goldpan.lake.views import CURRENT_TEXT_SQL

_POOL_SQL = """
SELECT d.doc_id, """ + CURRENT_TEXT_SQL + """ AS text
FROM documents d LEFT JOIN dedup_clusters c ON c.doc_id = d.doc_id
WHERE d.status = 'kept' AND d.text IS NOT NULL {exclude}
ORDER BY md5(CAST(? AS VARCHAR) || d.doc_id)
LIMIT ?
"""


def sample_documents(lake, n: int, seed: int, exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Up to `n` (doc_id, text) pairs of kept documents from every batch, seeded; [] if none exist."""
    if n <= 0 or not lake.exists("documents"):
        return []
    tables = ["documents"] + (["dedup_clusters"] if lake.exists("dedup_clusters") else [])
    with lake.connect(tables=tables) as con:
        if "dedup_clusters" not in tables:
            con.execute("CREATE TEMP TABLE dedup_clusters (doc_id VARCHAR, dedup_text VARCHAR)")
        params: list = []
        exclude_sql = ""
        if exclude:
            con.execute("CREATE TEMP TABLE excluded (doc_id VARCHAR)")
            con.executemany("INSERT INTO excluded VALUES (?)", [[d] for d in exclude])
            exclude_sql = "AND d.doc_id NOT IN (SELECT doc_id FROM excluded)"
        params += [str(seed), int(n)]
        return [(r[0], r[1]) for r in con.execute(_POOL_SQL.format(exclude=exclude_sql), params).fetchall()]


def split(items: Sequence, heldout_fraction: float, seed: int) -> tuple[list, list]:
    """(train, heldout), seeded; the held-out part has at least one item when there are two or more."""
    idx = np.random.default_rng(seed).permutation(len(items))
    k = round(len(items) * heldout_fraction)
    if len(items) >= 2:
        k = min(max(k, 1), len(items) - 1)
    held = set(idx[:k].tolist())
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]


def subsample(items: Sequence, n: int, seed: int) -> list:
    """`n` items in a seeded order (all of them, reordered, when n >= len)."""
    idx = np.random.default_rng(seed).permutation(len(items))[: max(n, 0)]
    return [items[i] for i in sorted(idx.tolist())]
