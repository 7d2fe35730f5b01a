"""WARC files read straight from a bucket: moto's S3 server on 127.0.0.1, reached through the same
deltalake-style storage options the lake uses (mapped onto pyarrow's S3 filesystem)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldpan.recipe import WarcSection
from goldpan.warc.importer import WarcStats, rows_from_file
from goldpan.warc.sources import expand_sources

SAMPLE = Path(__file__).resolve().parents[2] / "sample" / "warc" / "eskerford-sample.warc.gz"


@pytest.fixture
def bucket(local_s3):
    _, s3, opts = local_s3
    s3.create_bucket(Bucket="crawls")
    for name in ("CC-MAIN-1.warc.gz", "CC-MAIN-2.warc.gz"):
        s3.upload_file(str(SAMPLE), "crawls", f"segments/{name}")
    s3.put_object(Bucket="crawls", Key="segments/readme.txt", Body=b"not a warc")
    return opts


def test_warc_glob_and_stream_from_a_bucket(bucket):
    uris = expand_sources(["s3://crawls/segments/*.warc.gz"], bucket)
    assert uris == ["s3://crawls/segments/CC-MAIN-1.warc.gz", "s3://crawls/segments/CC-MAIN-2.warc.gz"]
    stats = WarcStats()
    rows = list(rows_from_file(uris[0], "b-s3", WarcSection(storage_options=bucket), stats))
    kept = [r for r in rows if r["status"] == "kept"]
    assert len(kept) >= 30 and not [r for r in rows if r["status"] == "error"]
    assert stats.bytes_read == SAMPLE.stat().st_size
    assert all('"x-warc-file": "s3://crawls/segments/CC-MAIN-1.warc.gz"' in r["headers_json"] for r in rows)
