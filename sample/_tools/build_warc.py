"""Build sample/warc/: the sample site as a Common Crawl-style WARC and WET pair, deterministically.

    .venv/bin/python sample/_tools/build_warc.py   # rewrites sample/warc/eskerford-sample.warc{,.wet}.gz

The site is crawled for real (SampleSite on 127.0.0.1, goldpan's crawler, no frontier), then
written with warcio: a `warcinfo` record, and per URL that got an HTTP answer (200s, 404s, the
PDF) a `request` and a `response` record, one gzip member per record as Common Crawl does. The
WET file holds one `conversion` record (plain text, resiliparse) per kept HTML page.
Determinism: URLs are rewritten to the demo's base http://127.0.0.1:8765, the WARC-Date is
fixed, record ids are uuid5 of the URL, volatile HTTP headers (Date, Last-Modified, ETag,
Server) are dropped and gzip members carry no timestamp -- so a rebuild is byte-identical unless
the site changed.
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BASE = "http://127.0.0.1:8765"
DATE = "2026-01-01T00:00:00Z"
OUT = ROOT / "sample" / "warc"
STEM = "eskerford-sample"
KEEP_HEADERS = ("content-type", "location")


def _rid(kind: str, url: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, kind + ':' + url)}>"


def crawl_rows() -> list[dict]:
    from goldpan.crawl.crawler import BatchCrawler
    from goldpan.recipe import CrawlSection
    from sample.server import SampleSite

    with SampleSite() as site:
        cfg = CrawlSection.model_validate({"seeds": [site.url("/")], "allowed_hosts": ["127.0.0.1"],
                                     "allow_private": ["127.0.0.1"], "max_depth": 4, "max_pages": 300,
                                     "per_host_delay_s": 0.0, "concurrency": 1})  # fmt: skip
        rows = [r for r in BatchCrawler(cfg, "build-warc", "crawl:sample").run() if r["http_status"] is not None]
        for r in rows:
            r["url"] = BASE + r["url"].removeprefix(site.base_url)
    return sorted(rows, key=lambda r: r["url"])


def _stamp(rec, kind: str, url: str) -> None:
    rec.rec_headers.replace_header("WARC-Date", DATE)
    rec.rec_headers.replace_header("WARC-Record-ID", _rid(kind, url))


def build(out_dir: Path = OUT) -> tuple[Path, Path]:
    from resiliparse.extract.html2text import extract_plain_text
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from goldpan.crawl.links import _parse  # the crawler's charset-aware parse

    out_dir.mkdir(parents=True, exist_ok=True)
    warc_path, wet_path = out_dir / f"{STEM}.warc.gz", out_dir / f"{STEM}.warc.wet.gz"
    rows = crawl_rows()
    warc, wet = io.BytesIO(), io.BytesIO()
    ww, tw = WARCWriter(warc, gzip=True), WARCWriter(wet, gzip=True)
    info = {"software": "goldpan sample/_tools/build_warc.py", "format": "WARC File Format 1.1",
            "description": "The goldpan sample site (Eskerford Notebook) for the WARC import demo and tests"}  # fmt: skip
    for writer, name in ((ww, warc_path.name), (tw, wet_path.name)):
        rec = writer.create_warcinfo_record(name, info)
        _stamp(rec, "warcinfo", name)
        writer.write_record(rec)
    for r in rows:
        headers = json.loads(r["headers_json"] or "{}")
        http = [(k.title(), v) for k, v in sorted(headers.items()) if k in KEEP_HEADERS]
        body = r["content"] or b""
        status = f"{r['http_status']} {'OK' if r['http_status'] == 200 else 'Status'}"
        path = r["url"].removeprefix(BASE) or "/"
        req_headers = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", "127.0.0.1:8765"), ("User-Agent", "goldpan/0.1")],
                                       is_http_request=True)  # fmt: skip
        req = ww.create_warc_record(r["url"], "request", payload=io.BytesIO(b""), http_headers=req_headers)
        resp = ww.create_warc_record(r["url"], "response", payload=io.BytesIO(body),
                                     http_headers=StatusAndHeaders(status, http, protocol="HTTP/1.1"))  # fmt: skip
        _stamp(req, "request", r["url"])
        _stamp(resp, "response", r["url"])
        req.rec_headers.add_header("WARC-Concurrent-To", _rid("response", r["url"]))
        ww.write_record(req)
        ww.write_record(resp)
        if r["status"] == "kept" and r["content_type"] == "text/html":
            text = extract_plain_text(_parse(body, r["charset_declared"]), main_content=False).strip()
            if text:
                conv = tw.create_warc_record(r["url"], "conversion", payload=io.BytesIO(text.encode("utf-8")),
                                             warc_content_type="text/plain")  # fmt: skip
                _stamp(conv, "conversion", r["url"])
                conv.rec_headers.add_header("WARC-Refers-To", _rid("response", r["url"]))
                tw.write_record(conv)
    warc_path.write_bytes(warc.getvalue())
    wet_path.write_bytes(wet.getvalue())
    return warc_path, wet_path


if __name__ == "__main__":
    for p in build():
        print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size} bytes)")
