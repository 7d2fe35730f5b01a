"""What warcio -- the reader most of the field uses (datatrove's WarcReader reads through it) --
reads from an archive file, as the reference goldpan's import is compared with (the conformance
test over warcio's own test files, and `bench/warc_compat.py`).

warcio refuses gzip files that are not one member per record ("non-chunked gzip file detected")
and stops there; its own advice is `warcio recompress`. The reference therefore reads the file
both ways: as it is (what a user gets) and decompressed first (what the records hold, which is what
goldpan must import). Pages in the reference are what goldpan keeps: response/resource records of an
http(s) URI with a 2xx status and an allowed content type whose payload digest does not fail, with
the body as warcio's `content_stream()` decodes it (chunking and Content-Encoding undone); and
revisits whose payload digest names such a page, with that page's body.
"""

from __future__ import annotations

import gzip
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from goldpan.crawl.fetcher import parse_content_type
from goldpan.crawl.urls import normalize_url
from goldpan.warc.revisits import digest_key
from goldpan.warc.uris import clean_target_uri


@dataclass
class WarcioReading:
    records_direct: int = 0  # records warcio reads from the file as it is
    error_direct: str | None = None  # why warcio stopped, if it did
    error_decompressed: str | None = None  # why warcio stopped reading the decompressed records
    types: Counter[str] = field(default_factory=Counter)  # record types of the decompressed reading
    pages: list[tuple[str, bytes]] = field(default_factory=list)  # (normalized URL, decoded body)


def _records(data: bytes):
    from warcio.archiveiterator import ArchiveIterator

    yield from ArchiveIterator(io.BytesIO(data), arc2warc=True, check_digests=True)


def warcio_reading(path: Path, allowed_types: tuple[str, ...] = ("text/html", "application/xhtml+xml",
                                                                   "text/plain")) -> WarcioReading:  # fmt: skip
    raw = Path(path).read_bytes()
    out = WarcioReading()
    try:
        for rec in _records(raw):
            rec.content_stream().read()
            out.records_direct += 1
    except Exception as exc:  # noqa: BLE001 -- ArchiveLoadFailed and whatever a damaged file raises
        out.error_direct = " ".join(str(exc).split())[:80] or type(exc).__name__
    try:
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError):
        data = raw
    by_digest: dict[str, bytes] = {}
    revisits: list[tuple[str, str]] = []
    try:
        for rec in _records(data):
            out.types[rec.rec_type] += 1
            body = rec.content_stream().read()
            url = normalize_url(clean_target_uri(rec.rec_headers.get_header("WARC-Target-URI")))
            key = digest_key(rec.rec_headers.get_header("WARC-Payload-Digest"))
            if url is None:
                continue
            if rec.rec_type == "revisit":
                if key:
                    revisits.append((url, key))
                continue
            if rec.rec_type not in ("response", "resource"):
                continue
            problems = " ".join(rec.digest_checker.problems) if rec.digest_checker else ""
            if "payload digest failed" in problems:
                continue
            if rec.rec_type == "response":
                status = rec.http_headers.get_statuscode() if rec.http_headers else None
                if not status or not status.startswith("2"):
                    continue
                ctype, _ = parse_content_type(rec.http_headers.get_header("Content-Type"))
            else:
                ctype, _ = parse_content_type(rec.rec_headers.get_header("Content-Type"))
            if ctype not in allowed_types or not body:
                continue
            out.pages.append((url, body))
            if key:
                by_digest.setdefault(key, body)
    except Exception as exc:  # noqa: BLE001 -- the rest of a damaged file: what was read stands
        out.error_decompressed = " ".join(str(exc).split())[:80] or type(exc).__name__
    out.pages += [(url, by_digest[key]) for url, key in revisits if key in by_digest]
    return out
