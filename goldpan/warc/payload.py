"""HTTP payloads of archived responses, decoded as a browser would before rendering them.

An archive stores the bytes the server sent: many tools (warcprox, Webrecorder, Heritrix for some
responses) keep `Transfer-Encoding: chunked` framing in the record, and most keep the
`Content-Encoding` (gzip, deflate, br) as sent. A browser undoes both, in that order (RFC 9112
section 7: transfer coding first, then content coding), and so does goldpan, with the same bound on
decoded output as the crawler (a decompression bomb is cut, never expanded in memory).

Archives also store bodies that *claim* chunking but are not chunked (the archiver already
de-chunked them and kept the header, or the server lied). warcio then reads the bytes as they are;
goldpan does too, and flags the row, so a bad framing never garbles the text with chunk sizes.
"""

from __future__ import annotations

import functools
import zlib

# Outcomes of de-chunking, recorded in the row (`x-warc-decoded` / `x-warc-flags`).
CHUNKED_OK = "chunked"
CHUNKED_INCOMPLETE = "chunked_incomplete"  # decoded, but the last chunk or terminator is missing
NOT_CHUNKED = "not_chunked"  # header says chunked, the body does not start with a chunk: raw kept
INVALID_CHUNKING = "invalid_chunking"  # chunk framing breaks after the start: raw kept

_HEX = frozenset(b"0123456789abcdefABCDEF")
_MAX_SIZE_LINE = 1024


def dechunk(body: bytes, *, cut: bool) -> tuple[bytes, str]:
    """Undo chunked transfer coding of `body`: (decoded, outcome). `cut` says that `body` is a
    prefix of the payload (record cut at the size cap or WARC-Truncated): running out of bytes is
    then expected, not a fault. On invalid framing the raw body comes back unchanged."""
    out: list[bytes] = []
    pos, n = 0, len(body)
    while True:
        eol = body.find(b"\n", pos, pos + _MAX_SIZE_LINE)
        if eol == -1:
            if n - pos < _MAX_SIZE_LINE and (cut or not body[pos:].strip()):
                # the size line itself was cut (or only whitespace is left after the last chunk)
                return b"".join(out), CHUNKED_INCOMPLETE if not cut else CHUNKED_OK
            return body, NOT_CHUNKED if pos == 0 else INVALID_CHUNKING
        size_field = body[pos:eol].split(b";", 1)[0].strip()  # chunk extensions after ';'
        if pos == 0 and body[eol - 1 : eol] != b"\r":  # the first size line must be CRLF-ended
            return body, NOT_CHUNKED
        if not size_field or not _HEX.issuperset(size_field) or len(size_field) > 16:
            if pos > 0 and not body[pos:].strip():
                return b"".join(out), CHUNKED_INCOMPLETE
            return body, NOT_CHUNKED if pos == 0 else INVALID_CHUNKING
        size = int(size_field, 16)
        start = eol + 1
        if size == 0:  # last chunk; trailer fields (ignored) and the final CRLF follow
            return b"".join(out), CHUNKED_OK
        end = start + size
        if end > n:
            if pos == 0 and not cut:  # a first "chunk" longer than the body: not chunked at all
                return body, NOT_CHUNKED
            out.append(body[start:])
            return b"".join(out), CHUNKED_OK if cut else CHUNKED_INCOMPLETE
        out.append(body[start:end])
        # the chunk's CRLF (a bare LF from sloppy servers is accepted too)
        if body.startswith(b"\r\n", end):
            pos = end + 2
        elif body.startswith(b"\n", end):
            pos = end + 1
        elif end == n:
            return b"".join(out), CHUNKED_OK if cut else CHUNKED_INCOMPLETE
        else:
            return body, INVALID_CHUNKING


def content_codings(header: str | None) -> list[str]:
    """The codings of a Content-Encoding value in the order they must be undone (last applied
    first); `identity` dropped. 'gzip, br' -> ['br', 'gzip']."""
    if not header:
        return []
    codings = [c.strip().lower() for c in header.split(",")]
    return [c for c in reversed(codings) if c and c != "identity"]


def decode_bounded(body: bytes, coding: str, limit: int) -> tuple[bytes, bool]:
    """Undo one content coding, never producing more than `limit` bytes: (decoded, was_cut).
    Raises ValueError (unknown coding) or zlib.error / brotli.error (corrupt data)."""
    if coding in ("gzip", "x-gzip", "deflate"):
        wbits = 47 if coding != "deflate" else 15  # 47: gzip or zlib header, auto-detected
        try:
            d = zlib.decompressobj(wbits)
            out = d.decompress(body, limit + 1)
        except zlib.error:
            if coding != "deflate":
                raise
            d = zlib.decompressobj(-15)  # raw deflate, as some servers send it
            out = d.decompress(body, limit + 1)
        return out[:limit], len(out) > limit or bool(d.unconsumed_tail)
    if coding == "br":
        return _brotli_bounded(body, limit)
    raise ValueError(f"unsupported content-encoding {coding!r}")


def _brotli_bounded(body: bytes, limit: int) -> tuple[bytes, bool]:
    """Brotli with bounded output. brotli >= 1.2 takes `output_buffer_limit` and hands the rest
    out on later calls with no new input; older releases cannot bound it (then: decode, then cut)."""
    import brotli

    dec = brotli.Decompressor()
    if not _brotli_has_limit():
        out = dec.process(body)
        return out[:limit], len(out) > limit
    parts: list[bytes] = []
    got = 0
    chunk = dec.process(body, output_buffer_limit=min(limit + 1, 1 << 20))
    while True:
        parts.append(chunk)
        got += len(chunk)
        if got > limit or dec.is_finished() or (not chunk and dec.can_accept_more_data()):
            break
        chunk = dec.process(b"", output_buffer_limit=min(limit + 1 - got, 1 << 20))
    out = b"".join(parts)
    return out[:limit], got > limit


@functools.cache
def _brotli_has_limit() -> bool:
    import brotli

    try:
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except TypeError:
        return False
    return True
