"""Every file of warcio's public test set (a copy in ../shared/data/warc-fixtures, skipped when
absent) imports as warcio reads it: the same pages with the same decoded bodies (no chunk markers,
Content-Encoding undone), revisits resolved, non-page records counted, never `invalid_url`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from goldpan.recipe import WarcSection
from goldpan.warc.conformance import warcio_reading
from goldpan.warc.importer import WarcStats, rows_from_file

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "warc-fixtures"
FILES = sorted(p for p in FIXTURES.glob("*") if p.is_file() and p.name != "README.md") if FIXTURES.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason="../shared/data/warc-fixtures is not here")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_fixture_imports_as_warcio_reads_it(path):
    stats = WarcStats()
    rows = list(rows_from_file(str(path), "b-fixture", WarcSection(), stats))
    ref = warcio_reading(path)
    kept = Counter((r["url"], r["content"]) for r in rows if r["status"] == "kept")
    assert kept == Counter(ref.pages)
    for r in rows:
        assert r["reason"] not in ("invalid_url", "scheme_not_allowed"), r["url"]
        if r["status"] == "kept":
            assert b"\r\n0\r\n\r\n" not in r["content"] and not r["content"].startswith(b"\x1f\x8b")
    errors = [r for r in rows if r["status"] == "error"]
    if not errors:  # every record read: the same records, type by type
        assert stats.record_types == ref.types
    for e in errors:
        assert e["reason"].split(":")[0] in ("digest_mismatch", "malformed_record", "malformed_http")


def test_every_fixture_file_gives_pages_or_says_why():
    """Across the set: the chunked, wget, ARC and gzip-layout files all give their page."""
    pages = {}
    for path in FILES:
        stats = WarcStats()
        pages[path.name] = sum(r["status"] == "kept" for r in rows_from_file(str(path), "b", WarcSection(), stats))
    for name in ("example-iana.org-chunked.warc", "example-wget-bad-target-uri.warc.gz", "example.arc",
                 "example.arc.gz", "example-space-in-url.arc", "example-bad-non-chunked.warc.gz",
                 "example-wrong-chunks.warc.gz", "example-resource.warc.gz"):  # fmt: skip
        if name in pages:
            assert pages[name] >= 1, name
