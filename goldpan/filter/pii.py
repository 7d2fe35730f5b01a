"""PII: count e-mail addresses, IP addresses and phone numbers, and replace them with placeholders.

Why counts *and* redaction: the counts are signals (stored in `doc_signals`, so a recipe or a
gate can look at a PII rate without re-reading text); the redaction is applied by the release
stage to corpus text only, so `documents` keeps the original for audit and takedowns.

Patterns, and why they are conservative (a false phone number destroys real content: a date, a
price, a version, an ISBN, an order number):
- e-mail: RFC-5322-ish local part, a dotted domain with a 2+ letter TLD (as datatrove's
  `PIIFormatter` and Dolma's `pii_regex`); obfuscated forms ("name at host dot com") are not PII
  here.
- IPv4: four dotted octets 0-255 not embedded in a longer dotted number or version string
  ("1.2.3.4.5", "v1.2.3.4"). Unlike datatrove we also redact private/loopback addresses: they
  still identify infrastructure and are rare in prose.
- IPv6: full and `::`-compressed forms validated with `ipaddress` (a bare "::" or a time such as
  "12:30:45" is not an address).
- Phone numbers (digits only counted after stripping separators):
  * international: "+" country code then 7-14 more digits, separated by spaces, dots, dashes or
    parentheses ("+1 (415) 555-0132", "+44 20 7946 0958", "+86 138 0013 8000");
  * North-American national: "(415) 555-0132", "415-555-0132", "415.555.0132" (3-3-4 groups with a
    separator; a bare 10-digit run is an id, not a phone);
  * Chinese mobile: 11 digits starting 13-19, optionally grouped 3-4-4 ("13800138000",
    "138-0013-8000", "138 0013 8000"), not part of a longer digit run;
  * Chinese landline: area code 0 + 2-3 digits, then 7-8 digits, with "-" or a space, optionally
    in parentheses ("010-62345678", "(0755) 8765 4321", "021 5432 1098");
  Not phones: dates ("2024-03-15", "2024.03.15"), versions ("3.11.7"), prices ("$1,299.00"),
  ISBNs ("978-7-111-54742-6" has the wrong grouping), order numbers (long bare digit runs other
  than the Chinese-mobile shape, or digits glued to letters like "SO-2024031500123").
"""

from __future__ import annotations

import ipaddress
import re

EMAIL, IP, PHONE = "email", "ip", "phone"
PLACEHOLDERS: dict[str, str] = {EMAIL: "<EMAIL>", IP: "<IP>", PHONE: "<PHONE>"}
PII_KINDS: tuple[str, ...] = (EMAIL, IP, PHONE)

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])",
    re.ASCII,
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Not preceded by a digit, a dot-digit or a letter (v1.2.3.4), not followed by .digit (1.2.3.4.5).
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\.?\d)(?![\w])", re.ASCII)
# Candidates only; each is validated with ipaddress so "12:30:45" or "a:b" never count.
_IPV6_CAND = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])", re.ASCII)

_SEP = r"[ .\-\u00a0]"
_PHONE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # International: +CC then groups; the total digit count is checked after matching.
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .\-\u00a0]?\(?\d{1,4}\)?){2,6}(?![\w])", re.ASCII),
    # Chinese mobile 1[3-9]x xxxx xxxx, bare or grouped 3-4-4.
    re.compile(rf"(?<![\w.\-])1[3-9]\d(?:{_SEP}?\d{{4}}){{2}}(?![\w]|[.\-]\d)", re.ASCII),
    # Chinese landline with area code: (0xx) / 0xx[x] then 7-8 digits, optionally split 3-4 / 4-4.
    re.compile(r"(?<![\w.\-])(?:\(0\d{2,3}\)\s?|0\d{2,3}[\- ])\d{3,4}[\- ]?\d{4}(?![\w]|[.\-]\d)", re.ASCII),
    # North-American national: (xxx) xxx-xxxx or xxx-xxx-xxxx / xxx.xxx.xxxx (a separator is required).
    re.compile(r"(?<![\w.\-])(?:\(\d{3}\)\s?|\d{3}[\-.])\d{3}[\-.]\d{4}(?![\w]|[.\-]\d)", re.ASCII),
)
_DIGIT = re.compile(r"\d")


def _valid_ipv6(s: str) -> bool:
    # A digit is required: "a::b" or "dead::beef" is far more often code (C++ scopes) than an address.
    if s.count(":") < 2 or not any(c.isdigit() for c in s):
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    # Times ("12:30:45") fail ipaddress (3 groups, no "::"); the full form needs 8 groups.
    return "::" in s or s.count(":") == 7


def _phone_ok(m: re.Match[str], kind: int) -> bool:
    digits = len(_DIGIT.findall(m.group(0)))
    if kind == 0:  # international: E.164 allows at most 15 digits; fewer than 8 is not a number
        return 8 <= digits <= 15
    return True


# Necessary conditions, one per pattern above: every match of the pattern contains a match of its
# check, and each check starts with a literal or a small set of characters, which `re` finds by
# skipping ahead, where the patterns' leading look-behinds made `re` try every position (~0.6 ms a
# document in doc_signals on real documentation pages, now a twentieth of that: most pages have none).
# - e-mail: the local part's last character, "@", the domain's first character;
# - IPv4: the 2nd and 3rd octets with their dots and the 4th octet's first digit;
# - IPv6: two colons with at most four hex digits between them ({2,7} groups each end in ":");
# - phones: the patterns without their look-arounds (and without the "(" before a landline's area
#   code); the North-American one: its last two groups, found from their separator.
_EMAIL_CHECK = re.compile(r"@(?<=[A-Za-z0-9_%+\-]@)[A-Za-z0-9]", re.ASCII)
_IPV4_CHECK = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d", re.ASCII)
_IPV6_CHECK = re.compile(r":[0-9A-Fa-f]{0,4}:", re.ASCII)
_PHONE_CHECKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\+\d", re.ASCII),
    re.compile(rf"1[3-9]\d(?:{_SEP}?\d{{4}}){{2}}", re.ASCII),
    re.compile(r"0\d{2,3}(?:\)\s?|[\- ])\d{3,4}[\- ]?\d{4}", re.ASCII),
    re.compile(r"[\-.](?<=\d{3}[\-.])\d{4}", re.ASCII),
)


def _spans(text: str, checked: bool = True) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans, earliest first; e-mail wins over IP wins over phone.
    `checked=False` runs every pattern whatever its check says (the reference for tests)."""
    found: list[tuple[int, int, str]] = []
    if not checked or _EMAIL_CHECK.search(text):
        for m in _EMAIL.finditer(text):
            found.append((m.start(), m.end(), EMAIL))
    if not checked or _IPV4_CHECK.search(text):
        for m in _IPV4.finditer(text):
            found.append((m.start(), m.end(), IP))
    if not checked or _IPV6_CHECK.search(text):
        for m in _IPV6_CAND.finditer(text):
            if _valid_ipv6(m.group(0)):
                found.append((m.start(), m.end(), IP))
    for i, (pat, check) in enumerate(zip(_PHONE_PATTERNS, _PHONE_CHECKS, strict=True)):
        if checked and check.search(text) is None:
            continue
        for m in pat.finditer(text):
            if _phone_ok(m, i):
                found.append((m.start(), m.end(), PHONE))
    priority = {EMAIL: 0, IP: 1, PHONE: 2}
    # Longest first at equal priority so "+86 138 0013 8000" wins over its "138 0013 8000" part.
    found.sort(key=lambda s: (priority[s[2]], -(s[1] - s[0]), s[0]))
    taken: list[tuple[int, int, str]] = []
    for span in found:
        if all(span[1] <= a or span[0] >= b for a, b, _ in taken):
            taken.append(span)
    taken.sort()
    return taken


def count_pii(text: str) -> dict[str, int]:
    """{'email': n, 'ip': n, 'phone': n} for `text` (the doc_signals PII columns)."""
    counts = dict.fromkeys(PII_KINDS, 0)
    if not text:
        return counts
    for _, _, kind in _spans(text):
        counts[kind] += 1
    return counts


def redact_pii(text: str) -> tuple[str, dict[str, int]]:
    """`text` with every e-mail / IP / phone replaced by `<EMAIL>` / `<IP>` / `<PHONE>`, and the counts.

    Contract 4 (COMMON.md): the release stage calls this on corpus text; `documents` keeps the
    original. Idempotent: placeholders contain nothing the patterns match.
    """
    counts = dict.fromkeys(PII_KINDS, 0)
    if not text:
        return text, counts
    out: list[str] = []
    pos = 0
    for start, end, kind in _spans(text):
        out.append(text[pos:start])
        out.append(PLACEHOLDERS[kind])
        counts[kind] += 1
        pos = end
    out.append(text[pos:])
    return "".join(out), counts
