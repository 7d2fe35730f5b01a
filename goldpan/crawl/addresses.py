"""Which IP addresses the crawler may connect to (the SSRF policy), in one place.

A crawler follows URLs written by strangers, so every address a host name resolves to is judged
here before a connection is opened, and again for every redirect hop:

* an address must be globally routable (not private, loopback, link-local, multicast, reserved,
  unspecified, ...), unless it lies in a network the recipe lists in `crawl.allow_private`;
* an IPv6 address that carries an IPv4 address is judged by that IPv4 address too, because the
  packet ends up there: IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (they *are*
  the IPv4 address), NAT64 `64:ff9b::/96` (RFC 6052: a translator forwards to the IPv4 address),
  6to4 `2002::/16` (RFC 3056) and Teredo `2001::/32` (RFC 4380: server and client). Python's
  `is_global` calls `2002:a00:1::` and `64:ff9b::a00:1` global although they reach 10.0.0.1;
  local-use NAT64 `64:ff9b:1::/48` (RFC 8215) is never public;
* `allow_private` entries are addresses or CIDR networks, never host names: a name says nothing
  about where it resolves (`localhost` can be made to resolve to 169.254.169.254), so allowing a
  name would skip the very check that matters;
* a recipe with `allow_private` crawls private addresses only when the operator opts in with
  GOLDPAN_ALLOW_PRIVATE=1 (the demo and `make ui` do), so a production recipe copied from the
  demo cannot silently keep loopback open.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_PRIVATE_ENV = "GOLDPAN_ALLOW_PRIVATE"
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class PrivateNotOptedIn(RuntimeError):
    """A recipe allows private addresses but the operator did not opt in (GOLDPAN_ALLOW_PRIVATE=1)."""


def parse_allow_entry(entry: str) -> IPNetwork:
    """One `allow_private` entry as a network; a host name (or anything else) is a ValueError."""
    text = str(entry).strip().strip("[]")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"allow_private entry {entry!r} is not an IP address or CIDR network: entries allow "
            "addresses, not host names (a name can resolve anywhere), e.g. 127.0.0.1 or 10.0.0.0/8"
        ) from None


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a packet to `ip` may end up at (empty for plain IPv6 and for IPv4)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # (server, client)
    if ip in NAT64_WELL_KNOWN or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def is_public(ip: IPAddress) -> bool:
    """Globally routable, on its own terms (see `embedded_ipv4` for what it carries)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in NAT64_LOCAL_USE:
        return False
    # is_global alone already excludes most of these; the explicit list documents intent and
    # guards against ipaddress table changes between Python versions.
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


@dataclass(frozen=True)
class AddressPolicy:
    """The networks a recipe opened on top of the public Internet (`allow_private`)."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        return cls(tuple(parse_allow_entry(e) for e in entries))

    def _ok(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allowed) or is_public(ip)

    def allows(self, ip_text: str) -> bool:
        """Whether a connection to `ip_text` is allowed: the address and every IPv4 address it
        carries must each be public or inside an allowed network."""
        try:
            ip = ipaddress.ip_address(ip_text.strip("[]").split("%", 1)[0])
        except ValueError:
            return False
        carried = embedded_ipv4(ip)
        if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped is not None or ip in IPV4_COMPATIBLE) and carried:
            return self._ok(carried[0])  # ::ffff:10.0.0.1 is 10.0.0.1 written as IPv6
        return self._ok(ip) and all(self._ok(v4) for v4 in carried)


def require_private_opt_in(allow_private: Iterable[str], env: Mapping[str, str] | None = None) -> None:
    """Refuse a crawl whose recipe opens private addresses unless GOLDPAN_ALLOW_PRIVATE=1."""
    entries = [str(e) for e in allow_private]
    if not entries:
        return
    env = os.environ if env is None else env
    if env.get(ALLOW_PRIVATE_ENV, "").strip() != "1":
        raise PrivateNotOptedIn(
            f"the recipe's crawl.allow_private opens {', '.join(entries)} to the crawler; set "
            f"{ALLOW_PRIVATE_ENV}=1 to crawl private addresses on purpose (the demo and `make ui` do), "
            "or remove allow_private from a production recipe"
        )


def parse_connect_to(mapping: Mapping[str, str]) -> dict[tuple[str, int], tuple[str, int]]:
    """`{"host:port": "ip:port"}` -> connect overrides, like curl's --connect-to.

    The URL (and so every id derived from it) keeps `host:port`; the connection goes to `ip:port`,
    which must be an IP literal so the address check still judges where the crawler really goes.
    The demo uses it to keep its URLs at 127.0.0.1:8765 when that port is taken by something else.
    """
    out: dict[tuple[str, int], tuple[str, int]] = {}
    for key, value in mapping.items():
        out[_host_port(key, "connect_to key")] = _host_port(value, "connect_to target", ip_only=True)
    return out


def _host_port(text: str, what: str, ip_only: bool = False) -> tuple[str, int]:
    host, sep, port = str(text).strip().rpartition(":")
    host = host.strip("[]").lower().rstrip(".")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what} {text!r} must be HOST:PORT")
    if ip_only:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{what} {text!r} must be an IP address and port, not a name") from None
    return host, int(port)
