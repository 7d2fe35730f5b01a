"""Is a body that claims to be text actually binary? (A Content-Type header is a claim, not a fact.)

Servers label images, archives and PDFs `text/html` more often than one would hope; passing such a
body on wastes extraction and can put garbage into a corpus. The check looks at the first bytes
only (cheap, and enough): well-known magic numbers, then NUL bytes, which text never contains --
except UTF-16/32, recognised by their byte-order mark and let through.
"""

from __future__ import annotations

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"RIFF", "riff"),
    (b"\x7fELF", "elf"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"wOFF", "woff"),
    (b"wOF2", "woff2"),
    (b"OggS", "ogg"),
)
_UNICODE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
SNIFF_BYTES = 1024


def binary_kind(data: bytes | None) -> str | None:
    """A short name of the binary format `data` starts with, or None if it may well be text."""
    if not data:
        return None
    head = data[:SNIFF_BYTES]
    if head.startswith(_UNICODE_BOMS):
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "nul_bytes"
    return None
