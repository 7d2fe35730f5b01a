"""WARC-Target-URI values as real archives write them, made into URLs a crawler would request.

Producers disagree on the field's syntax: WARC/1.0's grammar printed it as `<uri>`, and wget
(1.14 to today) writes the angle brackets literally; ARC files and some WARC writers store the URL
as requested, spaces and all (`?Title=Examples From The Live Web`). warcio strips the brackets and
encodes spaces; goldpan does the same, and keeps the original string in the row
(`headers_json["x-warc-target-uri"]`, when it differs from the `url` column) so nothing the
archive said is lost.
"""

from __future__ import annotations

import re

# Characters RFC 3986 allows unencoded in a URI (reserved + unreserved) plus "%" (existing escapes
# are kept as they are). Everything else -- spaces, quotes, braces, controls, non-ASCII -- is
# percent-encoded as UTF-8.
_URI_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%")
_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def clean_target_uri(raw: str | None) -> str:
    """The URI of a `WARC-Target-URI` (or ARC URL field): surrounding whitespace and one pair of
    angle brackets removed, unsafe characters percent-encoded. '' when there is none."""
    if not raw:
        return ""
    uri = raw.strip()
    if uri.startswith("<") and uri.endswith(">"):
        uri = uri[1:-1].strip()
    if _UNSAFE.search(uri) is None:
        return uri
    return "".join(c if c in _URI_CHARS else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in uri)


def uri_scheme(uri: str) -> str | None:
    """Lower-case scheme of a cleaned URI (`http`, `dns`, `metadata`, `urn`, ...), or None."""
    m = _SCHEME.match(uri)
    return m.group(1).lower() if m else None
