"""Publishers' opt-out signals of one page, as pure functions of what was stored about it.

Everything here reads the stored HTTP headers, the stored HTML and the origin's stored policy files
(robots.txt, tdmrep.json); nothing fetches. So a crawled page and a WARC record get the same
treatment, and signals can be recomputed from the lake at any time. Signals are facts ("the
`tdm-reservation` header said 1"); what a signal does to a document is the recipe's decision
(`goldpan.consent.decide`).

Sources read:

* **TDMRep** (W3C TDM Reservation Protocol, Community Group final report 2024): the
  `tdm-reservation` (0 / 1) and `tdm-policy` (URL) HTTP headers, the same names as HTML
  `<meta name=... content=...>`, and `/.well-known/tdmrep.json`, an array of
  `{"location": <path pattern>, "tdm-reservation": 0|1, "tdm-policy": <url>}` rules where the first
  rule whose location matches the URL path applies (robots.txt pattern syntax: `*`, final `$`;
  percent-encoded unreserved characters are decoded before comparison). Other values are protocol
  errors and count as "not declared", as the protocol says.
* **Robots directives:** `X-Robots-Tag` headers and `<meta name="robots">` (plus meta tags named
  after an agent of interest, e.g. `<meta name="GPTBot" content="noai">`), comma-separated
  directives such as `noai`, `noimageai`, `noindex`; `agent: directive` scopes a directive to one
  agent and is stored as `agent:directive`. Only the directive in the same comma-separated item is
  scoped: after merging repeated headers into one value the scope's extent is ambiguous, and
  reading the rest as unscoped honours more opt-outs, not fewer.
* **robots.txt groups of AI-training agents:** for each agent of the recipe's list, whether the
  origin's robots.txt (the version that allowed our fetch) disallows this URL to it, with the
  deciding rule as evidence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from goldpan.crawl.robotstxt import Pattern, RobotsTxt, path_of, product_token

SIGNALS_VERSION = "consent-signals-v1"

HEADER, META, FILE = "http-header", "html-meta", "tdmrep.json"
X_ROBOTS, META_ROBOTS, ROBOTS_TXT = "x-robots-tag", "meta-robots", "robots.txt"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Directives that take a value after a colon (Google's list): `unavailable_after: <date>` is not a scope.
_VALUED = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")


def tdm_value(raw: object) -> int | None:
    """A `tdm-reservation` value: 0 or 1; anything else is a protocol error, i.e. not declared."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw in (0, 1) else None
    if isinstance(raw, str) and raw.strip() in ("0", "1"):
        return int(raw.strip())
    return None


def robots_directives(value: str | None) -> list[str]:
    """`noai, GPTBot: noindex` -> ["noai", "gptbot:noindex"] (lower case, in order, deduplicated)."""
    out: list[str] = []
    for item in (value or "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        head, sep, tail = item.partition(":")
        head = head.strip()
        if sep and head not in _VALUED and tail.strip():
            directive = f"{head}:{tail.strip().split()[0]}" if " " not in head else tail.strip()
        else:
            directive = head
        if directive not in out:
            out.append(directive)
    return out


@dataclass(frozen=True)
class HeaderSignals:
    tdm_reservation: int | None
    tdm_policy: str | None
    x_robots_tag: list[str]


def header_signals(headers: Mapping[str, str] | None) -> HeaderSignals:
    """Signals of one response's headers (names lower case, repeated headers merged with ", ")."""
    h = {k.lower(): v for k, v in (headers or {}).items()}
    policy = (h.get("tdm-policy") or "").strip() or None
    return HeaderSignals(tdm_value(h.get("tdm-reservation")), policy, robots_directives(h.get("x-robots-tag")))


@dataclass(frozen=True)
class HtmlSignals:
    tdm_reservation: int | None
    tdm_policy: str | None
    meta_robots: list[str]


NO_HTML = HtmlSignals(None, None, [])


def html_signals(content: bytes | None, charset: str | None, agents: Iterable[str] = ()) -> HtmlSignals:
    """`<meta>` signals of an HTML document: tdm-reservation, tdm-policy, and robots directives of
    `<meta name="robots">` and of meta tags named after one of `agents` (scoped to that agent)."""
    if not content:
        return NO_HTML
    named = {a.lower() for a in agents}
    codec = _text_codec(charset)
    if not _may_name(content, codec, (*_META_NAMES, *named)):
        return NO_HTML
    from resiliparse.parse.html import HTMLTree

    text = content.decode(codec, errors="replace")
    reservation = policy = None
    robots: list[str] = []
    for el in HTMLTree.parse(text).document.query_selector_all("meta[name]"):
        name = (el.getattr("name") or "").strip().lower()
        value = el.getattr("content")
        if value is None:
            continue
        if name == "tdm-reservation" and reservation is None:
            reservation = tdm_value(value)
        elif name == "tdm-policy" and policy is None:
            policy = value.strip() or None
        elif name == "robots":
            robots += [d for d in robots_directives(value) if d not in robots]
        elif name in named:
            robots += [s for d in robots_directives(value) if (s := f"{name}:{d}") not in robots]
    return HtmlSignals(reservation, policy, robots)


#: the `<meta name>` values read whatever the agents
_META_NAMES = ("tdm-reservation", "tdm-policy", "robots")

# Codecs in which every ASCII letter, digit and "-" of the decoded text comes from that same byte, and
# no other byte decodes to one (checked byte by byte in tests/unit/test_consent.py; UTF-8 by its
# construction: a multi-byte sequence decodes to U+0080 or above, an invalid one to U+FFFD). Other
# codecs (UTF-16, the CJK multi-byte ones, EBCDIC, UTF-7) always take the parse.
ASCII_TRANSPARENT = frozenset({
    "utf-8", "ascii", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "koi8-r", "koi8-u", *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
})
# Character references that spell ASCII letters: numeric ones, and the one named reference whose value
# is ASCII (`&fjlig;` = "fj", from html.entities.html5). The Kelvin sign lower-cases to "k".
_SPELLED = (b"&#", b"&fjlig")
_KELVIN = "\u212a"
# Every `name` attribute's value, in lower-cased bytes: after `name=`, up to the closing quote (or the
# end of the page), or an unquoted value up to whitespace or `>`. Also matches `data-name=` and text
# that only looks like an attribute: more values to check, never fewer.
_NAME_VALUES = re.compile(rb"""name\s*=\s*("[^"]*|'[^']*|[^\s>]*)""")


def _text_codec(charset: str | None) -> str:
    """The codec `bytes.decode` uses for `charset`, as `html_signals` decodes: an unknown label (or one
    that is not a text encoding, such as rot13) is read as UTF-8."""
    import codecs

    try:
        b"a".decode(charset or "utf-8", errors="replace")  # (an empty input never looks the codec up)
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"


def _may_name(content: bytes, codec: str, names: Iterable[str]) -> bool:
    """False only when no `<meta name>` of the page can equal one of `names` (lower case): then the
    page needs no parse (a full HTML parse was half of the consent step's time on 6,000 real pages,
    where almost none carry such a tag).

    Exact: in an ASCII-transparent codec, a `name` attribute whose value decodes, stripped and lower-cased,
    to one of `names` (ASCII) has that name's bytes inside its raw value, up to ASCII case (`bytes.lower`),
    unless a character reference or a Kelvin sign spells one of its letters, and those send the page to
    the parse too. One scan for `name=` whatever the number of agents (a scan per name cost more than
    the parse with the recipe's ~20 agents)."""
    if codec not in ASCII_TRANSPARENT or not all(n.isascii() for n in names):
        return True
    needles = [n.encode() for n in names]
    kelvin = _KELVIN.encode(codec, errors="ignore") if any("k" in n for n in names) else b""
    # All values in one string, NUL-separated (no name holds a NUL, so no match spans two values).
    values = b"\0".join(_NAME_VALUES.findall(content.lower()))
    return (any(n in values for n in needles) or any(s in values for s in _SPELLED)
            or bool(kelvin and kelvin in values))


# -- tdmrep.json -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TdmRule:
    location: str
    reservation: int | None
    policy: str | None
    pattern: Pattern


class TdmRepError(ValueError):
    """A tdmrep.json that is not a JSON array of rules (often an HTML "soft 404")."""


def _normalise(path: str) -> str:
    """TDMRep comparison form: %-escapes of unreserved ASCII decoded, others upper-cased, and
    non-ASCII characters %-encoded (UTF-8)."""

    def sub(m: re.Match[str]) -> str:
        octet = int(m.group(1), 16)
        return chr(octet) if octet in _UNRESERVED else "%" + m.group(1).upper()

    encoded = "".join(c if ord(c) < 128 else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in path)
    return _PCT.sub(sub, encoded)


def parse_tdmrep(text: str | bytes | None) -> list[TdmRule]:
    """The rules of a tdmrep.json body, in order; raises TdmRepError when it is not a rule array."""
    if text is None:
        raise TdmRepError("empty body")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TdmRepError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise TdmRepError(f"expected a JSON array of rules, got {type(data).__name__}")
    rules = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("location"), str):
            continue  # a malformed rule is skipped, the others still apply
        location = item["location"].strip()
        if not location:
            continue
        policy = item.get("tdm-policy")
        rules.append(TdmRule(location, tdm_value(item.get("tdm-reservation")),
                             policy.strip() or None if isinstance(policy, str) else None,
                             Pattern.compile(_normalise(location if location.startswith(("/", "*"))
                                                        else "/" + location))))  # fmt: skip
    return rules


def tdmrep_rule(rules: list[TdmRule], url: str) -> TdmRule | None:
    """The first rule whose location matches the URL's path (TDMRep: first in sequence wins)."""
    path = _normalise(path_of(url))
    return next((r for r in rules if r.pattern.matches(path)), None)


# -- robots.txt and AI-training agents -----------------------------------------------------------

def robots_ai(robots: RobotsTxt, url: str, agents: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Agents (as listed) that `robots` disallows `url` to, and {agent: deciding rule} for those."""
    disallowed: list[str] = []
    evidence: dict[str, str] = {}
    for agent in agents:
        d = robots.decide(product_token(agent), url)
        if not d.allowed:
            disallowed.append(agent)
            evidence[agent] = d.describe()
    return disallowed, evidence


def effective_reservation(file: int | None, header: int | None, meta: int | None) -> tuple[int | None, str | None]:
    """(reservation, source): 1 if any source reserves (first in TDMRep's reading order: the origin
    file, then the header, then the HTML), else 0 if any declares 0, else (None, None).

    The protocol reads the sources in that order and stops at the first declaration; we honour a
    reservation wherever it appears, so a stale `0` in tdmrep.json cannot hide a page's own `1`."""
    sources = ((FILE, file), (HEADER, header), (META, meta))
    for value in (1, 0):
        for name, v in sources:
            if v == value:
                return value, name
    return None, None
