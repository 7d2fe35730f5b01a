"""Applying a takedown: find every row derived from the matching pages and delete it with Delta deletes.

Why deletes and not a filter at read time: a takedown is a legal or ethical obligation to stop
holding the content, so the rows must leave every derived table, not just be hidden. Matching is
by URL through `TakedownMatcher` (the same function the crawler and the mixer use), then widened
along the lineage ids: a matching page takes its documents with it (page_id), and a matching
document takes every row keyed by its doc_id (variants, dedup rows, signals, scores, rejections,
mix decisions, candidate rows, and any table a later stage adds with one of these id columns).

What is *not* deleted here, on purpose:
- `takedowns` (the audit record) and `corpus_releases` (the release ledger);
- `training_corpus`: each Delta version is a published release. The next promotion drops the
  documents (their candidate rows are gone, and the mixer rejects re-crawled copies with rule
  `takedown`); older versions keep them until vacuumed, and `releases_still_holding` names them;
- `crawl_frontier`: the crawler keeps the URL there in state 'takedown' so it is never fetched again.

Delta deletes rewrite the files that held the rows; the old files stay on disk (time travel) until
`vacuum_tables` removes them with retention 0, which also ends time travel for those tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from deltalake import CommitProperties

from goldpan.audit.takedowns import TakedownMatcher
from goldpan.lake import Lake
from goldpan.lake.releases import PROMOTED, releases

# Tables a takedown never deletes from (see the module docstring).
KEEP_TABLES = frozenset({"takedowns", "corpus_releases", "training_corpus", "recipe_snapshots", "crawl_frontier"})
# Tables whose URLs are scanned to find the matching ids, with the id columns they expose.
URL_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pages", ("url", "final_url")),
    ("documents", ("url",)),
    ("document_variants", ("url",)),
    ("dedup_clusters", ("url",)),
    ("corpus_candidate", ("url",)),
)
ID_CHUNK = 500  # ids per delete predicate: keeps the SQL small for DataFusion's parser


@dataclass
class Matches:
    page_ids: set[str] = field(default_factory=set)
    doc_ids: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.page_ids or self.doc_ids or self.urls)


@dataclass
class EraseResult:
    request_id: str
    matches: Matches
    rows_deleted: dict[str, int]
    versions: dict[str, int]
    vacuumed: dict[str, int] = field(default_factory=dict)  # table -> files removed
    frontier_marked: int = 0  # crawl_frontier URLs put in state 'takedown'

    releases_holding: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "request_id": self.request_id,
            "matched": {"pages": len(self.matches.page_ids), "documents": len(self.matches.doc_ids),
                        "urls": sorted(self.matches.urls)},
            "rows_deleted": self.rows_deleted,
            "delta_versions": self.versions,
            "vacuumed_files": self.vacuumed,
            "frontier_marked": self.frontier_marked,
            "releases_still_holding": self.releases_holding,
        }


def _columns(lake: Lake, table: str) -> set[str]:
    dt = lake.table(table)
    return set() if dt is None else {f.name for f in dt.schema().fields}


def find_matches(lake: Lake, matcher: TakedownMatcher) -> Matches:
    """Every page, document and URL the matcher covers, streamed table by table."""
    m = Matches()
    tables = set(lake.list_tables())
    for table, url_cols in URL_SOURCES:
        if table not in tables:
            continue
        cols = _columns(lake, table)
        ids = [c for c in ("page_id", "doc_id") if c in cols]
        urls = [c for c in url_cols if c in cols]
        if not urls:
            continue
        sql = f"SELECT {', '.join(ids + urls)} FROM {table}"
        for row in lake.iter_rows(sql, tables=[table], batch_size=4096):
            hits = [row[c] for c in urls if row[c] and matcher.match(row[c])]
            if hits:
                m.urls.update(hits)
                if row.get("page_id"):
                    m.page_ids.add(row["page_id"])
                if row.get("doc_id"):
                    m.doc_ids.add(row["doc_id"])
    # A matching page takes the documents extracted from it (even if their own url column differs).
    if m.page_ids and "documents" in tables:
        for chunk in _chunks(sorted(m.page_ids)):
            with lake.connect(tables=["documents"]) as con:
                m.doc_ids.update(r[0] for r in con.execute(
                    f"SELECT doc_id FROM documents WHERE page_id IN ({_in_list(chunk)})").fetchall())
    return m


def _chunks(ids: list[str], n: int = ID_CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def _in_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def delete_matches(lake: Lake, matches: Matches, request_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """Delete the matched rows from every derived table; returns ({table: rows}, {table: version})."""
    deleted: dict[str, int] = {}
    versions: dict[str, int] = {}
    props = CommitProperties(custom_metadata={"takedown_request": request_id})
    for table in lake.list_tables():
        if table in KEEP_TABLES:
            continue
        cols = _columns(lake, table)
        keyed = [(c, sorted(ids)) for c, ids in (("doc_id", matches.doc_ids), ("page_id", matches.page_ids))
                 if c in cols and ids]
        if not keyed and "url" in cols and matches.urls:
            keyed = [("url", sorted(matches.urls))]
        if not keyed:
            continue
        n = 0
        for col, ids in keyed:
            for chunk in _chunks(ids):
                dt = lake.table(table)
                metrics = dt.delete(f"{col} IN ({_in_list(chunk)})", commit_properties=props)
                n += int(metrics.get("num_deleted_rows") or 0)
        if n:
            deleted[table] = n
            versions[table] = lake.version(table)
    return deleted, versions


def mark_frontier(lake: Lake, matcher: TakedownMatcher, request_id: str) -> int:
    """Put every matching crawl_frontier URL in the crawler's own 'takedown' state right away.

    The crawler marks a URL itself when it next considers it (a due revisit or a new link); doing it
    here too means the frontier, and `goldpan why`, say so from the moment of the request, and a URL
    that is not due for months is not left looking like an ordinary fetched page. Rows are updated,
    not deleted: the frontier entry is what keeps the URL from being rediscovered and fetched.
    """
    from goldpan.crawl.revisit import TAKEDOWN

    dt = lake.table("crawl_frontier")
    if dt is None:
        return 0
    cols = {f.name for f in dt.schema().fields}
    if "url" not in cols or "state" not in cols:
        return 0
    urls = sorted({r["url"] for r in lake.iter_rows("SELECT url FROM crawl_frontier", tables=["crawl_frontier"],
                                                      batch_size=10_000) if r["url"] and matcher.match(r["url"])})
    updates = {"state": f"'{TAKEDOWN}'"}
    if "next_fetch_at" in cols:
        updates["next_fetch_at"] = "NULL"
    if "takedown_request_id" in cols:
        updates["takedown_request_id"] = "'" + request_id.replace("'", "''") + "'"
    props = CommitProperties(custom_metadata={"takedown_request": request_id})
    n = 0
    for chunk in _chunks(urls):
        metrics = lake.table("crawl_frontier").update(updates=updates, predicate=f"url IN ({_in_list(chunk)})",
                                                      commit_properties=props)
        n += int(metrics.get("num_updated_rows") or 0)
    return n


def releases_still_holding(lake: Lake, matches: Matches) -> list[dict]:
    """Promoted releases whose training_corpus version still contains matched documents."""
    out = []
    if not matches.doc_ids and not matches.urls:
        return out
    for r in releases(lake):
        if r["status"] != PROMOTED or r["corpus_version"] is None:
            continue
        try:
            con = lake.connect(versions={"training_corpus": int(r["corpus_version"])}, tables=["training_corpus"])
        except Exception:  # noqa: BLE001, S112 -- a vacuumed or missing version holds nothing readable
            continue
        with con:
            n = 0
            for chunk in _chunks(sorted(matches.doc_ids)):
                n += con.execute(f"SELECT count(*) FROM training_corpus WHERE doc_id IN ({_in_list(chunk)})").fetchall()[0][0]
            if not matches.doc_ids:
                for chunk in _chunks(sorted(matches.urls)):
                    n += con.execute(f"SELECT count(*) FROM training_corpus WHERE url IN ({_in_list(chunk)})").fetchall()[0][0]
        if n:
            out.append({"release": r["release"], "corpus_version": int(r["corpus_version"]), "documents": n})
    return out


def vacuum_tables(lake: Lake, tables: Iterable[str]) -> dict[str, int]:
    """Physically remove files no longer referenced by each table's latest version (retention 0).

    This is what makes a takedown final on disk: after it, no Delta version of these tables can
    bring the rows back, and time travel on them to versions before the takedown stops working.
    """
    removed = {}
    for t in sorted(set(tables)):
        dt = lake.table(t)
        if dt is None:
            continue
        files = dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
        removed[t] = len(files)
    return removed


def apply_takedown(lake: Lake, request: dict, *, vacuum: bool = False) -> EraseResult:
    """Delete everything the request matches (and, with `vacuum`, the files that held it).

    Idempotent: re-applying a request finds nothing left to delete in the derived tables.
    """
    from goldpan.audit.takedowns import set_rows_deleted

    matcher = TakedownMatcher.from_requests([request])
    matches = find_matches(lake, matcher)
    deleted, versions = delete_matches(lake, matches, request["request_id"])
    result = EraseResult(request["request_id"], matches, deleted, versions)
    result.frontier_marked = mark_frontier(lake, matcher, request["request_id"])
    if vacuum and deleted:
        result.vacuumed = vacuum_tables(lake, deleted)
    result.releases_holding = releases_still_holding(lake, matches)
    set_rows_deleted(lake, request["request_id"], deleted)
    return result
