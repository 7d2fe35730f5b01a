"""Checks at the WARC import entry: missing files refuse the batch, empty and truncated files say so.

The reader (goldpan.warc.reader) turns damaged records into error rows, but three cases slipped
through as silence or a bare traceback:

* a missing file raised `FileNotFoundError` from deep inside the reader, after earlier files of the
  batch were already written: now every file is checked before anything is written, and the batch
  is refused with the list of missing files (`WarcInputError`);
* an empty file produced no row and no warning: now it is one `error` row, reason `empty_file`;
* a file cut inside its last record (e.g. inside a `request` record, which the importer skips
  without reading its body, or a .warc.gz whose last gzip member is cut short) produced no error:
  now the end of the last record (declared Content-Length, or the end of its gzip member) is
  compared with the file's size, and a file that ends early, or with bytes that form no record, is
  one `error` row, reason `truncated_file`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping

from goldpan.warc.sources import source_size

EMPTY_FILE = "empty_file"
TRUNCATED_FILE = "truncated_file"
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
_HEADER_LIMIT = 1 << 16


class WarcInputError(ValueError):
    """The batch's files cannot be imported as given (nothing was written)."""


def check_sources(uris: Iterable[str], storage_options: Mapping[str, str] | None = None) -> dict[str, int]:
    """{uri: size in bytes} for every file, or WarcInputError naming each missing one."""
    sizes: dict[str, int] = {}
    missing: list[str] = []
    for uri in uris:
        try:
            size = source_size(uri, storage_options)
        except (OSError, ValueError):
            size = None
        if size is None:
            missing.append(uri)
        else:
            sizes[uri] = size
    if missing:
        raise WarcInputError(f"{len(missing)} WARC/WET file(s) not found: {', '.join(missing)}; "
                             "nothing was imported")  # fmt: skip
    return sizes


def record_end(path: str, offset: int, gz: bool) -> int | None:
    """Byte offset just after the record starting at `offset` of local file `path`, or None when
    the file ends inside it. Uncompressed: header block + declared Content-Length + 2 CRLFs; .gz:
    the end of the gzip member (Common Crawl writes one member per record)."""
    with open(path, "rb") as f:
        f.seek(offset)
        if gz:
            d = zlib.decompressobj(wbits=31)
            consumed = 0
            while not d.eof:
                chunk = f.read(1 << 16)
                if not chunk:
                    return None
                try:
                    d.decompress(chunk)
                except zlib.error:
                    return None
                consumed += len(chunk)
            return offset + consumed - len(d.unused_data)
        head = f.read(_HEADER_LIMIT)
    end = head.find(b"\r\n\r\n")
    m = _CONTENT_LENGTH.search(head[:end]) if end >= 0 else None
    if m is None:
        return None  # the header block never ends, or declares no length
    return offset + end + 4 + int(m.group(1)) + 4


def tail_problem(path: str, last_offset: int, size: int, gz: bool) -> str | None:
    """Why the file does not end with its last record, or None: the last record is cut short
    (`cut inside the last record`), or bytes follow it that form no record (`N bytes after ...`)."""
    end = record_end(path, last_offset, gz)
    if end is None or end > size:
        return "cut inside the last record"
    if end < size:
        with open(path, "rb") as f:
            f.seek(end)
            rest = f.read(size - end)
        if rest.strip(b"\r\n\t \x00"):
            return f"{size - end} bytes after the last whole record"
    return None


def is_gzip_file(uri: str) -> bool:
    """By its first bytes, not its name (a gzip WARC may be named .warc)."""
    with open(uri.removeprefix("file://"), "rb") as f:
        return f.read(2) == b"\x1f\x8b"
