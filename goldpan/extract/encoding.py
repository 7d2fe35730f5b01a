"""Turn page bytes into text, trusting declarations only when the bytes agree with them.

Why: Chinese sites often send GBK or Big5 bytes with a UTF-8 header (or the other way round), and
decoding with the wrong codec silently produces mojibake that then passes every later filter. The
rule here: a BOM wins; then the HTTP header charset and the HTML meta charset are tried in that
order with a *strict* decode; if a declared codec fails on the bytes, the next candidate is tried;
uchardet detection is the last resort. The winning codec and where it came from are recorded.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)

# WHATWG maps these labels to supersets; decoding with the superset never fails where the label
# would have succeeded, and it handles the characters real pages actually contain.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "euc-kr": "cp949",
}
_SINGLE_BYTE = {"cp1252", "iso8859-15", "cp1251", "koi8-r"}


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    source: str  # bom | http-header | html-meta | detected | fallback-utf8
    declared_mismatch: bool  # a declared charset existed but the bytes did not decode with it


def canonical_codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def meta_charset(content: bytes, window: int = 4096) -> str | None:
    m = _META_CHARSET.search(content[:window])
    return m.group(1).decode("ascii", "ignore") if m else None


def _strict(content: bytes, codec: str) -> str | None:
    try:
        return content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_page(content: bytes, header_charset: str | None = None) -> Decoded:
    """Decode `content`, recording which declaration (if any) was believed."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if content.startswith(bom):
            text = _strict(content[len(bom):] if codec == "utf-8" else content, codec)
            if text is not None:
                return Decoded(text, codec, "bom", False)

    declared = [
        (canonical_codec(header_charset), "http-header"),
        (canonical_codec(meta_charset(content)), "html-meta"),
    ]
    mismatch = False
    for codec, source in declared:
        if codec is None:
            continue
        text = _strict(content, codec)
        if text is None:
            mismatch = True
            continue
        # A single-byte codec decodes any bytes; if the bytes are valid UTF-8 with non-ASCII
        # characters, the declaration is almost certainly stale.
        if codec in _SINGLE_BYTE and not content.isascii():
            utf8 = _strict(content, "utf-8")
            if utf8 is not None:
                return Decoded(utf8, "utf-8", "detected", True)
        return Decoded(text, codec, source, mismatch)

    utf8 = _strict(content, "utf-8")
    if utf8 is not None:
        return Decoded(utf8, "utf-8", "detected" if not content.isascii() else "fallback-utf8", mismatch)

    from resiliparse.parse.encoding import detect_encoding

    codec = canonical_codec(detect_encoding(content, from_html_meta=False)) or "cp1252"
    text = _strict(content, codec)
    if text is not None:
        return Decoded(text, codec, "detected", mismatch)
    return Decoded(content.decode(codec, errors="replace"), codec, "detected-lossy", mismatch)
