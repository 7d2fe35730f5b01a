"""Revisit records resolved to the original payload they stand for, within one import.

A `revisit` record says "this capture had the same payload as an earlier one" and stores no body
(Heritrix, wget --warc-cdx, Browsertrix and Webrecorder deduplicate this way). Alone it is not a
page; with its original in the same import it is: the capture at the revisit's URL and date, with
the original's payload. The index keeps only what is needed to find the original again -- its
file, offset and record id, keyed by payload digest -- and the held-back revisit rows (no bodies),
so memory grows with the number of records, never with their payloads.

Matching is on `WARC-Payload-Digest` (the identical-payload-digest profile every current producer
writes; the revisit's digest is the original's). A revisit without a digest, or whose original is
not in the import (Common Crawl's revisits point at earlier crawls), stays a rejected
`warc_revisit` row, as before.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, NamedTuple

REVISIT = "warc_revisit"

# Fields a resolved revisit takes from its original's row.
_FROM_ORIGINAL = ("status", "reason", "content", "content_sha1", "content_bytes", "truncated", "content_type",
                  "charset_declared")  # fmt: skip


class Original(NamedTuple):  # one per response/resource of an import: a tuple, cheap to make and hold
    """Where an original record is: enough to read it again."""

    uri: str
    member: str | None  # archive inside a WACZ
    offset: int  # where reading may start (0 when the layout does not allow seeking)
    record_id: str
    page_id: str


def digest_key(value: str | None) -> str | None:
    """A payload digest header normalised for matching (`sha1:ABC...` in any case), or None."""
    if not value:
        return None
    algo, sep, digest = value.strip().partition(":")
    if not sep or not digest.strip():
        return None
    return f"{algo.strip().lower()}:{digest.strip().upper()}"


class RevisitIndex:
    """Originals by payload digest, and revisit rows waiting for them.

    `note` runs for every response of an import, so it stores the digest header as written and a
    plain tuple (the Original fields); digests are normalised (`digest_key`) only when a revisit
    does not find its original under the exact string -- producers write both sides alike."""

    def __init__(self) -> None:
        self._originals: dict[str, tuple] = {}
        self._normalised: dict[str, tuple] | None = None
        self._pending: list[tuple[str, dict[str, Any]]] = []

    def note(self, digest: str, original: tuple) -> None:
        """`original`: the fields of an Original. The first capture of a payload is the original."""
        if digest not in self._originals:
            self._originals[digest] = original

    def defer(self, digest: str, row: dict[str, Any]) -> None:
        self._pending.append((digest, row))

    def _find(self, digest: str) -> Original | None:
        found = self._originals.get(digest)
        if found is None:
            if self._normalised is None:
                self._normalised = {}
                for d, o in self._originals.items():
                    if (k := digest_key(d)) is not None:
                        self._normalised.setdefault(k, o)
            key = digest_key(digest)
            found = self._normalised.get(key) if key is not None else None
        return Original._make(found) if found is not None else None

    def by_file(self) -> dict[str, dict[str | None, tuple[int, set[str]]]]:
        """For each file with originals to read: per member, the offset to start at and the ids."""
        out: dict[str, dict[str | None, tuple[int, set[str]]]] = defaultdict(dict)
        for digest, _ in self._pending:
            o = self._find(digest)
            if o is None:
                continue
            start, ids = out[o.uri].get(o.member, (o.offset, set()))
            ids.add(o.record_id)
            out[o.uri][o.member] = (min(start, o.offset), ids)
        return dict(out)

    def pending_for(self, uri: str) -> list[tuple[Original, dict[str, Any]]]:
        return [(o, row) for digest, row in self._pending if (o := self._find(digest)) is not None and o.uri == uri]

    def unmatched(self) -> list[dict[str, Any]]:
        return [row for digest, row in self._pending if self._find(digest) is None]

    def absorb(self, other: RevisitIndex) -> None:
        """Add another import part's originals and held-back revisits after this one's: merging the
        indexes of files read apart (Ray tasks), in file order, gives the index one pass would build
        (the first capture of a payload stays the original)."""
        for digest, original in other._originals.items():
            self.note(digest, original)
        self._normalised = None
        self._pending.extend(other._pending)

    def __bool__(self) -> bool:
        """True while revisits wait for resolution."""
        return bool(self._pending)

    def clear(self) -> None:
        self._originals.clear()
        self._normalised = None
        self._pending.clear()


def resolved_row(revisit: dict[str, Any], original_row: dict[str, Any], original: Original) -> dict[str, Any]:
    """The revisit's row carrying its original's payload and outcome. The revisit keeps its URL,
    date, page id and HTTP headers (the original's when it has none); the link is recorded."""
    row = dict(revisit)
    for key in _FROM_ORIGINAL:
        row[key] = original_row[key]
    status = row["http_status"]
    if status is None or not 200 <= status < 300:  # e.g. a 304 revisit (server-not-modified profile)
        row["http_status"] = original_row["http_status"]
    headers = json.loads(revisit["headers_json"] or "{}")
    orig_headers = json.loads(original_row["headers_json"] or "{}")
    if not any(not k.startswith("x-warc-") for k in headers):
        headers.update({k: v for k, v in orig_headers.items() if not k.startswith("x-")})
    for key in ("x-warc-decoded", "x-warc-flags"):
        if key in orig_headers:
            headers[key] = orig_headers[key]
    headers["x-warc-refers-to-record-id"] = original.record_id
    headers["x-warc-refers-to-page-id"] = original.page_id
    headers["x-warc-refers-to-url"] = original_row["url"]
    row["headers_json"] = json.dumps(headers, sort_keys=True)
    row.pop("x_record_id", None)
    row.pop("x_digest", None)
    return row
