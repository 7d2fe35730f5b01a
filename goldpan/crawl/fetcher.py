"""One safe, bounded HTTP GET per call, turned into one `pages` row.

Why this is more than `urllib3.request()`:

* **SSRF safety.** A crawler follows URLs written by strangers. Before connecting, the host is
  resolved once with `socket.getaddrinfo`, every returned address is checked by
  goldpan.crawl.addresses (non-global addresses, and IPv6 addresses carrying one, are refused
  unless their network is listed in `allow_private`; names never are), and the connection goes
  to the very address that was checked while the Host header / TLS SNI carry the name. That
  closes the DNS-rebinding gap between "check" and "connect". The check is repeated for every
  redirect hop, because a public page can redirect to http://169.254.169.254/.
* **Scope.** The fetcher itself refuses hosts the crawl config does not allow (and redirect
  hops out of scope), so a bug in the frontier cannot make it talk to an unconfigured host.
* **Bounds.** Connect/read timeouts plus a total deadline (a slow-drip server cannot hold a
  worker forever), `max_bytes` counted on *decoded* bytes (a 10 KB gzip bomb cannot expand to
  10 GB in memory), and a redirect limit with loop detection.
* **Never raises for network problems.** Every attempt, including refusals, becomes exactly one
  row with `status` kept | rejected | error and a short machine-readable `reason`, so the
  lake accounts for every URL the crawler touched.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import (
    DecodeError,
    HTTPError,
    LocationParseError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from goldpan.crawl.addresses import AddressPolicy, parse_connect_to
from goldpan.crawl.scope import HOST_NOT_ALLOWED, CrawlScope
from goldpan.crawl.sniff import binary_kind
from goldpan.crawl.urls import ALLOWED_SCHEMES, host_of, normalize_url, page_id
from goldpan.lake.schemas import ERROR, KEPT, REJECTED
from goldpan.recipe import DEFAULT_CONTENT_TYPES as RECIPE_CONTENT_TYPES
from goldpan.recipe import DEFAULT_MAX_BYTES, DEFAULT_USER_AGENT

log = logging.getLogger(__name__)

# The recipe's defaults (one definition): a Fetcher built without a recipe behaves like the default one.
DEFAULT_CONTENT_TYPES: frozenset[str] = frozenset(RECIPE_CONTENT_TYPES)
HTML_CONTENT_TYPES: frozenset[str] = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Headers never written to the lake: they can carry session tokens and are useless for curation.
DROPPED_HEADERS = frozenset({"set-cookie", "set-cookie2"})
_CHUNK = 64 * 1024
_DRAIN_MAX = 64 * 1024  # unwanted bodies up to this size are read to keep the connection alive
UNCHANGED = "unchanged"  # a 304 to a conditional GET, or a 200 with the stored content's sha1
try:  # urllib3 decodes br when the brotli package is installed (it is a dependency)
    import brotli  # noqa: F401

    ACCEPT_ENCODING = "gzip, deflate, br"
except ImportError:  # pragma: no cover
    ACCEPT_ENCODING = "gzip, deflate"

# Column order of the `pages` table (goldpan.lake.schemas.PAGES); rows carry exactly these keys.
ROW_KEYS: tuple[str, ...] = (
    "page_id", "batch_id", "url", "final_url", "host", "depth", "discovered_from", "fetched_at",
    "status", "reason", "http_status", "content_type", "charset_declared", "headers_json",
    "content", "content_sha1", "content_bytes", "truncated", "elapsed_ms", "source",
    "robots_version", "tdmrep_version", "redirect_chain_json",
)  # fmt: skip

Resolver = Callable[[str, int], list[str]]


class AddressNotAllowed(Exception):
    """The host resolved to an address the crawler must not talk to."""


class _Timeout(Exception):
    """The total per-fetch deadline ran out."""


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to, in getaddrinfo order, de-duplicated."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = str(sockaddr[0])
        if ip not in out:
            out.append(ip)
    return out


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """("text/html", "utf-8") from 'text/html; Charset="UTF-8"'; (None, None) when absent."""
    if not value:
        return None, None
    parts = value.split(";")
    mime = parts[0].strip().lower() or None
    charset = None
    for param in parts[1:]:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip().lower() or None
    return mime, charset


@dataclass
class FetchResult:
    """Outcome of one GET including its redirect chain, before it becomes a row."""

    url: str
    final_url: str
    fetched_at: datetime
    status: str = ERROR
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    charset_declared: str | None = None
    headers: dict[str, str] | None = None
    content: bytes | None = None
    truncated: bool = False
    elapsed_ms: float = 0.0
    redirects: list[str] = field(default_factory=list)
    # every URL requested, in order, with its HTTP status: [(url, 301), (url2, 302), (url3, 200)]
    hops: list[tuple[str, int]] = field(default_factory=list)

    def chain_json(self) -> str | None:
        """The redirect chain as JSON (each hop's URL and status), None without redirects."""
        if len(self.hops) < 2:
            return None
        return json.dumps([{"url": u, "status": s} for u, s in self.hops])

    def finish(self, status: str, reason: str | None, started: float) -> FetchResult:
        self.status, self.reason = status, reason
        self.elapsed_ms = (time.monotonic() - started) * 1000.0
        return self


def make_row(
    *,
    batch_id: str,
    url: str,
    depth: int,
    discovered_from: str | None,
    source: str,
    status: str,
    reason: str | None,
    fetched_at: datetime | None = None,
    final_url: str | None = None,
    http_status: int | None = None,
    content_type: str | None = None,
    charset_declared: str | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    truncated: bool = False,
    elapsed_ms: float = 0.0,
    robots_version: str | None = None,
    tdmrep_version: str | None = None,
    redirect_chain_json: str | None = None,
) -> dict[str, Any]:
    """Build one `pages` row. Also used for rows where no request was made (robots refusals),
    so that every URL the crawler decided about is accounted for in the same shape."""
    return {
        "page_id": page_id(batch_id, url),
        "batch_id": batch_id,
        "url": url,
        "final_url": final_url if final_url is not None else url,
        "host": host_of(url),
        "depth": int(depth),
        "discovered_from": discovered_from,
        "fetched_at": fetched_at or datetime.now(UTC),
        "status": status,
        "reason": reason,
        "http_status": http_status,
        "content_type": content_type,
        "charset_declared": charset_declared,
        "headers_json": json.dumps(headers, sort_keys=True) if headers is not None else None,
        "content": content,
        "content_sha1": hashlib.sha1(content).hexdigest() if content is not None else None,
        "content_bytes": len(content) if content is not None else None,
        "truncated": bool(truncated),
        "elapsed_ms": float(elapsed_ms),
        "source": source,
        # the policy_files versions (robots.txt, tdmrep.json) in force for this fetch (crawler sets them)
        "robots_version": robots_version,
        "tdmrep_version": tdmrep_version,
        "redirect_chain_json": redirect_chain_json,
    }


def classify_exception(exc: BaseException) -> str:
    """Map a transport exception to a short, stable `reason` string."""
    # Order matters: urllib3's NewConnectionError subclasses ConnectTimeoutError.
    if isinstance(exc, _Timeout):
        return "timeout"
    if isinstance(exc, AddressNotAllowed):
        return "address_not_allowed"
    if isinstance(exc, socket.gaierror):
        return "dns_error"
    if isinstance(exc, NewConnectionError):
        return "connection_error"
    if isinstance(exc, (Urllib3TimeoutError, socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, SSLError):
        return "tls_error"
    if isinstance(exc, DecodeError):
        return "decode_error"
    if isinstance(exc, ProtocolError):
        text = repr(exc)
        if "IncompleteRead" in text:
            return "incomplete_body"
        if "timed out" in text:
            return "timeout"
        return "connection_error"
    if isinstance(exc, LocationParseError):
        return "invalid_url"
    if isinstance(exc, (HTTPError, OSError)):
        return "connection_error"
    return f"unexpected:{type(exc).__name__}"


class Fetcher:
    """Polite, bounded, SSRF-safe HTTP fetcher. Thread-safe: the pool cache is locked and
    urllib3 pools are themselves thread-safe, so a later thread-pool crawler can share one."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 15.0,
        total_timeout_s: float = 60.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        allowed_content_types: Iterable[str] = DEFAULT_CONTENT_TYPES,
        allow_private: Iterable[str] = frozenset(),
        connect_to: Mapping[str, str] | None = None,
        resolver: Resolver | None = None,
        max_pools: int = 64,
        pool_maxsize: int = 4,
        dns_cache_s: float = 60.0,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be > 0")
        if max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")
        self.user_agent = user_agent
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.total_timeout_s = total_timeout_s
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allowed_content_types = frozenset(t.lower() for t in allowed_content_types)
        self.resolver: Resolver = resolver or system_resolver
        self.max_pools = max_pools
        # keep-alive connections kept per (host, address): at least the per-host concurrency, or
        # surplus connections are discarded after each response and reopened for the next
        self.pool_maxsize = pool_maxsize
        # allow_private entries are IPs / CIDR networks, never names (goldpan.crawl.addresses).
        self.address_policy = AddressPolicy.from_entries(allow_private)
        self.connect_to = parse_connect_to(connect_to or {})
        self._pools: OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()
        # (host, port) -> (expiry, checked addresses): one lookup and check per host and minute, not
        # per request. Safe against rebinding: the connection still goes to an address that was checked.
        self.dns_cache_s = dns_cache_s
        self._resolved: dict[tuple[str, int], tuple[float, list[str]]] = {}

    # -- public API ------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        batch_id: str,
        depth: int,
        discovered_from: str | None,
        source: str,
        scope: CrawlScope,
        already_fetched: Container[str] | None = None,
        conditional: Mapping[str, str] | None = None,
        blocked: Callable[[str], str | None] | None = None,
    ) -> dict[str, Any]:
        """GET `url` and return its `pages` row (see goldpan.lake.schemas.PAGES).

        `conditional` adds If-None-Match / If-Modified-Since; a 304 answer to them is the row
        `rejected` / `unchanged`. `blocked(url)` names a takedown request covering a redirect
        hop; the chain stops there (`redirect_to_takedown`) without requesting it.

        `already_fetched` lets the crawler stop a redirect chain that lands on a URL it has
        already downloaded: the row records that target as `final_url` with reason
        `redirect_to_fetched`, and no second body is requested.
        """
        r = self.get(url, scope, already_fetched=already_fetched, conditional=conditional, blocked=blocked)
        return make_row(
            batch_id=batch_id,
            url=r.url,
            depth=depth,
            discovered_from=discovered_from,
            source=source,
            status=r.status,
            reason=r.reason,
            fetched_at=r.fetched_at,
            final_url=r.final_url,
            http_status=r.http_status,
            content_type=r.content_type,
            charset_declared=r.charset_declared,
            headers=r.headers,
            content=r.content,
            truncated=r.truncated,
            elapsed_ms=r.elapsed_ms,
            redirect_chain_json=r.chain_json(),
        )

    def get(
        self,
        url: str,
        scope: CrawlScope,
        *,
        check_content_type: bool = True,
        already_fetched: Container[str] | None = None,
        conditional: Mapping[str, str] | None = None,
        blocked: Callable[[str], str | None] | None = None,
    ) -> FetchResult:
        """Lower-level GET returning a FetchResult (robots.txt uses it with
        `check_content_type=False`, since robots files are served with all sorts of types)."""
        started = time.monotonic()
        deadline = started + self.total_timeout_s
        norm = normalize_url(url)
        res = FetchResult(url=norm or url, final_url=norm or url, fetched_at=datetime.now(UTC))
        try:
            return self._get(
                res, norm, scope, started, deadline, check_content_type, already_fetched, conditional, blocked
            )
        except Exception as exc:  # the contract is "never raises": log and record instead
            reason = classify_exception(exc)
            if reason.startswith("unexpected:"):
                log.exception("unexpected error fetching %s", res.final_url)
            else:
                log.debug("fetch %s failed: %s (%r)", res.final_url, reason, exc)
            res.content, res.truncated = None, False
            return res.finish(ERROR, reason, started)

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- address safety --------------------------------------------------------------------

    def address_allowed(self, ip_text: str, host: str) -> bool:
        """Whether connecting to `ip_text` (which `host` resolved to) is allowed. The name plays
        no part: only the address decides (goldpan.crawl.addresses)."""
        return self.address_policy.allows(ip_text)

    def resolve_checked(self, host: str, port: int) -> list[str]:
        """Resolve `host` and return its addresses, refusing if ANY of them is not allowed.

        Refusing on any (rather than filtering) means a name that mixes a public and an
        internal address is treated as hostile instead of being half-trusted.
        """
        cached = self._resolved.get((host, port))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        bare = host.strip("[]")
        try:
            ipaddress.ip_address(bare.split("%", 1)[0])
            ips = [bare]  # literal: no DNS lookup at all
        except ValueError:
            ips = self.resolver(bare, port)
        if not ips:
            raise socket.gaierror(f"no addresses for {host}")
        for ip in ips:
            if not self.address_allowed(ip, bare):
                raise AddressNotAllowed(f"{host} -> {ip}")
        if self.dns_cache_s > 0:
            if len(self._resolved) > 10_000:  # a crawl of very many hosts: start over
                self._resolved.clear()
            self._resolved[(host, port)] = (time.monotonic() + self.dns_cache_s, ips)
        return ips

    # -- internals -------------------------------------------------------------------------

    def _get(
        self,
        res: FetchResult,
        norm: str | None,
        scope: CrawlScope,
        started: float,
        deadline: float,
        check_content_type: bool,
        already_fetched: Container[str] | None,
        conditional: Mapping[str, str] | None = None,
        blocked: Callable[[str], str | None] | None = None,
    ) -> FetchResult:
        if norm is None:
            scheme = res.url.split(":", 1)[0].strip().lower() if ":" in res.url else ""
            reason = "scheme_not_allowed" if scheme and scheme not in ALLOWED_SCHEMES else "invalid_url"
            return res.finish(REJECTED, reason, started)
        if not scope.host_allowed(host_of(norm)):
            return res.finish(REJECTED, HOST_NOT_ALLOWED, started)

        current = norm
        chain = [norm]
        while True:
            res.final_url = current
            # Validators belong to the URL they were stored for: only the first hop carries them.
            resp = self._open(current, deadline, conditional if current == norm else None)
            res.http_status = resp.status
            res.hops.append((current, resp.status))
            res.headers = self._headers(resp)
            res.content_type, res.charset_declared = parse_content_type(resp.headers.get("content-type"))
            if resp.status not in REDIRECT_CODES:
                break
            location = resp.headers.get("location")
            self._release(resp, deadline)
            if not location:
                return res.finish(REJECTED, "redirect_without_location", started)
            nxt = normalize_url(location, base=current)
            if nxt is None:
                return res.finish(REJECTED, "redirect_invalid_location", started)
            res.final_url = nxt
            if nxt in chain:
                return res.finish(REJECTED, "redirect_loop", started)
            if len(chain) > self.max_redirects:
                return res.finish(REJECTED, "too_many_redirects", started)
            if scope.why_not(nxt) is not None:
                return res.finish(REJECTED, "redirect_out_of_scope", started)
            if already_fetched is not None and nxt in already_fetched:
                return res.finish(REJECTED, "redirect_to_fetched", started)
            if blocked is not None and blocked(nxt) is not None:
                return res.finish(REJECTED, "redirect_to_takedown", started)
            chain.append(nxt)
            res.redirects.append(nxt)
            current = nxt

        if resp.status == 304 and conditional and res.final_url == norm:
            self._release(resp, deadline)
            return res.finish(REJECTED, UNCHANGED, started)
        if not 200 <= resp.status < 300:
            self._release(resp, deadline)
            return res.finish(REJECTED, f"http_{resp.status}", started)
        if check_content_type and res.content_type not in self.allowed_content_types:
            self._release(resp, deadline)
            return res.finish(REJECTED, f"content_type:{res.content_type or 'missing'}", started)
        res.content, res.truncated = self._read_body(resp, deadline)
        if check_content_type and (kind := binary_kind(res.content)) is not None:
            # the header said text; the bytes say otherwise (an image or archive served as HTML)
            res.content = None
            return res.finish(REJECTED, f"binary_content:{kind}", started)
        return res.finish(KEPT, None, started)

    def _headers(self, resp: urllib3.BaseHTTPResponse) -> dict[str, str]:
        return {k.lower(): v for k, v in resp.headers.itermerged() if k.lower() not in DROPPED_HEADERS}

    def _pool(self, scheme: str, ip: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
        key = (scheme, ip, port, host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            common: dict[str, Any] = {"maxsize": self.pool_maxsize, "block": False, "retries": False}
            if scheme == "https":
                # Connect to the checked IP but verify the certificate against the host name.
                pool = urllib3.HTTPSConnectionPool(
                    ip, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **common
                )
            else:
                pool = urllib3.HTTPConnectionPool(ip, port, **common)
            self._pools[key] = pool
            evicted = []
            while len(self._pools) > self.max_pools:
                evicted.append(self._pools.popitem(last=False)[1])
        for old in evicted:
            old.close()
        return pool

    def _timeout(self, deadline: float) -> urllib3.Timeout:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout()
        return urllib3.Timeout(
            connect=min(self.connect_timeout_s, remaining), read=min(self.read_timeout_s, remaining)
        )

    def _open(
        self, url: str, deadline: float, conditional: Mapping[str, str] | None = None
    ) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        scheme = parts.scheme
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        # connect_to: the URL keeps host:port, the connection goes to the mapped (checked) address
        connect_host, connect_port = self.connect_to.get((host.lower().rstrip("."), port), (host, port))
        ips = self.resolve_checked(connect_host, connect_port)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {
            "Host": parts.netloc,  # normalised: no userinfo, default port dropped
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        if conditional:
            headers.update(conditional)
        last_exc: Exception | None = None
        for ip in ips:
            pool = self._pool(scheme, ip, connect_port, host)
            try:
                return pool.urlopen(
                    "GET",
                    target,
                    headers=headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=True,
                    assert_same_host=False,
                    timeout=self._timeout(deadline),
                )
            except NewConnectionError as exc:  # try the next checked address
                last_exc = exc
        assert last_exc is not None
        raise last_exc

    def _read_body(self, resp: urllib3.BaseHTTPResponse, deadline: float) -> tuple[bytes, bool]:
        """Read decoded body up to max_bytes. urllib3 (>=2.6) bounds decompression output by
        the requested amount, so counting decoded bytes here is what stops gzip bombs."""
        chunks: list[bytes] = []
        total = 0
        truncated = False
        try:
            for chunk in resp.stream(_CHUNK, decode_content=True):
                if not chunk:
                    continue
                room = self.max_bytes - total
                if len(chunk) > room:
                    chunks.append(chunk[:room])
                    total += room
                    truncated = True
                    break
                chunks.append(chunk)
                total += len(chunk)
                if time.monotonic() > deadline:
                    raise _Timeout()
        except BaseException:
            self._abandon(resp)
            raise
        if truncated:
            self._abandon(resp)
        else:
            resp.release_conn()
        return b"".join(chunks), truncated

    def _release(self, resp: urllib3.BaseHTTPResponse, deadline: float) -> None:
        """Finish a response whose body is not wanted (304, 404, redirect) and keep the
        connection: a body the server declared small (or none, as a 304 has) is read and
        dropped, within the fetch deadline. Closing instead cost a new TCP connection per
        request, on both sides: a recrawl answered by 304s opened one connection per URL."""
        length = resp.headers.get("content-length", "")
        if resp.status in (204, 304) or (length.isdigit() and int(length) <= _DRAIN_MAX):
            try:
                while resp.read(_CHUNK, decode_content=False):
                    if time.monotonic() > deadline:
                        raise _Timeout()
                resp.release_conn()
                return
            except Exception:  # a broken connection is simply not reused
                log.debug("could not drain a response; closing its connection", exc_info=True)
        self._abandon(resp)

    @staticmethod
    def _abandon(resp: urllib3.BaseHTTPResponse) -> None:
        """Drop a response without reading the rest: closing the socket is cheaper and safer
        than draining an unknown amount of data; the pool reconnects on next use."""
        try:
            resp.close()
        finally:
            resp.release_conn()
