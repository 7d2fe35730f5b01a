"""A static web server for the real-documentation benchmark site (bench/crawl_real.py).

What a crawler meets on a real documentation host: keep-alive HTTP/1.1; ETag and Last-Modified
with 304 answers to conditional GETs; `robots.txt` naming a sitemap index; one gzipped sitemap
per manual (`<lastmod>` = the file's mtime); directory listings where a folder has no index page;
404 for missing files. Several server processes share the port (SO_REUSEPORT), so the server is
not what the benchmark measures.
"""

from __future__ import annotations

import gzip
import html
import mimetypes
import multiprocessing as mp
import os
import socket
import tempfile
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import quote, unquote, urlsplit


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def build_sitemaps(site: Path, packages: list[str], out: Path, base: str) -> int:
    """sitemap_index.xml + sitemaps/<package>.xml.gz under `out`; returns the URLs listed."""
    (out / "sitemaps").mkdir(parents=True, exist_ok=True)
    entries, total = [], 0
    for pkg in packages:
        root = (site / pkg).resolve()
        urls = []
        for p in sorted(root.rglob("*.html")):
            lastmod = datetime.fromtimestamp(p.stat().st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
            loc = f"{base}/{pkg}/{quote(p.relative_to(root).as_posix())}"
            urls.append(f"<url><loc>{html.escape(loc)}</loc><lastmod>{lastmod}</lastmod></url>")
        total += len(urls)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(urls) + "</urlset>")  # fmt: skip
        (out / "sitemaps" / f"{pkg}.xml.gz").write_bytes(gzip.compress(body.encode(), 6))
        entries.append(f"<sitemap><loc>{base}/sitemaps/{pkg}.xml.gz</loc></sitemap>")
    (out / "sitemap_index.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(entries) + "</sitemapindex>")  # fmt: skip
    (out / "robots.txt").write_text(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n")
    return total


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a) -> None:
        pass

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        extra: Path = self.server.extra  # type: ignore[attr-defined]
        site: Path = self.server.site  # type: ignore[attr-defined]
        if path in ("/robots.txt", "/sitemap_index.xml") or path.startswith("/sitemaps/"):
            target = extra / path.lstrip("/")
        else:
            parts = [p for p in path.split("/") if p not in ("", ".")]
            if any(p == ".." for p in parts):
                return self._send(404, b"not found", "text/plain")
            target = site.joinpath(*parts)
        if target.is_dir():
            if not path.endswith("/"):
                return self._send(301, b"", "text/html", {"Location": path + "/"})
            index = target / "index.html"
            if not index.is_file():
                return self._listing(target, path)
            target = index
        if not target.is_file():
            return self._send(404, b"<html><body>not found</body></html>", "text/html")
        st = target.stat()
        etag, modified = _etag(st), formatdate(st.st_mtime, usegmt=True)
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if (inm and inm == etag) or (not inm and ims and _not_after(st.st_mtime, ims)):
            return self._send(304, b"", None, {"ETag": etag, "Last-Modified": modified})
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype == "text/html":
            ctype += "; charset=utf-8"
        self._send(200, target.read_bytes(), ctype, {"ETag": etag, "Last-Modified": modified})

    def _listing(self, folder: Path, path: str) -> None:
        items = sorted(folder.iterdir())
        links = "".join(f'<li><a href="{quote(p.name)}{"/" if p.is_dir() else ""}">{html.escape(p.name)}</a></li>'
                        for p in items if p.is_dir() or p.suffix in (".html", ".htm"))  # fmt: skip
        body = f"<html><head><title>Index of {html.escape(path)}</title></head><body><ul>{links}</ul></body></html>"
        self._send(200, body.encode(), "text/html; charset=utf-8")

    def _send(self, code: int, body: bytes, ctype: str | None, headers: dict | None = None) -> None:
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


def _not_after(mtime: float, ims: str) -> bool:
    try:
        return int(mtime) <= parsedate_to_datetime(ims).timestamp()
    except (TypeError, ValueError):
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()

    def handle_error(self, request, client_address) -> None:  # clients closing keep-alive sockets
        pass


def _serve(site: str, extra: str, port: int, ready) -> None:
    srv = _Server(("127.0.0.1", port), _Handler)
    srv.site, srv.extra = Path(site), Path(extra)  # type: ignore[attr-defined]
    ready.set()
    srv.serve_forever()


class RealSite:
    """`with RealSite(site_root, packages) as s:` serves the site at `s.base` in `procs` processes."""

    def __init__(self, site: Path, packages: list[str], procs: int = 2) -> None:
        self.site, self.packages, self.procs = Path(site), packages, procs
        self.html_pages = sum(1 for pkg in packages for _ in (self.site / pkg).resolve().rglob("*.html"))

    def __enter__(self) -> Self:
        probe = socket.socket()
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self._tmp = tempfile.TemporaryDirectory()
        self.sitemap_urls = build_sitemaps(self.site, self.packages, Path(self._tmp.name), self.base)
        ctx = mp.get_context("spawn")
        self._procs = []
        for _ in range(self.procs):
            ready = ctx.Event()
            p = ctx.Process(target=_serve, args=(str(self.site), self._tmp.name, port, ready), daemon=True)
            p.start()
            ready.wait(30)
            self._procs.append(p)
        probe.close()
        return self

    def __exit__(self, *exc) -> None:
        for p in self._procs:
            p.terminate()
        for p in self._procs:
            p.join(5)
        self._tmp.cleanup()
