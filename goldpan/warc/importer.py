"""WARC/WET/ARC/WACZ files -> `pages` rows: the second source of a batch, feeding the same downstream.

Which files and producers are read, and how, is in goldpan.warc.formats; per record:
* `response` records (HTTP status line + headers + payload) become rows with source='warc', judged
  like a crawl fetch (2xx and an allowed content type -> kept, otherwise rejected `http_<code>` /
  `content_type:<type>`); `resource` records are kept/rejected by their WARC Content-Type. The
  target URI is cleaned as archives write it (goldpan.warc.uris; the original is kept in
  `headers_json["x-warc-target-uri"]` when it differs from `url`), and the payload decoded as a browser would
  (goldpan.warc.payload: chunked transfer coding, then gzip/deflate/br), each step recorded.
* `revisit` records are held back until the import has read every file, then resolved to their
  original's payload when it is in the import (goldpan.warc.revisits), else rejected
  `warc_revisit`.
* `request`, `metadata`, `warcinfo` and (outside WET files) `conversion` records describe fetches
  rather than being pages, as do captures of non-web URIs (`dns:`, wget's `metadata://` log):
  they are counted by type (`WarcStats.record_types` / `skipped_types`), not stored.
* WET: `conversion` records (extracted plain text) become rows with source='wet',
  content_type 'text/plain', charset utf-8.

Damaged input never stops a file: an unparsable region (goldpan.warc.reader, goldpan.warc.arc), a
digest that does not match (`WarcSection.digest`: the payload digest, verified with the SHA-1
that also gives content_sha1, or the block digest, which costs a second pass), or unreadable HTTP
headers become `error` rows naming file, offset (and WACZ member) and the reason, and the rest of
the file still imports. (A .warc.gz also has gzip's CRC-32 per record, which fastwarc checks:
corrupted bytes there are a `malformed_record`.) Decoding is bounded like the crawler's
(`max_bytes` of decoded output), so a decompression bomb is truncated and a 1 GB record costs the
cap, not 1 GB of memory. Rows are written in chunks, each read lazily while deltalake writes the
previous record batches (zstd-1 Parquet by default); a killed import resumes by skipping the page
ids already stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from deltalake import ColumnProperties, WriterProperties

from goldpan.crawl.batch import COMPACT_AFTER_CHUNKS, compact_batch
from goldpan.crawl.fetcher import (
    DROPPED_HEADERS,
    make_row,
    parse_content_type,
)
from goldpan.crawl.sniff import binary_kind
from goldpan.crawl.urls import ALLOWED_SCHEMES, normalize_url
from goldpan.lake import batch_predicate
from goldpan.lake.schemas import ERROR, KEPT, PAGES, REJECTED
from goldpan.recipe import WarcSection
from goldpan.warc.formats import ARC, Part, open_parts
from goldpan.warc.inputs import EMPTY_FILE, TRUNCATED_FILE, check_sources, is_gzip_file, tail_problem
from goldpan.warc.payload import CHUNKED_INCOMPLETE, CHUNKED_OK, content_codings, dechunk, decode_bounded
from goldpan.warc.reader import PER_RECORD, SINGLE_STREAM
from goldpan.warc.revisits import REVISIT, RevisitIndex, resolved_row
from goldpan.warc.sources import open_source, source_size
from goldpan.warc.uris import clean_target_uri, uri_scheme

log = logging.getLogger(__name__)

WARC_SOURCE, WET_SOURCE = "warc", "wet"
CHUNK_BYTES = 64 << 20  # a chunk is also committed once it holds this much content
# Rows per Arrow record batch handed to the Parquet writer, i.e. per row group of `pages`: the finest
# unit a later stage's task can read (goldpan.engine.units). 64 pages are 0.2-0.4 s of extraction on a
# core, so the last, smallest tasks of `documents` on Ray end close together (256 left one of 2 workers
# idle for ~1 s at the end of the stage); the pages files grew 3 % (31 -> 32 MB for 6,000 pages).
BATCH_ROWS = 64
BATCH_BYTES = 16 << 20  # ... or fewer, once the batch holds this much content

# Records that describe a capture rather than being one: counted by type in the batch, never pages.
# Compared by name: a pyo3 enum compares slower than a str, and this runs for every record.
_NOT_PAGES = frozenset({"warcinfo", "request", "metadata", "continuation"})
_PAGE_TYPES = frozenset({"response", "resource", "revisit", "conversion"})
_WEB = ("http://", "https://")


def writer_properties(cfg: WarcSection) -> WriterProperties | None:
    """Parquet settings of the pages files an import writes: the recipe's codec (page bodies dominate
    the bytes, and deltalake's default, snappy, spends more CPU than zstd level 1 for a worse ratio on
    HTML; bench/warc_import.py prints both), and no dictionary for the body/headers columns (every
    page body is unique: the writer would build a dictionary only to discard it)."""
    if not cfg.parquet_compression:
        return None
    no_dict = ColumnProperties(dictionary_enabled=False)
    return WriterProperties(
        compression=cfg.parquet_compression.upper(),  # type: ignore[arg-type]
        compression_level=cfg.parquet_compression_level,
        column_properties={"content": no_dict, "headers_json": no_dict},
    )


@dataclass
class WarcStats:
    files: int = 0
    records: int = 0  # every record or damaged region read
    rows: int = 0  # pages rows (rows == kept + rejected + errored)
    kept: int = 0
    rejected: int = 0
    errored: int = 0
    # Every record read, by WARC-Type (ARC records as the WARC type they become).
    record_types: Counter[str] = field(default_factory=Counter)
    # Records that are not pages: request/metadata/warcinfo/conversion (conversion is a page in WET
    # files only), and `<type>:<scheme>` for captures of non-web URIs (dns:, metadata://, urn:).
    skipped_types: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)  # archives read: warc.gz, arc, wacz:warc.gz, ...
    decoded: Counter[str] = field(default_factory=Counter)  # payload decodings: chunked, gzip, deflate, br
    flags: Counter[str] = field(default_factory=Counter)  # raw body kept: not_chunked, invalid_chunking, ...
    revisits_resolved: int = 0  # revisit rows that became their original's page
    revisits_unresolved: int = 0  # revisit rows without an original in the import (`warc_revisit`)
    reasons: Counter[str] = field(default_factory=Counter)
    bytes_read: int = 0  # compressed file bytes
    payload_bytes: int = 0
    resumed_rows: int = 0

    def count(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        if row["status"] == KEPT:
            self.kept += 1
            self.payload_bytes += row["content_bytes"] or 0
        elif row["status"] == ERROR:
            self.errored += 1
        else:
            self.rejected += 1
        if row["reason"]:
            self.reasons[row["reason"].split(":", 1)[0] if row["status"] == ERROR else row["reason"]] += 1

    def merge(self, other: WarcStats) -> None:
        """Add the counts of another part of the same import (a file read by another worker)."""
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine + theirs)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for name in ("record_types", "skipped_types", "formats", "decoded", "flags", "reasons"):
            d[name] = dict(sorted(getattr(self, name).items()))
        return d


def warc_page_id(batch_id: str, key: str) -> str:
    """Stable id of one record in one batch (a URL may be captured several times in a file)."""
    return hashlib.sha1(f"{batch_id}|{key}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class _Part:
    """Where the records being read come from: the file, the archive inside a WACZ, the layout."""

    uri: str
    member: str | None
    flags: tuple[str, ...]  # file-level quirks copied to every row (e.g. gzip_single_stream)
    is_wet: bool
    kind: str = "warc"  # warc | arc


def _meta(part: _Part, offset: int) -> dict[str, str]:
    meta = {"x-warc-file": part.uri, "x-warc-offset": str(offset)}
    if part.member is not None:
        meta["x-warc-member"] = part.member
    if part.flags:
        meta["x-warc-flags"] = ",".join(part.flags)
    return meta


def _error_row(batch_id: str, part: _Part, offset: int, reason: str, source: str, url: str | None = None) -> dict:
    where = f"{part.uri}#{part.member + ':' if part.member else ''}offset={offset}"
    row = make_row(batch_id=batch_id, url=url or where, depth=0, discovered_from=None, source=source,
                   status=ERROR, reason=reason, headers=_meta(part, offset))  # fmt: skip
    row["page_id"] = warc_page_id(batch_id, where)
    row["depth"] = None
    return row


def rows_from_file(
    uri: str,
    batch_id: str,
    cfg: WarcSection,
    stats: WarcStats,
    *,
    takedowns: Callable[[str], str | None] | None = None,
    revisits: RevisitIndex | None = None,
) -> Iterator[dict[str, Any]]:
    """One `pages` row per page-like record (or damaged region) of one WARC/WET/ARC/WACZ file.

    Revisit records are held back until the originals they may point to have been seen: with
    `revisits` (shared by the files of an import) the caller resolves them at the end
    (`resolve_revisits`); without it they are resolved at the end of this file."""
    own = revisits is None
    index = RevisitIndex() if revisits is None else revisits
    yield from _file_rows(uri, batch_id, cfg, stats, takedowns, index)
    if own:
        yield from resolve_revisits(index, batch_id, cfg, stats, takedowns)


@contextmanager
def _opened(uri: str, cfg: WarcSection) -> Iterator[list[Part]]:
    local = "://" not in uri or uri.startswith("file://")
    path = uri.removeprefix("file://") if local else None
    stream = open_source(uri, cfg.storage_options)
    try:
        with open_parts(stream, path, uri) as parts:
            yield parts
    finally:
        stream.close()


def _file_rows(uri: str, batch_id: str, cfg: WarcSection, stats: WarcStats,
               takedowns: Callable[[str], str | None] | None, index: RevisitIndex) -> Iterator[dict[str, Any]]:  # fmt: skip
    stats.files += 1
    is_wet = ".wet" in uri.rsplit("/", 1)[-1].lower()
    if source_size(uri, cfg.storage_options) == 0:  # goldpan.warc.inputs: an empty file is said, not skipped
        log.warning("WARC/WET file %s is empty", uri)
        yield _error_row(batch_id, _Part(uri, None, (), is_wet), 0, EMPTY_FILE, WET_SOURCE if is_wet else WARC_SOURCE)
        return
    local = "://" not in uri or uri.startswith("file://")
    try:
        with _opened(uri, cfg) as parts:
            for part in parts:
                stats.formats[part.label] += 1
                where = _Part(uri, part.member, () if part.layout == PER_RECORD else (part.layout,), is_wet, part.kind)
                last: list[int | None] = [None]
                yield from _part_rows(part, where, batch_id, cfg, stats, takedowns, index, last)
                # goldpan.warc.inputs: a plain file cut inside its last record (which the reader may
                # not notice, e.g. a request record it never reads) is one truncated_file error row
                if local and len(parts) == 1 and part.member is None and part.layout == PER_RECORD \
                        and part.kind == "warc" and last[0] is not None:  # ARC files have their own checks
                    path = uri.removeprefix("file://")
                    problem = tail_problem(path, last[0], source_size(uri) or 0, is_gzip_file(path))
                    if problem:
                        log.warning("WARC/WET file %s is truncated: %s", uri, problem)
                        yield _error_row(batch_id, where, last[0], TRUNCATED_FILE,
                                         WET_SOURCE if is_wet else WARC_SOURCE)  # fmt: skip
    finally:
        stats.bytes_read += source_size(uri, cfg.storage_options) or 0


def _part_rows(part: Part, where: _Part, batch_id: str, cfg: WarcSection, stats: WarcStats,
               takedowns: Callable[[str], str | None] | None, index: RevisitIndex,
               last: list[int | None] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Rows of one part (one archive); `last[0]` follows the offset of the last record read whole
    (None after damage), for the truncated-file check of `_file_rows`."""
    source = WET_SOURCE if where.is_wet else WARC_SOURCE
    seekable = part.kind == "warc" and part.layout != SINGLE_STREAM
    last = last if last is not None else [None]
    for item in part.items(0):
        stats.records += 1
        last[0] = item.offset if item.error is None else None
        if item.error is not None:
            yield _error_row(batch_id, where, item.offset, item.error, source)
            continue
        rec = item.record
        assert rec is not None
        rtype = rec.record_type
        name = str(rtype)
        stats.record_types[name] += 1
        if name in _NOT_PAGES or (name == "conversion" and not where.is_wet):
            stats.skipped_types[name] += 1  # fetch descriptions, logs, derived text: counted, not pages
            continue
        raw_target = rec.headers.get("WARC-Target-URI") or ""
        target = clean_target_uri(raw_target)
        if not target.startswith(_WEB):
            scheme = uri_scheme(target)
            if scheme is not None and scheme not in ALLOWED_SCHEMES:  # dns:, metadata://, urn:, file://
                stats.skipped_types[f"{name}:{scheme}"] += 1
                continue
        try:
            row = _record_row(rec, name, where, item.offset, raw_target, target, batch_id, cfg, stats, takedowns)
        except OSError as exc:  # the payload could not be read: this record only
            row = _error_row(batch_id, where, item.offset, f"unreadable_record:{str(exc)[:100]}", source,
                             normalize_url(target))  # fmt: skip
        if row is not None and row["status"] == ERROR:
            last[0] = None  # this record's damage is already an error row
        if row is None:
            stats.skipped_types[name] += 1
            continue
        record_id, digest = row.pop("x_record_id", None), row.pop("x_digest", None)
        if name == "revisit" and row["reason"] == REVISIT:
            if digest:
                row["x_record_id"] = record_id
                index.defer(digest, row)
                continue
        elif row["status"] != ERROR and name in ("response", "resource"):
            if name == "resource" and digest is None:
                digest = rec.headers.get("WARC-Block-Digest")  # a resource's block is its payload
            if digest:
                index.note(digest, (where.uri, part.member, item.offset if seekable else 0, record_id, row["page_id"]))
        yield row


def resolve_revisits(index: RevisitIndex, batch_id: str, cfg: WarcSection, stats: WarcStats,
                     takedowns: Callable[[str], str | None] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The held-back revisit rows: each whose original was read in this import becomes that
    original's page (payload, content type, outcome) under the revisit's URL, date and HTTP
    headers, with the link in `x-warc-refers-to-*`; the others stay rejected `warc_revisit`.
    Originals are read again from their files (seeking to their offset where the layout allows),
    so no payload is held in memory while the import runs."""
    for uri, wanted in index.by_file().items():
        found: dict[str, dict[str, Any]] = {}
        for member, (start, ids) in wanted.items():
            found.update(_reread(uri, member, start, ids, batch_id, cfg, takedowns))
        for original, row in index.pending_for(uri):
            orig = found.get(original.record_id)
            if orig is None or orig["status"] == ERROR:
                stats.revisits_unresolved += 1
                row.pop("x_record_id", None)
                row.pop("x_digest", None)
                yield row
            else:
                stats.revisits_resolved += 1
                yield resolved_row(row, orig, original)
    for row in index.unmatched():
        stats.revisits_unresolved += 1
        row.pop("x_record_id", None)
        row.pop("x_digest", None)
        yield row
    index.clear()


def _reread(uri: str, member: str | None, start: int, ids: set[str], batch_id: str, cfg: WarcSection,
            takedowns: Callable[[str], str | None] | None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The rows of the records `ids` of one file (or WACZ member), read from offset `start`."""
    out: dict[str, dict[str, Any]] = {}
    scratch = WarcStats()
    with _opened(uri, cfg) as parts:
        for part in parts:
            if part.member != member:
                continue
            where = _Part(uri, member, () if part.layout == PER_RECORD else (part.layout,), False, part.kind)
            for item in part.items(start):
                rec = item.record
                if rec is None or rec.record_id not in ids:
                    continue
                target = rec.headers.get("WARC-Target-URI") or ""
                try:
                    row = _record_row(rec, str(rec.record_type), where, item.offset, target, clean_target_uri(target),
                                      batch_id, cfg, scratch, takedowns)  # fmt: skip
                except OSError:
                    row = None
                if row is not None:
                    out[rec.record_id] = row
                if len(out) == len(ids):
                    return out
    return out


def _record_row(rec, rtype: str, part: _Part, offset: int, raw_target: str, target: str, batch_id: str,
                cfg: WarcSection, stats: WarcStats,
                takedowns: Callable[[str], str | None] | None) -> dict[str, Any] | None:  # fmt: skip
    """The row of one page-like record (`rtype`: its WARC-Type). Two working fields ride along
    for the revisit index, `x_record_id` and `x_digest`, and are removed before the row is written."""
    if rtype not in _PAGE_TYPES:
        return None
    source = WET_SOURCE if rtype == "conversion" else WARC_SOURCE
    digest_header = rec.headers.get("WARC-Payload-Digest")
    url = normalize_url(target)
    record_id = rec.record_id or f"{part.uri}#{part.member or ''}offset={offset}"
    date = rec.record_date or datetime.now(UTC)
    meta = _meta(part, offset)
    meta["x-warc-record-id"] = record_id
    if raw_target and raw_target != url:
        meta["x-warc-target-uri"] = raw_target  # as the archive wrote it (brackets, spaces, ...)

    def row(content: bytes | None = None, sha1: str | None = None, **kw: Any) -> dict[str, Any]:
        headers = {**kw.pop("headers", {}), **meta}
        r = make_row(batch_id=batch_id, url=url or target or record_id, depth=0, discovered_from=None,
                     source=source, fetched_at=date, headers=headers, **kw)  # fmt: skip
        r["page_id"] = warc_page_id(batch_id, record_id)
        r["depth"] = None
        r["x_record_id"] = record_id  # for the revisit index; removed before the row is written
        r["x_digest"] = digest_header
        if content is not None:  # hashed here (or by the payload check), not again in make_row
            r["content"], r["content_bytes"] = content, len(content)
            r["content_sha1"] = sha1 or hashlib.sha1(content).hexdigest()
        return r

    if url is None:
        return row(status=REJECTED, reason="invalid_url" if not target or "://" in target else "scheme_not_allowed")
    if takedowns is not None and (rid := takedowns(url)) is not None:
        return row(status=REJECTED, reason="takedown", headers={"x-takedown-request": rid})
    if rtype == "revisit":
        # No payload of its own; its block (HTTP headers at most) is not digest-checked, as in
        # warcio (Webrecorder writes revisit block digests that match nothing). Resolved later.
        headers, http_status = _revisit_http(rec)
        ctype, charset = parse_content_type(headers.get("content-type"))
        return row(status=REJECTED, reason=REVISIT, http_status=http_status, headers=headers, content_type=ctype,
                   charset_declared=charset)  # fmt: skip
    # The payload digest is checked once the body is read (its SHA-1 is then also content_sha1);
    # the block digest must be checked before parse_http consumes the HTTP headers.
    payload_digest = _sha1_digest(digest_header) if (
        cfg.verify_digests and cfg.digest == "payload" and rtype == "response") else None  # fmt: skip
    if cfg.verify_digests and payload_digest is None and rec.headers.get("WARC-Block-Digest") \
            and not rec.verify_block_digest():  # fmt: skip
        return row(status=ERROR, reason="digest_mismatch")
    truncated_flag = rec.headers.get("WARC-Truncated") is not None

    if rtype == "conversion":
        body = rec.reader.read(cfg.max_bytes + 1)
        truncated = len(body) > cfg.max_bytes or truncated_flag
        body = body[: cfg.max_bytes]
        if len(body) < min(rec.content_length, cfg.max_bytes):
            return row(status=ERROR, reason="truncated_record")
        status, reason = (KEPT, None) if body.strip() else (REJECTED, "empty_record")
        return row(status=status, reason=reason, content_type="text/plain", charset_declared="utf-8",
                   content=body if status == KEPT else None, truncated=truncated)  # fmt: skip

    http_status: int | None = None
    headers: dict[str, str] = {}
    if rtype == "response":
        try:
            rec.parse_http()
        except OSError:
            return row(status=ERROR, reason="malformed_http")
        hh = rec.http_headers
        if hh is None or hh.status_code is None:
            return row(status=ERROR, reason="malformed_http")
        http_status = hh.status_code
        for k, v in hh.items():
            k = k.lower()
            if k not in DROPPED_HEADERS:
                headers[k] = f"{headers[k]}, {v}" if k in headers else v
        ctype, charset = parse_content_type(headers.get("content-type"))
    else:  # resource: the WARC Content-Type describes the block
        ctype, charset = parse_content_type(rec.headers.get("Content-Type"))
    # Rejected without keeping the body: still prove the record intact, as the block check did.
    rejected_early = http_status is not None and not 200 <= http_status < 300 or ctype not in cfg.allowed_content_types
    if payload_digest is not None and rejected_early and _hash_rest(rec, hashlib.sha1()).digest() != payload_digest:
        return row(status=ERROR, reason="digest_mismatch", http_status=http_status, headers=headers,
                   content_type=ctype, charset_declared=charset)  # fmt: skip
    if http_status is not None and not 200 <= http_status < 300:
        return row(status=REJECTED, reason=f"http_{http_status}", http_status=http_status, headers=headers,
                   content_type=ctype, charset_declared=charset)  # fmt: skip
    if ctype not in cfg.allowed_content_types:
        return row(status=REJECTED, reason=f"content_type:{ctype or 'missing'}", http_status=http_status,
                   headers=headers, content_type=ctype, charset_declared=charset)  # fmt: skip
    enc_header = headers.get("content-encoding")
    codings = content_codings(enc_header)
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    raw_limit = cfg.max_bytes * 8 if codings or chunked else cfg.max_bytes
    body = rec.reader.read(raw_limit + 1)
    expected = rec.content_length  # block length: HTTP headers + payload
    truncated = len(body) > raw_limit or truncated_flag
    sha1: str | None = None
    if payload_digest is not None:
        h = hashlib.sha1(body)
        if len(body) > raw_limit:
            _hash_rest(rec, h)  # the stored body is cut, the digest covers all of it
        if h.digest() != payload_digest:
            return row(status=ERROR, reason="digest_mismatch", http_status=http_status, headers=headers,
                       content_type=ctype, charset_declared=charset)  # fmt: skip
        sha1 = h.hexdigest() if len(body) <= raw_limit else None
    body = body[:raw_limit]
    flags: list[str] = []
    if not truncated and rec.reader.tell() < expected:
        if part.kind != ARC or not _http_body_complete(headers, len(body)):
            return row(status=ERROR, reason="truncated_record", http_status=http_status, headers=headers,
                   content_type=ctype, charset_declared=charset)  # fmt: skip
        # ARC lengths were often rewritten by hand or by tools that changed line ends: a block
        # shorter than declared, but holding the whole HTTP body, is complete.
        flags.append("arc_length_mismatch")
    decoded: list[str] = []
    if chunked:  # transfer coding first, then content coding (RFC 9112 7, RFC 9110 8.4)
        body, outcome = dechunk(body, cut=truncated)
        if outcome in (CHUNKED_OK, CHUNKED_INCOMPLETE):
            decoded.append("chunked")
            sha1 = None
        if outcome != CHUNKED_OK:
            flags.append(outcome)  # not_chunked / invalid_chunking: the raw body is kept as it is
    for coding in codings:
        try:
            body, cut = decode_bounded(body, coding, cfg.max_bytes)
        except Exception:  # noqa: BLE001 -- zlib.error, ValueError, brotli.error: all "cannot decode"
            return row(status=ERROR, reason=f"decode_error:{enc_header.strip().lower()}", http_status=http_status,
                       headers=headers, content_type=ctype, charset_declared=charset)  # fmt: skip
        truncated, sha1 = truncated or cut, None
        decoded.append(coding)
    if not codings and len(body) > cfg.max_bytes:
        body, truncated, sha1 = body[: cfg.max_bytes], True, None
    if decoded:
        headers["x-warc-decoded"] = ",".join(decoded)
        stats.decoded.update(decoded)
    if flags:
        headers["x-warc-flags"] = ",".join([*part.flags, *flags])
        stats.flags.update(flags)
    if (kind := binary_kind(body)) is not None:  # labelled text, but the bytes are an image/archive/...
        return row(status=REJECTED, reason=f"binary_content:{kind}", http_status=http_status, headers=headers,
                   content_type=ctype, charset_declared=charset)  # fmt: skip
    return row(status=KEPT, reason=None, http_status=http_status, headers=headers, content_type=ctype,
               charset_declared=charset, content=body, sha1=sha1, truncated=truncated)  # fmt: skip


def _http_body_complete(headers: Mapping[str, str], got: int) -> bool:
    declared = headers.get("content-length", "").strip()
    return declared.isdigit() and got >= int(declared) and "transfer-encoding" not in headers


def _revisit_http(rec) -> tuple[dict[str, str], int | None]:
    """HTTP headers and status a revisit record carries (most do: the response head of the
    revisit), or ({}, None) when its block is empty or not HTTP."""
    if not rec.content_length or "msgtype=response" not in (rec.headers.get("Content-Type") or "").replace(" ", ""):
        return {}, None
    try:
        rec.parse_http()
    except OSError:
        return {}, None
    hh = rec.http_headers
    if hh is None or hh.status_code is None:
        return {}, None
    headers: dict[str, str] = {}
    for k, v in hh.items():
        k = k.lower()
        if k not in DROPPED_HEADERS:
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
    return headers, hh.status_code


def _sha1_digest(value: str | None) -> bytes | None:
    """The 20 bytes of a `sha1:<base32>` (or hex) WARC digest; None if absent or another algorithm."""
    if not value or value[:5].lower() != "sha1:":
        return None
    v = value[5:].strip()
    try:
        if len(v) == 32:  # base32 (RFC 4648); int(..., 32) is ~10x faster than base64.b32decode
            digits = v.upper().translate(_B32_TO_INT_DIGITS)
            return int(digits, 32).to_bytes(20, "big") if len(digits) == 32 and digits.isalnum() else None
        return bytes.fromhex(v) if len(v) == 40 else None
    except ValueError:
        return None


# RFC 4648 base32 alphabet (A-Z, 2-7) -> the digits int(x, 32) reads (0-9, a-v); other characters
# map to "!" so that they fail.
_B32_TO_INT_DIGITS = {c: "!" for c in range(128)} | {
    ord(c): "0123456789abcdefghijklmnopqrstuv"[i] for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}


def _hash_rest(rec, h: Any) -> Any:
    """Feed the rest of the record's payload into `h`, 1 MB at a time (bounded memory)."""
    while chunk := rec.reader.read(1 << 20):
        h.update(chunk)
    return h


def import_warc_batch(
    lake,
    uris: list[str],
    batch_id: str,
    cfg: WarcSection,
    *,
    takedowns: Callable[[str], str | None] | None = None,
    progress: Callable[[WarcStats], None] | None = None,
    commit_metadata: dict[str, str] | None = None,
    restart: bool = False,
) -> WarcStats:
    """Import `uris` as batch `batch_id` into `pages`, in chunks; resumes a killed import.

    A missing file refuses the whole batch before anything is written (WarcInputError)."""
    check_sources(uris, cfg.storage_options)
    pred = batch_predicate("batch_id", batch_id)
    if restart and lake.exists("pages"):
        lake.table("pages").delete(pred)
    stats = WarcStats()
    stored: set[str] = set()
    if lake.exists("pages"):
        for r in lake.iter_rows("SELECT page_id, status, reason, content_bytes FROM pages WHERE batch_id = ?",
                                [batch_id], tables=["pages"], batch_size=4096):  # fmt: skip
            stored.add(r["page_id"])
            stats.count(r)
            stats.resumed_rows += 1

    revisits = RevisitIndex()  # originals and revisits of every file of the batch

    def new_rows() -> Iterator[dict[str, Any]]:
        for uri in uris:
            yield from fresh(rows_from_file(uri, batch_id, cfg, stats, takedowns=takedowns, revisits=revisits))
        yield from fresh(resolve_revisits(revisits, batch_id, cfg, stats, takedowns))

    def fresh(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            if row["page_id"] in stored:
                continue
            stored.add(row["page_id"])
            stats.count(row)
            yield row

    rows = new_rows()
    wp = writer_properties(cfg)
    chunks = 0
    while (first := next(rows, None)) is not None:
        # The chunk's rows are read lazily, on the lake's producer thread, while deltalake encodes
        # and writes the previous record batches: reading and Parquet writing overlap.
        lake.write("pages", _chunk_batches(first, rows, cfg.chunk_rows), PAGES, mode="append",
                   partition_by=["batch_id"], commit_metadata=commit_metadata, writer_properties=wp)  # fmt: skip
        chunks += 1
        if progress is not None:
            progress(stats)
    if progress is not None and chunks == 0:
        progress(stats)
    if chunks > COMPACT_AFTER_CHUNKS:
        compact_batch(lake, batch_id)
    return stats


def _chunk_batches(first: dict[str, Any], rows: Iterator[dict[str, Any]], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of one commit: `first` and the following rows, until `chunk_rows` rows or
    CHUNK_BYTES of content. (Building per-column lists instead of `from_pylist` was measured: no
    faster -- Arrow conversion is ~1% of the import; each body is copied once, into Arrow.)"""

    def chunk() -> Iterator[dict[str, Any]]:
        n = content = 0
        row: dict[str, Any] | None = first
        while row is not None:
            yield row
            n += 1
            content += row["content_bytes"] or 0
            if n >= chunk_rows or content >= CHUNK_BYTES:
                return
            row = next(rows, None)

    return page_record_batches(chunk())


def page_record_batches(rows: Iterable[dict[str, Any]]) -> Iterator[pa.RecordBatch]:
    """`pages` rows as record batches of BATCH_ROWS rows, or fewer once a batch holds BATCH_BYTES of
    content: the unit every writer of `pages` hands to Parquet (a commit's chunk, a worker's part)."""
    buf: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        buf.append(row)
        size += row["content_bytes"] or 0
        if len(buf) >= BATCH_ROWS or size >= BATCH_BYTES:
            yield pa.RecordBatch.from_pylist(buf, schema=PAGES)
            buf, size = [], 0
    if buf:
        yield pa.RecordBatch.from_pylist(buf, schema=PAGES)
