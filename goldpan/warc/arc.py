"""ARC files (`.arc`, `.arc.gz`): the Internet Archive's format from 1996 to 2009, read record by
record into the same WARC records the importer already understands.

An ARC file is a `filedesc://` record (version and field names) followed by records of one header
line -- `URL IP-address Archive-date Content-type Archive-length` in version 1, ten fields in
version 2 -- and `Archive-length` bytes: for HTTP URLs the HTTP status line, headers and body as
received. The URL field is not escaped: it may hold spaces, so the line is split from the right.
`.arc.gz` compresses each record as its own gzip member.

Each record is turned into a WARC/1.0 record (warcio's `arc2warc` does the same): `response` for
an HTTP URL, `resource` for other schemes (dns:, ftp:), `warcinfo` for the filedesc; fastwarc then
parses it, so HTTP parsing, digests and decoding are the WARC path's. The block is streamed, never
held whole (a 1 GB record costs the importer's size cap, not 1 GB of memory). Old archives often end
HTTP header lines with a bare LF, which fastwarc's HTTP parser does not accept: the head (only) is
rewritten with CRLF. A damaged record (a header line that does not parse, a negative or non-numeric
length, a corrupt gzip member) becomes one error item at its offset and reading resumes at the next
record header (plain files) or gzip member (`.arc.gz`).
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from typing import IO

from fastwarc.warc import ArchiveIterator

from goldpan.warc.reader import Item

_MAX_LINE = 1 << 16
_MAX_HTTP_HEAD = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"
_DATE = re.compile(rb"^\d{14}")
_WEB_SCHEMES = (b"http://", b"https://")


class _Members:
    """The decompressed bytes of a multi-member gzip stream, with the compressed offset at which
    the member holding any given byte starts (what an error row or a re-read needs)."""

    def __init__(self, raw: IO[bytes], start: int) -> None:
        self.raw = raw
        self._reset(start)

    def _reset(self, start: int) -> None:
        self.raw.seek(start)
        self.raw_pos = start  # compressed offset of inp[0]
        self.inp = b""
        self.dec: zlib._Decompress | None = None
        self.buf = bytearray()
        self.marks: list[tuple[int, int]] = []  # (index in buf, offset of the member starting there)
        self.member = start

    def _more(self) -> bool:
        """Decompress some more into buf; False at the clean end of the stream."""
        while True:
            if not self.inp:
                self.inp = self.raw.read(1 << 16)
                if not self.inp:
                    if self.dec is not None:
                        raise OSError("gzip member cut short")
                    return False
            if self.dec is None:
                if not self.inp.strip(b"\x00\r\n "):  # padding after the last member
                    self.raw_pos += len(self.inp)
                    self.inp = b""
                    continue
                self.dec = zlib.decompressobj(31)
                self.marks.append((len(self.buf), self.raw_pos))
            data = self.inp
            try:
                out = self.dec.decompress(data, 1 << 16)
            except zlib.error as exc:
                raise OSError(f"gzip: {exc}") from exc
            rest = self.dec.unused_data if self.dec.eof else self.dec.unconsumed_tail
            self.raw_pos += len(data) - len(rest)
            self.inp = rest
            if self.dec.eof:
                self.dec = None
            if out:
                self.buf += out
                return True

    def offset_at(self, i: int) -> int:
        """Compressed offset of the member holding buf[i]."""
        off = self.member
        for idx, member in self.marks:
            if idx > i:
                break
            off = member
        return off

    def consume(self, n: int) -> bytes:
        out = bytes(self.buf[:n])
        del self.buf[:n]
        kept = []
        for idx, member in self.marks:
            if idx <= n:
                self.member = member
            else:
                kept.append((idx - n, member))
        self.marks = kept
        return out

    def resync(self, after: int) -> bool:
        """Continue at the next gzip member start after compressed offset `after`."""
        pos = after + 1
        while True:
            self.raw.seek(pos)
            chunk = self.raw.read((1 << 20) + 2)
            if len(chunk) < 3:
                return False
            j = chunk.find(_GZIP_MAGIC)
            if j != -1:
                self._reset(pos + j)
                return True
            pos += len(chunk) - 2


class _Source:
    """Line and block reads over a plain or gzip ARC stream, with the offset of the current byte."""

    def __init__(self, stream: IO[bytes], gzip: bool, start: int) -> None:
        self.gz = _Members(stream, start) if gzip else None
        self.raw = stream
        if self.gz is None:
            stream.seek(start)
            self.pos = start
            self.buf = bytearray()

    def offset(self) -> int:
        if self.gz is not None:
            if not self.gz.buf:
                self.gz._more()
            return self.gz.offset_at(0)
        return self.pos

    def _fill(self) -> bool:
        if self.gz is not None:
            return self.gz._more()
        data = self.raw.read(1 << 16)
        if not data:
            return False
        self.buf += data
        return True

    def _buf(self) -> bytearray:
        return self.gz.buf if self.gz is not None else self.buf

    def readline(self) -> bytes:
        start = 0
        while True:
            buf = self._buf()
            i = buf.find(b"\n", start)
            if i != -1:
                return self._take(i + 1)
            if len(buf) > _MAX_LINE:
                return self._take(len(buf))
            start = len(buf)
            if not self._fill():
                return self._take(len(self._buf()))

    def read(self, n: int) -> bytes:
        while len(self._buf()) < n and self._fill():
            pass
        return self._take(min(n, len(self._buf())))

    def _take(self, n: int) -> bytes:
        if self.gz is not None:
            return self.gz.consume(n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        self.pos += n
        return out

    def resync(self, failed_at: int) -> bool:
        """After a damaged gzip member: the next member. (Plain files resync line by line.)"""
        if self.gz is not None:
            return self.gz.resync(failed_at)
        return True


class _Block(io.RawIOBase):
    """A synthesized WARC record: header bytes, then `length` block bytes pulled from the source
    as fastwarc asks for them, then the record's closing CRLFs."""

    def __init__(self, head: bytes, src: _Source, length: int) -> None:
        self.parts = [head]
        self.src, self.left = src, length
        self.tail = b"\r\n\r\n"

        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # fastwarc asks for the position; it never moves it backwards here
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        target = offset if whence == 0 else self.pos + offset if whence == 1 else -1
        if target != self.pos:
            raise io.UnsupportedOperation("a synthesized ARC record is read forwards only")
        return self.pos

    def readinto(self, b) -> int:  # type: ignore[override]
        n = len(b)
        if self.parts:
            data = self.parts[0][:n]
            self.parts[0] = self.parts[0][n:]
            if not self.parts[0]:
                self.parts.pop(0)
        elif self.left > 0:
            data = self.src.read(min(n, self.left, 1 << 18))
            if not data:  # the file ends inside the block
                self.left = 0
                return 0
            self.left -= len(data)
        else:
            data, self.tail = self.tail[:n], self.tail[n:]
        b[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def finish(self) -> None:
        """Skip what the importer did not read of the block."""
        while self.left > 0:
            data = self.src.read(min(self.left, 1 << 18))
            if not data:
                break
            self.left -= len(data)


def _parse_header(line: bytes, n_fields: int) -> tuple[bytes, list[bytes], int] | str:
    """(url, other fields, length) of an ARC record header line, or the reason it is invalid."""
    parts = line.strip().rsplit(None, n_fields - 1)
    if len(parts) != n_fields:
        return f"arc_header_fields:{len(parts)}"
    url, *rest = parts
    length = rest[-1]
    if b":" not in url:
        return "arc_header_url"
    if not length.isdigit():
        return f"arc_length:{length[:20].decode('latin-1')}"
    return url, rest, int(length)


def _warc_date(arc_date: bytes) -> str | None:
    m = _DATE.match(arc_date)
    if not m:
        return None
    d = m.group(0).decode()
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"


def _crlf_http_head(src: _Source, length: int) -> tuple[bytes, int]:
    """The HTTP head at the start of a block with CRLF line ends, and how many raw bytes it took.
    A block that does not start with an HTTP status line is left alone (b'', 0)."""
    while len(src._buf()) < min(length, 5) and src._fill():
        pass
    if length < 5 or bytes(src._buf()[:5]) != b"HTTP/":
        return b"", 0
    lines: list[bytes] = []
    used = 0
    while True:
        buf = src._buf()
        i = buf.find(b"\n")
        if i == -1 or used + i + 1 > length:
            if used + len(buf) < length and len(buf) < _MAX_HTTP_HEAD and src._fill():
                continue
            break  # no blank line inside the block: what was read is handed on as is
        line = src._take(i + 1)
        used += len(line)
        lines.append(line.rstrip(b"\r\n") + b"\r\n")
        if len(line.strip()) == 0:
            break
    return b"".join(lines), used


def iter_arc_items(stream: IO[bytes], gzip: bool, label: str, start: int = 0) -> Iterator[Item]:
    """Every record of an ARC stream as a WARC record item (or an error item for a damaged region).
    `label` (the file's URI) makes record ids unique across the files of a batch."""
    src = _Source(stream, gzip, start)
    n_fields = 5
    damaged: int | None = None  # offset of the damaged region being skipped
    per_offset: dict[int, int] = {}
    off = start
    while True:
        try:
            off = src.offset()
            line = src.readline()
            if not line:
                return
            if not line.strip():
                continue
            if line.startswith(b"filedesc://"):
                url, fields, block = _read_filedesc(src, line)
                names = (block.split(b"\n") + [b"", b""])[1].split()  # the field-names line of the version block
                n_fields = len(names) if 5 <= len(names) <= 16 else n_fields
                head = _warc_head("warcinfo", url, fields, len(block), "text/plain", label, off, 0)
                yield Item(off, record=_record(head + block + b"\r\n\r\n"))
                continue
            parsed = _parse_header(line, n_fields)
            if isinstance(parsed, str):
                if damaged is None:
                    damaged = off
                    yield Item(off, error=f"malformed_record:{parsed}")
                if gzip and not src.resync(off):
                    return
                continue
            damaged = None
            url, fields, length = parsed
            ctype = fields[2].decode("latin-1") if len(fields) > 2 else "application/octet-stream"
            # records sharing an offset (an .arc.gz written as one gzip stream) get distinct ids
            ordinal = per_offset[off] = per_offset.get(off, -1) + 1
            if url.startswith(_WEB_SCHEMES):
                http_head, used = _crlf_http_head(src, length)
                rtype = "response"
            else:
                http_head, used = b"", 0
                rtype = "resource"
            body_len = length - used
            wtype = "application/http; msgtype=response" if rtype == "response" else ctype
            head = _warc_head(rtype, url, fields, len(http_head) + body_len, wtype, label, off, ordinal)
            blk = _Block(head + http_head, src, body_len)
            rec = next(iter(ArchiveIterator(blk, parse_http=False)), None)
            if rec is None:
                yield Item(off, error="malformed_record:arc_record")
            else:
                yield Item(off, record=rec)
            blk.finish()
        except OSError as exc:  # a corrupt gzip member
            yield Item(off, error=f"malformed_record:{exc}")
            if not gzip or not src.resync(off):
                return


def _read_filedesc(src: _Source, line: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(url, fields, version block) of the `filedesc://` record whose header is `line`. Its block
    is `length` bytes -- or, when the length is unusable (`-1` in warcio's bad.arc), the lines up
    to the first blank one."""
    parsed = _parse_header(line, 5)
    if not isinstance(parsed, str):
        url, fields, length = parsed
        return url, fields, src.read(length)
    parts = line.strip().split()
    block = b""
    while (nxt := src.readline()).strip():
        block += nxt
    return parts[0], parts[1:], block


def _warc_head(rtype: str, url: bytes, fields: list[bytes], length: int, ctype: str, label: str, off: int,
               ordinal: int) -> bytes:  # fmt: skip
    """The WARC/1.0 header of an ARC record; its id derives from file, offset and URL (stable
    across re-reads, unique within a batch)."""
    rid = hashlib.sha1(f"{label}|{off}|{ordinal}|".encode() + url).hexdigest()
    lines = [b"WARC/1.0", b"WARC-Type: " + rtype.encode(), b"WARC-Record-ID: <urn:sha1:" + rid.encode() + b">"]
    if rtype != "warcinfo":
        lines.append(b"WARC-Target-URI: " + url)
    date = _warc_date(fields[1]) if len(fields) > 1 else None
    if date:
        lines.append(b"WARC-Date: " + date.encode())
    if fields and fields[0] not in (b"-", b"0.0.0.0"):
        lines.append(b"WARC-IP-Address: " + fields[0])
    lines.append(b"WARC-Source-Format: ARC")
    lines.append(b"Content-Type: " + ctype.encode("latin-1", "replace"))
    lines.append(b"Content-Length: " + str(length).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _record(data: bytes):
    return next(iter(ArchiveIterator(io.BytesIO(data), parse_http=False)))
