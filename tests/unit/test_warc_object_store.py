"""WARC files read straight from a bucket: moto's S3 server on 127.0.0.1, reached through the same
deltalake-style storage options the lake uses (mapped onto pyarrow's S3 filesystem)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from goldpan.warc.importer import WarcImportConfig, WarcStats, rows_from_file
from goldpan.warc.sources import expand_sources

pytest.importorskip("moto.server", reason="moto[server] (dev extra) provides the local S3 server")
boto3 = pytest.importorskip("boto3")
SAMPLE = Path(__file__).resolve().parents[2] / "sample" / "warc" / "eskerford-sample.warc.gz"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bucket(monkeypatch):
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("the local S3 server did not start")
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="crawls")
    for name in ("CC-MAIN-1.warc.gz", "CC-MAIN-2.warc.gz"):
        s3.upload_file(str(SAMPLE), "crawls", f"segments/{name}")
    s3.put_object(Bucket="crawls", Key="segments/readme.txt", Body=b"not a warc")
    opts = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}  # fmt: skip
    try:
        yield opts
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_warc_glob_and_stream_from_a_bucket(bucket):
    uris = expand_sources(["s3://crawls/segments/*.warc.gz"], bucket)
    assert uris == ["s3://crawls/segments/CC-MAIN-1.warc.gz", "s3://crawls/segments/CC-MAIN-2.warc.gz"]
    stats = WarcStats()
    rows = list(rows_from_file(uris[0], "b-s3", WarcImportConfig(storage_options=bucket), stats))
    kept = [r for r in rows if r["status"] == "kept"]
    assert len(kept) >= 30 and not [r for r in rows if r["status"] == "error"]
    assert stats.bytes_read == SAMPLE.stat().st_size
    assert all('"x-warc-file": "s3://crawls/segments/CC-MAIN-1.warc.gz"' in r["headers_json"] for r in rows)
