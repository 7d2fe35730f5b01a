"""Pinned reads for the cross-batch steps: which table versions and which batches a result was built from.

Why: batches are processed concurrently (a daily crawl while a WARC import is carried downstream, a
backfill of several partitions). A cross-batch step that read "the latest version" of each table could
see another run between two of its writes (a batch's `doc_signals` written, its `rejections` not yet)
and decide on a state that never existed. So each cross-batch step reads one `Snapshot`: a Delta version
per table, taken once, plus the batches whose per-batch stages were complete when it was taken. The
snapshot is stored in the Delta commit of what the step wrote (commit metadata key `snapshot`), so the
next step (candidate after mix, gate after candidate) reads exactly the same state, and an auditor can
replay any release from the versions it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: Tables with one slice per batch (`batch_id`). A snapshot restricted to some batches shows only those
#: slices; cross-batch tables (mix, candidate, tokens, curated) are shown whole at their pinned version.
#: `dedup_merges` is per batch too: the merges a later batch's dedup made must not reach an earlier run's mix.
PER_BATCH_TABLES: frozenset[str] = frozenset(
    {"pages", "consent", "documents", "document_variants", "dedup_clusters", "dedup_merges", "doc_signals",
     "rejections", "doc_scores", "quality_decisions", "synthetic_documents", "doc_perplexity"}
)

#: Commit-metadata key under which a cross-batch write records the snapshot it was built from.
COMMIT_KEY = "snapshot"


@dataclass(frozen=True)
class Snapshot:
    """Delta versions to read (`versions`; a table absent here is read at its latest version) and the
    batches to show in per-batch tables (`batches`; None shows every batch)."""

    versions: Mapping[str, int]
    batches: tuple[str, ...] | None = None
    #: Batches hidden from per-batch tables (those other runs are still processing, or that come later).
    excluded: tuple[str, ...] = ()

    def pinned(self, **more: int) -> Snapshot:
        """The same snapshot with more tables pinned (e.g. the mix output the candidate was built from)."""
        return Snapshot({**self.versions, **more}, self.batches, self.excluded)

    def to_json(self) -> str:
        return json.dumps({"versions": dict(sorted(self.versions.items())),
                           "batches": list(self.batches) if self.batches is not None else None,
                           "excluded": list(self.excluded)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        d = json.loads(text)
        batches = d.get("batches")
        return cls({k: int(v) for k, v in d.get("versions", {}).items()},
                   tuple(batches) if batches is not None else None, tuple(d.get("excluded") or ()))

    def view_filter(self, table: str) -> str | None:
        """The WHERE clause that restricts a per-batch table to the snapshot's batches, or None."""
        if table not in PER_BATCH_TABLES or (self.batches is None and not self.excluded):
            return None
        parts = []
        if self.batches is not None:
            parts.append(f"batch_id IN ({_quoted(self.batches)})" if self.batches else "FALSE")
        if self.excluded:
            parts.append(f"batch_id NOT IN ({_quoted(self.excluded)})")
        return " AND ".join(parts)


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def take(lake, tables: Iterable[str] | None = None, batches: Iterable[str] | None = None,
         excluded: Iterable[str] = ()) -> Snapshot:
    """The current version of each existing table (all lake tables by default), read once, now; batches
    the lake's own view hides (`Lake.excluding`) stay hidden."""
    names = list(tables) if tables is not None else lake.list_tables()
    versions = {}
    for name in names:
        v = lake.version(name)
        if v is not None:
            versions[name] = v
    hidden = set(excluded) | set(lake.view.excluded if lake.view is not None else ())
    return Snapshot(versions, tuple(sorted(set(batches))) if batches is not None else None, tuple(sorted(hidden)))


def of_commit(lake, table: str, version: int) -> Snapshot | None:
    """The snapshot recorded in the commit that produced `version` of `table`, if it recorded one."""
    dt = lake.table(table)
    if dt is None or version > dt.version():
        return None
    # history() of a table loaded at an older version mislabels versions (deltalake 1.6): read the latest
    # table's history down to `version` instead.
    for entry in dt.history(dt.version() - version + 1):
        if int(entry.get("version", -1)) == version and COMMIT_KEY in entry:
            return Snapshot.from_json(str(entry[COMMIT_KEY]))
    return None
