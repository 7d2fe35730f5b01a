"""Record-by-record reading of a WARC/WET file that survives damaged records.

fastwarc (2.0: `ArchiveIterator(stream)`) is fast but stops at the first record it cannot parse
(a gzip member cut short raises `OSError`, an uncompressed record whose length lies swallows the
next header). A Common Crawl file holds tens of thousands of records, so one bad record must cost
one error row, not the rest of the file. On an error this reader therefore *resyncs*: it scans
forward for the next record start -- a gzip member header (`1f 8b 08`) in a .warc.gz, a
`WARC/1.x` line in an uncompressed file -- checks that a record really parses there, and
continues from it. Every region skipped this way is reported as one error item. In an
uncompressed file a record cut short swallows the start of the next one: that record fails its
block digest (the importer's error row) and the unparsable remainder is a second error item.
"""

from __future__ import annotations

import gzip as gziplib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_SCAN = 1 << 20

# How a .warc.gz is cut into gzip members. The standard (and what lets a reader seek to a record) is
# one member per record; some writers compress the whole file as one stream (Webrecorder 3.7 in
# warcio's `example-bad-non-chunked`), others split a record across members (`example-wrong-chunks`).
# warcio refuses both; the records are intact, so goldpan reads them and flags the rows.
PER_RECORD, SINGLE_STREAM, SPLIT_RECORD = "per_record", "gzip_single_stream", "gzip_split_record"
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")


@dataclass
class Item:
    """One record (`record` set) or one unreadable region (`error` set), at byte `offset`."""

    offset: int
    record: WarcRecord | None = None
    error: str | None = None


def _is_gzip(stream: IO[bytes]) -> bool:
    stream.seek(0)
    head = stream.read(2)
    stream.seek(0)
    return head == b"\x1f\x8b"


def _valid_start(stream: IO[bytes], pos: int) -> bool:
    """Whether a well-formed record header parses at `pos`."""
    stream.seek(pos)
    try:
        rec = next(iter(ArchiveIterator(stream, parse_http=False)), None)
    except OSError:
        return False
    return rec is not None and rec.record_type != WarcRecordType.unknown and rec.headers.get("WARC-Type") is not None


def _resync(stream: IO[bytes], start: int, gzip: bool) -> int | None:
    """Offset of the next parsable record start at or after `start`, or None (end of file)."""
    magic = _GZIP_MAGIC if gzip else _WARC_MAGIC
    pos = start
    while True:
        stream.seek(pos)
        chunk = stream.read(_SCAN + len(magic))
        if not chunk:
            return None
        i = 0
        while (j := chunk.find(magic, i)) != -1:
            cand = pos + j
            # No newline required before "WARC/1.": damage often cuts a record mid-line.
            if _valid_start(stream, cand):
                return cand
            i = j + 1
        if len(chunk) < _SCAN + len(magic):
            return None
        pos += _SCAN


def gzip_layout(stream: IO[bytes]) -> str:
    """PER_RECORD, SINGLE_STREAM or SPLIT_RECORD, judged on the first gzip member (a file's layout
    is its writer's, so the first member tells; at most 1 MB of it is decompressed)."""
    stream.seek(0)
    dec = zlib.decompressobj(31)
    out = b""
    try:
        while not dec.eof and len(out) < (1 << 20):
            raw = dec.unconsumed_tail or stream.read(1 << 16)
            if not raw:
                break
            out += dec.decompress(raw, (1 << 20) - len(out))
    except zlib.error:
        return PER_RECORD  # damaged from the start: the resyncing reader reports it
    finally:
        stream.seek(0)
    head_end = out.find(b"\r\n\r\n")
    m = _CONTENT_LENGTH.search(out, 0, head_end if head_end != -1 else 0)
    if head_end == -1 or m is None:
        return PER_RECORD
    record_end = head_end + 4 + int(m.group(1))  # without the closing CRLFs
    if dec.eof and len(out) < record_end:
        return SPLIT_RECORD
    if _WARC_MAGIC in out[record_end:]:
        return SINGLE_STREAM
    return PER_RECORD


def iter_items(stream: IO[bytes] | str, start: int = 0, layout: str | None = None) -> Iterator[Item]:
    """Every record of a seekable `stream` (or a local file path) in order, with damaged regions
    as error items. A path is read by fastwarc's native file reader (about twice as fast as a
    Python file object) until the first damage; resyncing then continues on a Python stream.

    A record that parses but is not whole (no WARC-Type, or a gzip member cut short) is also an
    error item. Records are yielded lazily: read each one's payload before advancing. One damaged
    region gives one error item, at the offset of the record start that failed to parse (or just
    after the last good record when the damage swallowed the start itself).
    """
    opened: list[IO[bytes]] = []
    try:
        if isinstance(stream, str):
            with open(stream, "rb") as f:
                gzip = f.read(2) == b"\x1f\x8b"
        else:
            gzip = _is_gzip(stream)
        if gzip and layout == SINGLE_STREAM:
            # One gzip stream: fastwarc reads it, but cannot say where a record starts (it reads
            # ahead) nor resync. Read it decompressed instead: offsets are then uncompressed ones.
            raw = open(stream, "rb") if isinstance(stream, str) else stream  # noqa: SIM115
            if isinstance(stream, str):
                opened.append(raw)
            stream = gziplib.GzipFile(fileobj=raw, mode="rb")
            opened.append(stream)
            gzip = False
        yield from _items(stream, gzip, opened, start)
    finally:
        for f in opened:
            f.close()


def _items(stream: IO[bytes] | str, gzip: bool, opened: list[IO[bytes]], start: int = 0) -> Iterator[Item]:
    base = start
    if start and isinstance(stream, str):  # fastwarc's native reader starts at 0: seek a Python stream
        stream = open(stream, "rb", buffering=1 << 20)  # noqa: SIM115 -- closed by iter_items
        opened.append(stream)
    pending: Item | None = None  # a failure after the last good record, not yet located
    already: int | None = None  # offset of a record yielded before switching readers
    while True:
        if not isinstance(stream, str):
            stream.seek(base)
        first = True
        last = base
        try:
            for rec in ArchiveIterator(stream, parse_http=False, fsspec_args=False):
                if rec.stream_pos == already:
                    already, first = None, False
                    continue
                if first and pending is not None:
                    yield pending  # the region between the last good record and here was skipped
                    pending = None
                first = False
                last = rec.stream_pos
                if rec.record_type == WarcRecordType.unknown or rec.headers.get("WARC-Type") is None:
                    yield Item(last, error="malformed_record:no_warc_type")
                    continue
                yield Item(last, record=rec)
            if pending is not None:
                yield pending
            return
        except OSError as exc:
            reason = f"malformed_record:{_short(exc)}"
            if isinstance(stream, str):
                # The native reader decompresses ahead, so its error can come before records that
                # are fine: re-read from the last yielded record with a Python stream, which fails
                # exactly at the damage (and can seek to resync).
                stream = open(stream, "rb", buffering=1 << 20)  # noqa: SIM115 -- closed by iter_items
                opened.append(stream)
                already = None if first else last
                base = base if first else last
                continue
            if first:  # the record at `base` itself is damaged
                pending = None
                yield Item(base, error=reason)
                nxt = _resync(stream, base + 1, gzip)
            else:
                pending = Item(last + 1, error=reason)
                nxt = _resync(stream, last + 1, gzip)
            if nxt is None:
                if pending is not None:
                    yield pending
                return
            base = nxt


def _short(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text[:120] or type(exc).__name__
