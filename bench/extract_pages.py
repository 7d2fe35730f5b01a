"""Real pages for the extract benchmarks, packed into a WARC once and cached under bench/data.

Sources (all offline): Python 3.11's HTML documentation from Debian's python3.11-doc package
(`apt-get download python3.11-doc` + `dpkg -x`, no root needed; done here when missing), the Rust
book and a deterministic slice of rustdoc's std pages from ~/.rustup when present, and the bundled
sample site (English and Chinese news-style articles, GBK and Big5 pages, navigation pages).
"""

from __future__ import annotations

import glob
import subprocess
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
WARC = DATA / "extract_pages.warc.gz"
PYDOC = DATA / "pydoc" / "usr" / "share" / "doc" / "python3.11" / "html"


def ensure_pydoc() -> Path | None:
    if PYDOC.is_dir():
        return PYDOC
    DATA.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", "python3.11-doc"], cwd=DATA, check=True, capture_output=True)
        deb = max(DATA.glob("python3.11-doc_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(DATA / "pydoc")], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None
    return PYDOC if PYDOC.is_dir() else None


def source_files() -> list[tuple[str, Path, str | None, str]]:
    """(url, file, declared charset, kind) of every benchmark page, in a fixed order."""
    out: list[tuple[str, Path, str | None, str]] = []
    pydoc = ensure_pydoc()
    if pydoc:
        for p in sorted(pydoc.rglob("*.html")):
            rel = p.relative_to(pydoc).as_posix()
            if rel.startswith(("_", "genindex")):
                continue
            out.append((f"https://docs.python.org/3.11/{rel}", p, "utf-8", "pydoc"))
    for tc in sorted(glob.glob(str(Path.home() / ".rustup/toolchains/stable-*/share/doc/rust/html")))[:1]:
        base = Path(tc)
        book = [p for p in sorted((base / "book").rglob("*.html")) if p.name not in ("print.html", "toc.html")]
        std = sorted((base / "std").rglob("*.html"))[::12]
        for p in book[:200]:
            out.append((f"https://doc.rust-lang.org/{p.relative_to(base).as_posix()}", p, "utf-8", "rust-book"))
        for p in std[:200]:
            out.append((f"https://doc.rust-lang.org/{p.relative_to(base).as_posix()}", p, "utf-8", "rustdoc"))
    from sample.server import default_site_root, load_headers_map

    site = default_site_root()
    headers = load_headers_map(site)
    for p in sorted(site.rglob("*.html")):
        rel = p.relative_to(site)
        if any(part.startswith("_") for part in rel.parts):
            continue
        ctype = str(headers.get("/" + rel.as_posix(), {}).get("Content-Type", "text/html"))
        charset = ctype.split("charset=")[1].strip() if "charset=" in ctype else None
        out.append((f"http://sample.example/{rel.as_posix()}", p, charset, "sample"))
    return out


def build_warc(path: Path = WARC) -> Path:
    """Write every page as a WARC response record (HTTP headers included), once."""
    if path.exists():
        return path
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, file, charset, kind in source_files():
            body = file.read_bytes()
            ctype = "text/html" + (f"; charset={charset}" if charset else "")
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype), ("X-Bench-Kind", kind)], protocol="HTTP/1.1")
            rec = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http)
            writer.write_record(rec)
    tmp.rename(path)
    return path


def read_pages(path: Path = WARC, batch_id: str = "bench") -> list[dict]:
    """`pages`-shaped rows from the WARC (fastwarc), as the WARC ingest would produce them."""
    from urllib.parse import urlsplit

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    pages = []
    for i, rec in enumerate(ArchiveIterator(str(path), record_types=WarcRecordType.response, parse_http=True)):
        url = rec.headers.get("WARC-Target-URI")
        ctype = rec.http_headers.get("Content-Type") or ""
        charset = ctype.split("charset=")[1].strip() if "charset=" in ctype else None
        pages.append(
            {
                "page_id": f"w{i:05d}",
                "batch_id": batch_id,
                "url": url,
                "host": urlsplit(url).hostname,
                "fetched_at": None,
                "content": rec.reader.read(),
                "content_type": ctype.split(";")[0],
                "charset_declared": charset,
                "source": "warc",
                "kind": rec.http_headers.get("X-Bench-Kind"),
            }
        )
    return pages
