"""Serve the bundled sample website on 127.0.0.1 so the demo and the tests crawl a real HTTP site.

Why a local server rather than fixture files: the crawler's job includes HTTP concerns that a
directory of files cannot exercise - status codes, redirects, robots.txt, Content-Type headers
that lie about the charset, non-HTML responses. `SampleSite` serves a directory and lets a small
YAML map (`_headers.yaml` at the site root) override the status and headers per URL path, so
those cases are planted deliberately and reproducibly (see sample/README.md for the page list).

Design points:
- Binds 127.0.0.1 only, on port 0 by default so the OS picks a free port: parallel tests and a
  running demo never collide, and nothing is reachable from outside the machine.
- `ThreadingHTTPServer` in a daemon thread: a crawler with several connections is served
  concurrently, and a forgotten server never keeps the interpreter alive.
- Quiet by default: `http.server` logs every request to stderr, which would drown test output.
- Paths are confined to the root. `..` segments, encoded or not, and anything that resolves
  outside the root (symlinks included) get 404 rather than 403, to reveal nothing. Path segments
  starting with "_" (the `_headers.yaml` config, `_src/`, `_tools/`) are private: 404.
- Plain Python, no Dagster: the Dagster resource that wraps it lives elsewhere.

Run it by hand with `python -m sample.server [--root DIR] [--port N]`.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import mimetypes
import os
import signal
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

__all__ = ["ENV_VAR", "HEADERS_FILE", "SampleSite", "default_site_root", "load_headers_map"]

ENV_VAR = "GOLDPAN_SAMPLE_SITE"
HEADERS_FILE = "_headers.yaml"

_NOT_FOUND_BODY = (
    b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title></head>'
    b"<body><h1>Not Found</h1><p>The requested page does not exist on this server.</p></body></html>\n"
)

# Extensions whose guessed type should not depend on the host's mimetypes database.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".css": "text/css",
    ".js": "text/javascript",
    ".pdf": "application/pdf",
    ".xml": "application/xml",
    ".json": "application/json",
}


def default_site_root() -> Path:
    """The directory to serve when none is given.

    `$GOLDPAN_SAMPLE_SITE` wins, so a deployment or a test can point at another copy; otherwise
    the repo's `sample/site`, found relative to this file (the package is imported from a
    checkout or an editable install, and the site is not package data).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent / "site"


def load_headers_map(root: Path) -> dict[str, dict[str, Any]]:
    """Read `<root>/_headers.yaml`: URL path -> {header: value, ..., optional status: int}.

    A missing file means no overrides. Keys must be absolute URL paths; values are coerced to
    strings except `status`, which must be an int. Invalid entries raise ValueError at start-up
    rather than surfacing later as a confusing crawl result.
    """
    path = Path(root) / HEADERS_FILE
    if not path.is_file():
        return {}
    import yaml  # a project dependency; imported here so the module itself loads without it

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of URL path -> headers")  # noqa: TRY004
    out: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key.startswith("/"):
            raise ValueError(f"{path}: key {key!r} must be a URL path starting with '/'")
        if not isinstance(value, dict):
            raise ValueError(f"{path}: value for {key!r} must be a mapping")  # noqa: TRY004
        entry: dict[str, Any] = {}
        for name, v in value.items():
            if str(name).lower() == "status":
                if not isinstance(v, int) or not 100 <= v <= 599:
                    raise ValueError(f"{path}: status for {key!r} must be an int HTTP status")
                entry["status"] = v
            else:
                entry[str(name)] = str(v)
        out[key] = entry
    return out


def guess_type(path: Path) -> str:
    """Content-Type from the extension; HTML deliberately carries no charset (see module doc)."""
    ext = path.suffix.lower()
    if ext in _TYPES:
        return _TYPES[ext]
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class _Handler(BaseHTTPRequestHandler):
    """Serves files under `server.site_root`, applying `server.headers_map` overrides."""

    server_version = "goldpan-sample-site/1.0"
    sys_version = ""
    # HTTP/1.0: one request per connection. Simple to shut down cleanly, and every response
    # carries Content-Length anyway.
    protocol_version = "HTTP/1.0"

    # -- request entry points -------------------------------------------------------------

    def do_GET(self) -> None:  # http.server's naming
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    # -- core -----------------------------------------------------------------------------

    def _serve(self, send_body: bool) -> None:
        url_path = urlsplit(self.path).path or "/"
        with self.server.hits_lock:  # type: ignore[attr-defined]
            self.server.hits[url_path] += 1  # type: ignore[attr-defined]
            self.server.access_log.append(self.path)  # type: ignore[attr-defined]
        override = self.server.headers_map.get(url_path, {})  # type: ignore[attr-defined]
        status = override.get("status")

        # A 3xx (or any override whose path has no file) is answered from the map alone.
        if status is not None and 300 <= status < 400:
            self._respond(status, b"", override, "text/html", send_body)
            return

        file_path = self._resolve(url_path)
        if file_path is None:
            if status is not None:  # e.g. a planted 410 or 503 with no page behind it
                self._respond(status, b"", override, "text/html", send_body)
            else:
                self._respond(404, _NOT_FOUND_BODY, {}, "text/html; charset=utf-8", send_body)
            return
        if file_path.is_dir():
            if not url_path.endswith("/"):
                # Like every static server: /en -> /en/ so relative links resolve correctly.
                self._respond(301, b"", {"Location": url_path + "/"}, "text/html", send_body)
                return
            file_path = file_path / "index.html"
            if not file_path.is_file():
                self._respond(404, _NOT_FOUND_BODY, {}, "text/html; charset=utf-8", send_body)
                return
        try:
            body = file_path.read_bytes()
            mtime = file_path.stat().st_mtime
        except OSError:
            self._respond(404, _NOT_FOUND_BODY, {}, "text/html; charset=utf-8", send_body)
            return
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        extra = {"Last-Modified": email.utils.formatdate(mtime, usegmt=True), "ETag": etag}
        extra.update(override)
        if status is None and self._not_modified(etag, mtime):
            # Conditional GET (RFC 9110 13.1): the validators match, so no body is sent.
            # Like nginx's add_header, the path's extra headers (e.g. tdm-reservation) go out on a 304 too.
            kept = {k: v for k, v in extra.items() if k in ("ETag", "Last-Modified")
                    or (k in override and k.lower() not in ("content-type", "status"))}
            self._respond(304, b"", kept, guess_type(file_path), send_body=False)
            return
        self._respond(status or 200, body, extra, guess_type(file_path), send_body)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # If-None-Match wins over If-Modified-Since when both are sent
            return inm.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(mtime) <= since
        return False

    def _resolve(self, url_path: str) -> Path | None:
        """Map a URL path to a file under the root, or None if it must not be served."""
        root: Path = self.server.site_root  # type: ignore[attr-defined]
        try:
            decoded = unquote(url_path, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in decoded or "\\" in decoded:
            return None
        parts = [p for p in decoded.split("/") if p not in ("", ".")]
        if any(p == ".." or p.startswith("_") or (p.startswith(".") and (i, p) != (0, ".well-known"))
               for i, p in enumerate(parts)):
            return None  # /.well-known/ (RFC 8615, e.g. TDMRep's tdmrep.json) is the one public dot-folder
        candidate = root.joinpath(*parts) if parts else root
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):
            return None
        if resolved != root and root not in resolved.parents:
            return None  # e.g. a symlink pointing outside the root
        if not resolved.exists():
            return None
        return resolved

    def _respond(
        self, status: int, body: bytes, headers: dict[str, Any], default_type: str, send_body: bool
    ) -> None:
        self.send_response(status)
        names = {n.lower() for n in headers}
        for name, value in headers.items():
            if name == "status" or name.lower() == "content-length":
                continue  # status is not a header; the length is always computed from the body
            self.send_header(name, str(value))
        if "content-type" not in names:
            self.send_header("Content-Type", default_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


class SampleSite:
    """A context manager serving `root` on http://127.0.0.1:<port>.

    >>> with SampleSite() as site:            # doctest: +SKIP
    ...     urllib.request.urlopen(site.url("/robots.txt")).read()

    `port=0` (the default) lets the OS choose a free port; read it back from `port` or
    `base_url` after `start()`. `_headers.yaml` is read at `start()`, so edits apply on restart.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, port: int = 0, verbose: bool = False):
        self.root = Path(root).expanduser().resolve() if root is not None else default_site_root()
        self.requested_port = port
        self.verbose = verbose
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Requests per URL path (responses of every kind), so tests can assert what was NOT fetched,
        # and the access log: every request target as sent (path and query), in order.
        self.hits: Counter[str] = Counter()
        self.access_log: list[str] = []

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread. Idempotent; returns self for chaining."""
        if self._server is not None:
            return self
        if not self.root.is_dir():
            raise FileNotFoundError(f"sample site root is not a directory: {self.root}")
        headers_map = load_headers_map(self.root)
        server = ThreadingHTTPServer(("127.0.0.1", self.requested_port), _Handler)
        server.daemon_threads = True
        server.site_root = self.root  # type: ignore[attr-defined]
        server.headers_map = headers_map  # type: ignore[attr-defined]
        server.verbose = self.verbose  # type: ignore[attr-defined]
        server.hits = self.hits  # type: ignore[attr-defined]
        server.access_log = self.access_log  # type: ignore[attr-defined]
        server.hits_lock = threading.Lock()  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="goldpan-sample-site",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def reload_headers(self) -> None:
        """Re-read `_headers.yaml` while serving (same port): a site whose headers change between crawls."""
        if self._server is not None:
            self._server.headers_map = load_headers_map(self.root)  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop serving and release the port. Safe to call twice or before start()."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SampleSite is not running; call start() first")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """e.g. 'http://127.0.0.1:43123' (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL for a site path: site.url('/en/') -> 'http://127.0.0.1:43123/en/'.

        The path is used verbatim (no normalisation), so tests can send odd paths on purpose.
        """
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"SampleSite(root={str(self.root)!r}, {where})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sample.server",
        description="Serve the goldpan sample site on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument(
        "--root", default=None, help=f"directory to serve (default: ${ENV_VAR} or sample/site)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: 0, a free port)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    # A parent that ignores SIGINT (a shell's background job, pytest-xdist's workers) passes that on,
    # and Python then installs no KeyboardInterrupt handler: Ctrl-C / SIGINT must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    site = SampleSite(args.root, port=args.port, verbose=args.verbose).start()
    print(f"Serving {site.root} at {site.base_url}/ (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
