"""The crawl frontier as a Delta table (`crawl_frontier`): one row per known normalised URL.

It is the crawler's memory between batches: which URLs exist, how deep they were found, when each
is due again (`next_fetch_at`), the validators for a conditional GET (`etag`, `last_modified`)
and the sha1 of the last stored content (a 200 with the same bytes is "unchanged").

Why these choices:

* **Load once, merge rarely.** A batch reads the table once (streamed through DuckDB, keeping
  only a 64-bit hash per known URL plus the due entries). Its changes are merged in large
  vectorised batches (`frontier_merge_rows`, and at the end), not per pages chunk: a Delta merge
  rewrites the files it touches, so one merge per 256 pages dominated the cost of a crawl. A
  kill between merges loses nothing: the resumed batch replays stored pages rows whose
  frontier update never landed (goldpan.crawl.batch).
* **Updates win over discoveries.** A merge source row is either an `update` (the URL was
  fetched or decided: overwrite) or an `insert` (a link was discovered: only add if unknown),
  so rediscovering a URL never resets its revisit schedule.
* **Concurrent batches.** Two batches merging at once conflict in Delta; merges retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from goldpan.crawl.revisit import TAKEDOWN
from goldpan.lake.schemas import CRAWL_FRONTIER

log = logging.getLogger(__name__)

TABLE = "crawl_frontier"
_COLUMNS = CRAWL_FRONTIER.names
# Columns an `update` overwrites: everything except the URL's identity and first sighting.
_UPDATED = [c for c in _COLUMNS if c not in ("url", "first_seen_at", "seq")]
# How an update sets each column: the source value, except that a URL keeps its smallest depth
# (breadth-first distance) and the page that first linked to it (a redirect hop's update does
# not rewrite where the URL was discovered).
_SET = {c: f"s.{c}" for c in _UPDATED} | {
    "depth": "CASE WHEN t.depth IS NOT NULL AND t.depth < s.depth THEN t.depth ELSE s.depth END",
    "discovered_from": "COALESCE(t.discovered_from, s.discovered_from)",
}


def url_key(url: str) -> int:
    """64-bit key of a normalised URL: the in-memory "known" set holds these, not strings.
    Python's own string hash (SipHash, 64 bits, computed in C and cached on the string): the
    set lives in one process only, so per-process hash randomisation does not matter, and a
    collision among a million URLs has a probability of ~5e-8."""
    return hash(url)


@dataclass(slots=True)
class FrontierEntry:
    """What the crawler needs to know about one URL it is about to fetch."""

    url: str
    host: str
    depth: int
    seq: int
    discovered_from: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_sha1: str | None = None
    failure_count: int = 0
    fetch_count: int = 0
    first_seen_at: datetime | None = None
    last_fetched_at: datetime | None = None
    is_seed: bool = False

    def conditional_headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from the last response, for a cheap 304 revisit.
        Only sent when we also hold the content hash: otherwise a 304 could not be trusted to
        mean "the content we stored"."""
        if self.content_sha1 is None:
            return {}
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass
class FrontierSnapshot:
    """The frontier as one batch sees it at its start."""

    due: list[FrontierEntry] = field(default_factory=list)
    known: set[int] = field(default_factory=set)
    next_seq: int = 0
    total: int = 0  # rows in the table at load time

    def add_known(self, url: str) -> bool:
        """Record `url` as known; False if it already was."""
        k = url_key(url)
        if k in self.known:
            return False
        self.known.add(k)
        return True


def entry_from_row(r: dict) -> FrontierEntry:
    """A frontier table row as the entry the crawler schedules."""
    return FrontierEntry(
        url=r["url"], host=r["host"], depth=r["depth"] or 0, seq=r["seq"] or 0,
        discovered_from=r["discovered_from"], etag=r["etag"], last_modified=r["last_modified"],
        content_sha1=r["content_sha1"], failure_count=r["failure_count"] or 0,
        fetch_count=r["fetch_count"] or 0, first_seen_at=r["first_seen_at"], last_fetched_at=r["last_fetched_at"],
    )  # fmt: skip


class FrontierStore:
    """Reads and merges `crawl_frontier` in a Lake."""

    def __init__(self, lake, retries: int = 8) -> None:
        self.lake = lake
        self.retries = retries

    def exists(self) -> bool:
        return self.lake.exists(TABLE)

    def load(
        self,
        batch_id: str,
        now: datetime,
        *,
        seeds: Iterable[str] = (),
        revisit_seeds: bool = True,
        include_batch: bool = False,
    ) -> FrontierSnapshot:
        """Known URL keys and the entries due for `batch_id`, in breadth-first (depth, seq) order.

        Due: not taken down, not already decided by this very batch (a resumed batch), and
        next_fetch_at reached -- or a seed when `revisit_seeds` (seeds are where new links appear).
        `include_batch` (a restarted batch) makes URLs this batch decided due again.
        """
        snap = FrontierSnapshot()
        seed_set = set(seeds)
        if not self.exists():
            return snap
        rows = self.lake.iter_rows(
            f"SELECT url, host, depth, seq, state, discovered_from, etag, last_modified, content_sha1, "
            f"failure_count, fetch_count, first_seen_at, last_fetched_at, next_fetch_at, last_batch_id "
            f"FROM {TABLE} ORDER BY depth, seq",
            tables=[TABLE],
            batch_size=4096,
        )
        for r in rows:
            snap.total += 1
            snap.known.add(url_key(r["url"]))
            snap.next_seq = max(snap.next_seq, (r["seq"] or 0) + 1)
            if r["state"] == TAKEDOWN:
                continue
            again = r["last_batch_id"] == batch_id
            if again and not include_batch:
                continue
            nxt = r["next_fetch_at"]
            is_seed = r["url"] in seed_set
            if (nxt is not None and nxt <= now) or (revisit_seeds and is_seed) or again:
                snap.due.append(
                    FrontierEntry(
                        url=r["url"], host=r["host"], depth=r["depth"] or 0, seq=r["seq"] or 0,
                        discovered_from=r["discovered_from"], etag=r["etag"], last_modified=r["last_modified"],
                        content_sha1=r["content_sha1"], failure_count=r["failure_count"] or 0,
                        fetch_count=r["fetch_count"] or 0, first_seen_at=r["first_seen_at"],
                        last_fetched_at=r["last_fetched_at"], is_seed=is_seed,
                    )
                )  # fmt: skip
        return snap

    def entries(self, urls: Iterable[str]) -> dict[str, dict]:
        """Current frontier rows of `urls` (used to reconcile a resumed batch)."""
        wanted = list(dict.fromkeys(urls))
        if not wanted or not self.exists():
            return {}
        out: dict[str, dict] = {}
        for i in range(0, len(wanted), 1000):
            part = wanted[i : i + 1000]
            marks = ", ".join("?" for _ in part)
            for r in self.lake.iter_rows(f"SELECT * FROM {TABLE} WHERE url IN ({marks})", part, tables=[TABLE]):
                out[r["url"]] = r
        return out

    def lookup(self, urls: Iterable[str]) -> dict[str, FrontierEntry]:
        """FrontierEntry of each known URL in `urls` (the crawler's sitemap <lastmod> check)."""
        return {url: entry_from_row(r) for url, r in self.entries(urls).items()}

    def merge(self, updates: list[dict], inserts: list[dict]) -> int:
        """Apply frontier `updates` (overwrite) and `inserts` (add if unknown). Returns rows sent."""
        by_url: dict[str, tuple[str, dict]] = {}
        for r in inserts:
            by_url.setdefault(r["url"], ("insert", r))
        for r in updates:
            by_url[r["url"]] = ("update", r)
        if not by_url:
            return 0
        ops = [op for op, _ in by_url.values()]
        table = pa.Table.from_pylist([r for _, r in by_url.values()], schema=CRAWL_FRONTIER)
        table = table.append_column("_op", pa.array(ops, pa.string()))
        if not self.exists():
            try:
                self.lake.write(TABLE, table.drop_columns(["_op"]), CRAWL_FRONTIER, mode="append")
                return table.num_rows
            except Exception:  # another batch created it meanwhile: merge instead
                if not self.exists():
                    raise
        self._merge_with_retry(table)
        return table.num_rows

    def _merge_with_retry(self, source: pa.Table) -> None:
        from deltalake.exceptions import CommitFailedError

        delay = 0.05
        for attempt in range(self.retries + 1):
            dt = self.lake.table(TABLE)
            try:
                (
                    # merge_schema: a frontier written before a column was added (redirect_to) gains it
                    dt.merge(source, "t.url = s.url", source_alias="s", target_alias="t", streamed_exec=False,
                             merge_schema=True)
                    .when_matched_update(_SET, predicate="s._op = 'update'")
                    .when_not_matched_insert({c: f"s.{c}" for c in _COLUMNS})
                    .execute()
                )
                return
            except CommitFailedError:
                if attempt == self.retries:
                    raise
                log.info("frontier merge conflicted with a concurrent writer; retrying")
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def compact(self) -> None:
        """Rewrite the many small files left by chunked merges (best effort)."""
        dt = self.lake.table(TABLE)
        if dt is None:
            return
        try:
            dt.optimize.compact()
        except Exception:  # a concurrent writer: the next batch compacts
            log.info("frontier compaction skipped", exc_info=True)

