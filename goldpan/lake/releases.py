"""The release catalogue: the attempt statuses and the ledger of promotion attempts (`corpus_releases`).

It sits in the lake package, below every stage, because auditing (takedowns, recipes), reporting
(trace, why, diff) and export all look releases up, while promotion (`goldpan.release.promote`) is the
only writer; keeping the lookup here lets none of them import the release stage.
"""

from __future__ import annotations

from goldpan.lake.delta import Lake

APPROVED, REFUSED, PROMOTED, UNCHANGED = "approved", "refused", "promoted", "unchanged"


def releases(lake: Lake) -> list[dict]:
    """Every attempt, oldest first."""
    if not lake.exists("corpus_releases"):
        return []
    with lake.connect(tables=["corpus_releases"]) as con:
        return con.sql("SELECT * FROM corpus_releases ORDER BY decided_at, attempt_id").arrow().read_all().to_pylist()
