"""URL normalisation and the ids derived from URLs.

Every dedup decision in the crawler ("a URL seen twice is fetched once") and every `page_id`
depends on two spellings of the same resource collapsing to one string, so normalisation is
deliberately conservative: it only applies transformations that cannot change which resource
a server returns (case of scheme/host, default ports, dot segments, percent-escape case,
fragments) plus the removal of well-known tracking parameters, which by convention do not
change the content either. It never sorts query parameters: some servers care about order.
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS: frozenset[str] = frozenset(
    {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid"}
)
ALLOWED_SCHEMES: frozenset[str] = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Characters left as-is when re-quoting; everything else (spaces, non-ASCII, quotes, <>)
# is percent-encoded. "%" is kept so existing escapes are not double-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/%:@!$&'()*+,;=-._~?"
_PCT_RE = re.compile(r"%([0-9a-fA-F]{2})")
# Unreserved characters (RFC 3986 2.3): an escape of one of these means the same as the
# character itself, so decoding them is a safe normalisation.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _normalize_escapes(s: str) -> str:
    """Upper-case percent escapes and decode escaped unreserved characters (RFC 3986 6.2.2)."""

    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return _PCT_RE.sub(fix, s)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, so that /a/./b/../c and /a/c are one URL."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
            continue
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
            continue
        out.append(seg)
    result = "/".join(out)
    if not result.startswith("/"):
        result = "/" + result
    return result


def _normalize_host(host: str) -> str | None:
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    if host.startswith("["):  # IPv6 literal; urlsplit strips the brackets from .hostname
        return host
    if host.isascii():
        # ASCII hosts are already what the idna codec would return (it is slow: ~half the cost
        # of normalising a URL); keep its one check, the DNS label length limits.
        if any(not 0 < len(label) <= 63 for label in host.split(".")):
            return None
    else:
        try:
            # IDN -> punycode so that a Unicode and an ASCII spelling of a host compare equal.
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if any(c in host for c in " /\\@?#%"):
        return None
    return host


def normalize_url(
    url: str | None,
    base: str | None = None,
    strip_params: frozenset[str] = TRACKING_PARAMS,
) -> str | None:
    """Return the canonical absolute form of `url` (resolved against `base`), or None.

    None means "not something we would ever fetch": non-http(s) schemes (mailto:,
    javascript:, data:, ftp:, ...), relative URLs without a base, empty or unparsable input.
    Userinfo (user:pass@) is dropped on purpose: credentials must never reach the lake
    or be replayed to a server.
    """
    if url is None:
        return None
    url = _CONTROL_RE.sub("", url.strip())
    if not url:
        return None
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            return None
        hostname = parts.hostname
        port = parts.port  # raises ValueError for a non-numeric / out-of-range port
    except ValueError:
        return None
    if not hostname:
        return None
    if ":" in hostname:  # IPv6
        host = "[" + hostname.lower() + "]"
    else:
        host = _normalize_host(hostname)
        if host is None:
            return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"

    path = _remove_dot_segments(parts.path or "/")
    path = _normalize_escapes(quote(path, safe=_PATH_SAFE))

    query = parts.query
    if query:
        kept = []
        for piece in query.split("&"):
            if not piece:
                continue
            key = unquote(piece.split("=", 1)[0].replace("+", " "))
            if key in strip_params:
                continue
            kept.append(piece)
        query = _normalize_escapes(quote("&".join(kept), safe=_QUERY_SAFE))

    return urlunsplit((scheme, netloc, path, query, ""))


_AUTHORITY_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")


def host_of(url: str) -> str | None:
    """Lower-case host name of `url` (no port, no brackets for IPv6), or None if it has none.

    This is the key for scope checks, robots groups and per-host politeness, so it must agree
    with what `CrawlScope.allowed_hosts` holds. Called for every discovered link (an index page
    has 17,000), so the authority is cut with one regex and its host parsed once per authority.
    """
    m = _AUTHORITY_RE.match(url)
    if m is None:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return None
        return host.lower() if host else None
    return _host_of_authority(m.group(1))


@functools.lru_cache(maxsize=4096)
def _host_of_authority(authority: str) -> str | None:
    try:
        host = urlsplit("//" + authority).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of a normalised URL: the unit robots.txt applies to (RFC 9309)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def page_id(batch_id: str, url: str) -> str:
    """Stable id of one fetch: the same URL in the same batch always gets the same id.

    Including batch_id means a recrawl in a later batch gets a new row rather than colliding
    with the old one, while reruns of the same batch are idempotent.
    """
    return hashlib.sha1(f"{batch_id}|{url}".encode()).hexdigest()[:20]


# A relative reference that needs none of normalize_url's work once joined to a normalised base:
# path characters quote() keeps and no escape ("%"), query, fragment, backslash, whitespace or
# scheme (":"). Dot segments are handled by RelativeJoiner; anything else takes the full path.
_CLEAN_REF = re.compile(r"[A-Za-z0-9_.~!$&'()*+,;=@/-]*")
# An absolute http(s) URL already in normal form but for its path's dot segments: lower-case
# scheme and ASCII host, no port, userinfo, query, escapes or fragment.
_CLEAN_ABS = re.compile(r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[A-Za-z0-9_.~!$&'()*+,;=@/-]*)?")


class RelativeJoiner:
    """`normalize_url(href, base)` for the hrefs of one page, with a fast path for the common
    case: a clean relative path (`os.html`, `../ref/sql.html`, `/docs/`) joined to a normalised
    base is already normalised, so it is a string concatenation instead of urljoin + urlsplit +
    quote + urlunsplit (~20x less CPU; link normalisation was half of a crawl's CPU time).
    Any other href (absolute, query, escapes, odd dot segments) goes through normalize_url."""

    __slots__ = ("_dir_segments", "_origin", "base", "strip_params")

    def __init__(self, base: str, strip_params: frozenset[str] = TRACKING_PARAMS) -> None:
        self.base, self.strip_params = base, strip_params
        self._origin: str | None = None
        self._dir_segments: list[str] = []
        norm = normalize_url(base, strip_params=strip_params)
        if norm is None or norm != base:  # only a normalised base makes concatenation exact
            return
        parts = urlsplit(norm)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # "/a/b/c.html" -> ["a", "b"]: the directories a relative path starts from
        self._dir_segments = parts.path.split("/")[1:-1]

    def join(self, href: str) -> str | None:
        """`normalize_url(href, base)`: the normalised absolute URL of `href`, or None."""
        if self._origin is None or not href:
            return normalize_url(href, base=self.base, strip_params=self.strip_params)
        if href[0] == "#":  # the page itself
            return self.base
        if href[0] == "h" and (m := _CLEAN_ABS.fullmatch(href)) is not None:
            path = m.group(3) or "/"
            if (all(len(label) <= 63 for label in m.group(2).split(".")) and "//" not in path
                    and "/./" not in path and "/../" not in path and not path.endswith(("/.", "/.."))):  # fmt: skip
                return f"{m.group(1)}://{m.group(2)}{path}"
            return normalize_url(href, base=self.base, strip_params=self.strip_params)
        if _CLEAN_REF.fullmatch(href) is None:
            return normalize_url(href, base=self.base, strip_params=self.strip_params)
        if "//" in href:  # a network-path reference (another host), or empty segments urljoin drops
            return normalize_url(href, base=self.base, strip_params=self.strip_params)
        if href[0] == "/":
            segments, rest = [], href[1:]
        else:
            segments, rest = list(self._dir_segments), href
        while rest.startswith("../"):  # RFC 3986 5.2.4: ".." above the root stays at the root
            if segments:
                segments.pop()
            rest = rest[3:]
        while rest.startswith("./"):
            rest = rest[2:]
        if rest in (".", "..") or "/./" in rest or "/../" in rest or rest.endswith(("/.", "/..")):
            return normalize_url(href, base=self.base, strip_params=self.strip_params)
        if rest.startswith(("./", "../")):  # a mix such as "./../x": rare, take the full path
            return normalize_url(href, base=self.base, strip_params=self.strip_params)
        segments.append(rest)
        return self._origin + "/" + "/".join(segments)
