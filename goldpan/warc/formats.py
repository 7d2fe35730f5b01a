"""Which archive format a file is, and its records as one or more readable parts.

goldpan reads what crawlers and archives write, recognised by content (a name can lie:
`example-bad.warc.gz.bad`), with the name as a fallback:

* WARC 1.0 / 1.1, plain or gzip (wget, Heritrix, Common Crawl, warcprox, Browsertrix, Webrecorder,
  pywb, `warcio`), including gzip files that are one stream or split records across members;
* WET (Common Crawl's extracted text, WARC `conversion` records): a WARC whose name has `.wet`;
* ARC 1 / 2, plain or gzip (`goldpan.warc.arc`);
* WACZ (a zip of WARCs plus indexes, written by Browsertrix, ArchiveWeb.page, Webrecorder): every
  WARC/ARC under `archive/` is a part, read from inside the zip, without unpacking it.

A part reads its items from any offset it reported (`Part.items(start)`): that is how the importer
re-reads the original of a revisit record without holding payloads in memory.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from goldpan.warc.arc import iter_arc_items
from goldpan.warc.reader import PER_RECORD, SINGLE_STREAM, Item, gzip_layout, iter_items

WARC, ARC, WACZ = "warc", "arc", "wacz"
_ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


@dataclass
class Part:
    """One WARC/ARC stream of a file: the file itself, or one archive inside a WACZ."""

    kind: str  # WARC | ARC
    gzip: bool
    layout: str  # reader.PER_RECORD / SINGLE_STREAM / SPLIT_RECORD (gzip), PER_RECORD otherwise
    member: str | None  # path inside the WACZ
    items: Callable[[int], Iterator[Item]]  # the items from a reported offset (0: all)

    @property
    def label(self) -> str:
        """Format name for the batch statistics: warc.gz, arc, wacz:warc.gz, ..."""
        name = self.kind + (".gz" if self.gzip else "")
        return f"wacz:{name}" if self.member else name


def _sniff(stream: IO[bytes]) -> tuple[bytes, bool]:
    """The first bytes of the content (decompressed when gzip) and whether it is gzip."""
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    if head[:2] != b"\x1f\x8b":
        return head[:64], False
    try:
        return zlib.decompressobj(31).decompress(head, 64), True
    except zlib.error:
        return b"", True


def file_kind(head: bytes, name: str) -> str:
    """WACZ, ARC or WARC from the first bytes, falling back on the name."""
    low = name.lower()
    if head.startswith(b"PK\x03\x04"):
        return WACZ
    if head.startswith(b"filedesc://"):
        return ARC
    if head.startswith(b"WARC/"):
        return WARC
    if low.endswith((".arc", ".arc.gz")):
        return ARC
    if low.endswith(".wacz"):
        return WACZ
    return WARC  # the WARC reader reports whatever it cannot parse, record by record


def _part(stream: IO[bytes], path: str | None, label: str, member: str | None) -> Part:
    head, gz = _sniff(stream)
    kind = file_kind(head, member or label)
    if kind == ARC:
        return Part(ARC, gz, PER_RECORD, member, lambda start: iter_arc_items(stream, gz, label, start))
    layout = gzip_layout(stream) if gz else PER_RECORD
    # A local file is read by fastwarc's native reader (about twice as fast as a Python stream).
    src: IO[bytes] | str = path if path is not None and layout != SINGLE_STREAM else stream
    return Part(WARC, gz, layout, member, lambda start: iter_items(src, start=start, layout=layout))


@contextmanager
def open_parts(stream: IO[bytes], path: str | None, label: str) -> Iterator[list[Part]]:
    """The parts of one file, open for reading while the context lasts. `path` is the local path
    when there is one; `label` names the file in ids and error rows."""
    head, _ = _sniff(stream)
    if file_kind(head, label) != WACZ:
        yield [_part(stream, path, label, None)]
        return
    with zipfile.ZipFile(stream) as zf:
        members = sorted(n for n in zf.namelist() if n.startswith("archive/") and n.lower().endswith(_ARCHIVE_SUFFIXES))
        opened = [zf.open(n) for n in members]
        try:
            yield [_part(f, None, f"{label}#{n}", n) for f, n in zip(opened, members, strict=True)]
        finally:
            for f in opened:
                f.close()
