"""Each origin's robots.txt and tdmrep.json kept as evidence: one `policy_files` row per version.

Why per version and not per fetch: a crawl reads robots.txt once per origin and run (and again
after the cache TTL), and the file rarely changes; storing it once per distinct content keeps the
table small while every `pages` row can still name the exact version that allowed its fetch. A
version is identified by (origin, path, outcome, body sha1), so a 404 and a 503 of the same origin
are different versions, and writing a version twice (a resumed crawl, two overlapping batches) is
a no-op thanks to a Delta merge on `version_id`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from goldpan.lake.schemas import POLICY_FILES

log = logging.getLogger(__name__)

TABLE = "policy_files"
ROBOTS_PATH = "/robots.txt"
TDMREP_PATH = "/.well-known/tdmrep.json"


@dataclass(frozen=True)
class PolicyFile:
    """One fetched version of an origin's robots.txt or tdmrep.json (a `policy_files` row)."""

    version_id: str
    origin: str
    path: str
    url: str
    final_url: str
    http_status: int | None
    outcome: str
    sha1: str | None
    text: str | None
    n_bytes: int
    fetched_at: datetime

    @classmethod
    def build(cls, origin: str, path: str, *, final_url: str | None, http_status: int | None, outcome: str,
              body: bytes | None, fetched_at: datetime) -> PolicyFile:
        sha1 = hashlib.sha1(body).hexdigest() if body is not None else None
        key = "\n".join([origin, path, outcome, sha1 or "-"])
        return cls(
            version_id=hashlib.sha1(key.encode("utf-8")).hexdigest()[:20],
            origin=origin,
            path=path,
            url=origin + path,
            final_url=final_url or origin + path,
            http_status=http_status,
            outcome=outcome,
            sha1=sha1,
            text=body.decode("utf-8", errors="replace") if body is not None else None,
            n_bytes=len(body) if body is not None else 0,
            fetched_at=fetched_at,
        )

    def row(self, batch_id: str) -> dict:
        return {
            "version_id": self.version_id, "origin": self.origin, "path": self.path, "url": self.url,
            "final_url": self.final_url, "http_status": self.http_status, "outcome": self.outcome, "sha1": self.sha1,
            "text": self.text, "n_bytes": self.n_bytes, "fetched_at": self.fetched_at, "batch_id": batch_id,
        }  # fmt: skip


def store(lake, files: Iterable[PolicyFile], batch_id: str, retries: int = 8) -> int:
    """Add the versions not stored yet (merge on version_id); returns the versions sent.

    Called by a crawl before each pages chunk is appended, so a pages row never names a version
    that is not in the lake yet."""
    by_id = {f.version_id: f for f in files}
    if not by_id:
        return 0
    table = pa.Table.from_pylist([f.row(batch_id) for f in by_id.values()], schema=POLICY_FILES)
    if not lake.exists(TABLE):
        try:
            lake.write(TABLE, table, POLICY_FILES, mode="append")
            return table.num_rows
        except Exception:  # another batch created it meanwhile: merge below
            if not lake.exists(TABLE):
                raise
    from deltalake.exceptions import CommitFailedError

    delay = 0.05
    for attempt in range(retries + 1):
        try:
            (
                lake.table(TABLE)
                .merge(table, "t.version_id = s.version_id", source_alias="s", target_alias="t", streamed_exec=False)
                .when_not_matched_insert_all()
                .execute()
            )
            return table.num_rows
        except CommitFailedError:
            if attempt == retries:
                raise
            log.info("policy_files merge conflicted with a concurrent writer; retrying")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    return table.num_rows


def load(lake, version_ids: Iterable[str]) -> dict[str, dict]:
    """{version_id: policy_files row} for the given ids (missing ids are absent from the result)."""
    wanted = sorted({v for v in version_ids if v})
    out: dict[str, dict] = {}
    if not wanted or not lake.exists(TABLE):
        return out
    for i in range(0, len(wanted), 500):
        part = wanted[i:i + 500]
        marks = ", ".join("?" for _ in part)
        for r in lake.iter_rows(f"SELECT * FROM {TABLE} WHERE version_id IN ({marks})", part, tables=[TABLE]):
            out[r["version_id"]] = r
    return out
