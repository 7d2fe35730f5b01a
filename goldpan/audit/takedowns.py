"""Takedown requests: the `takedowns` table and the matcher every stage consults.

A takedown is data, not a code change: one row per request (a URL, a domain, or a URL
pattern), kept forever as the audit record. Three places read it through `TakedownMatcher`:
the crawler (never fetch a matching URL again), the mixer (never select a matching document
again, so the next release drops it with rule `takedown`) and the audit commands. Matching is
on normalised URLs so `HTTP://Example.com:80/a#x` and `http://example.com/a` are one page.
"""

from __future__ import annotations

import fnmatch
import getpass
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from goldpan.crawl.urls import host_of, normalize_url
from goldpan.lake.releases import PROMOTED, releases
from goldpan.lake.schemas import TAKEDOWNS  # re-exported: the table's schema

if TYPE_CHECKING:
    from goldpan.lake import Lake

KINDS = ("url", "domain", "pattern")


class TakedownError(ValueError):
    """A request that cannot be matched reliably (unknown kind, unparsable URL, empty value)."""


def canonical_value(kind: str, value: str) -> str:
    """The form a request is stored and matched in; raises TakedownError for bad input."""
    value = (value or "").strip()
    if kind not in KINDS:
        raise TakedownError(f"unknown takedown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not value:
        raise TakedownError(f"empty {kind} takedown value")
    if kind == "url":
        url = normalize_url(value)
        if url is None:
            raise TakedownError(f"not an http(s) URL: {value!r}")
        return url
    if kind == "domain":
        host = host_of(value) if "://" in value else value
        host = (host or "").lower().strip(".")
        if not host or "/" in host:
            raise TakedownError(f"not a domain: {value!r}")
        return host
    return value


@dataclass(frozen=True)
class Takedown:
    request_id: str
    kind: str
    value: str
    reason: str = ""


@dataclass
class TakedownMatcher:
    """Answers "which takedown request, if any, covers this URL?" in O(1) for URLs and domains."""

    urls: dict[str, str] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    @classmethod
    def from_requests(cls, requests: Iterable[Takedown | Mapping]) -> TakedownMatcher:
        m = cls()
        for r in requests:
            if isinstance(r, Mapping):
                r = Takedown(r["request_id"], r["kind"], r["value"], r.get("reason") or "")
            value = canonical_value(r.kind, r.value)
            if r.kind == "url":
                m.urls.setdefault(value, r.request_id)
            elif r.kind == "domain":
                m.domains.setdefault(value, r.request_id)
            else:
                m.patterns.append((re.compile(fnmatch.translate(value)), r.request_id))
        return m

    @classmethod
    def from_lake(cls, lake: Lake) -> TakedownMatcher:
        """All requests recorded in the lake; an empty matcher when none were ever made."""
        if "takedowns" not in lake.list_tables():
            return cls()
        rows = lake.iter_rows("SELECT request_id, kind, value, reason FROM takedowns ORDER BY requested_at",
                              tables=["takedowns"])
        return cls.from_requests(rows)

    def __bool__(self) -> bool:
        return bool(self.urls or self.domains or self.patterns)

    def match(self, url: str | None) -> str | None:
        """The request_id of the first request covering `url`, else None."""
        if not url or not self:
            return None
        norm = normalize_url(url) or url
        if (rid := self.urls.get(norm)) is not None:
            return rid
        host = host_of(norm)
        if host and self.domains:
            parts = host.split(".")
            for i in range(len(parts)):
                if (rid := self.domains.get(".".join(parts[i:]))) is not None:
                    return rid
        for rx, rid in self.patterns:
            if rx.match(norm):
                return rid
        return None


# -- the audit record ----------------------------------------------------------------------------

def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 -- no passwd entry in some containers
        return "unknown"


def new_request_id() -> str:
    return "td-" + uuid.uuid4().hex[:12]


def record_request(
    lake: Lake,
    kind: str,
    value: str,
    reason: str,
    *,
    requested_by: str = "",
    vacuum: bool = False,
    request_id: str | None = None,
) -> dict:
    """Append one request to `takedowns` *before* anything is deleted.

    Recording first means a crash half-way through the deletes still leaves the crawler and the
    mixer honouring the request; `apply_takedown` can then be re-run with the same request id.
    """
    import pyarrow as pa

    if not (reason or "").strip():
        raise TakedownError("a takedown needs a reason (it is the audit record)")
    row = {
        "request_id": request_id or new_request_id(),
        "kind": kind,
        "value": canonical_value(kind, value),
        "reason": reason.strip(),
        "requested_by": requested_by or _user(),
        "requested_at": datetime.now(UTC),
        "vacuum": bool(vacuum),
        "rows_deleted_json": None,
    }
    lake.write("takedowns", [pa.RecordBatch.from_pylist([row], schema=TAKEDOWNS)], TAKEDOWNS, mode="append",
               commit_metadata={"takedown_request": row["request_id"]})
    return row


def requests(lake: Lake) -> list[dict]:
    """Every request ever recorded, oldest first (the table is small: one row per request)."""
    if not lake.exists("takedowns"):
        return []
    with lake.connect(tables=["takedowns"]) as con:
        return con.sql("SELECT * FROM takedowns ORDER BY requested_at, request_id").arrow().read_all().to_pylist()


def set_rows_deleted(lake: Lake, request_id: str, counts: Mapping[str, int]) -> None:
    """Add {table: rows deleted} to the request row: re-applying a request (after a crash, or when
    rows it covers arrived later) accumulates, so the record says everything it ever removed."""
    dt = lake.table("takedowns")
    assert dt is not None
    prev = next((r for r in requests(lake) if r["request_id"] == request_id), None)
    total = dict(json.loads(prev["rows_deleted_json"])) if prev and prev.get("rows_deleted_json") else {}
    for t, n in counts.items():
        total[t] = total.get(t, 0) + int(n)
    payload = json.dumps(total, sort_keys=True).replace("'", "''")
    rid = request_id.replace("'", "''")
    dt.update(updates={"rows_deleted_json": f"'{payload}'"}, predicate=f"request_id = '{rid}'")


def removed_by_takedowns(lake: Lake, candidate_version: int | None = None) -> dict[str, int]:
    """{request_id: documents} of the last promoted release that takedowns keep out of this candidate.

    What a promotion states ("this release drops N documents for takedown R"): documents of the
    previous release whose URL a request covers and which the candidate no longer holds. The release
    stage calls it with the candidate version it promotes; `goldpan diff` reports the same count.
    """
    from collections import Counter

    matcher = TakedownMatcher.from_lake(lake)
    prev = [r for r in releases(lake) if r["status"] == PROMOTED and r["corpus_version"] is not None]
    if not matcher or not prev or not lake.exists("corpus_candidate"):
        return {}
    versions = {"training_corpus": int(prev[-1]["corpus_version"])}
    if candidate_version is not None:
        versions["corpus_candidate"] = int(candidate_version)
    counts: Counter[str] = Counter()
    rows = lake.iter_batches(
        "SELECT t.url FROM training_corpus t ANTI JOIN corpus_candidate c ON c.doc_id = t.doc_id",
        tables=["training_corpus", "corpus_candidate"], versions=versions, batch_size=10_000)
    for batch in rows:
        for url in batch.column(0).to_pylist():
            if (rid := matcher.match(url)) is not None:
                counts[rid] += 1
    return dict(counts)
