"""WARC/ARC/WACZ files as different producers write them, built here byte by byte with the quirks
of warcio's public test files (../shared/data/warc-fixtures): wget's bracketed target URIs and its
metadata/resource records, chunked bodies stored as sent, bodies that claim chunking and are not,
ARC 1 files (spaces in URLs, LF-only HTTP heads, a damaged length), WACZ zips, whole-file gzip,
records split across gzip members, and revisits of an earlier capture."""

from __future__ import annotations

import gzip
import json
import zipfile
import zlib
from pathlib import Path

import brotli
import pytest

from goldpan.lake import Lake
from goldpan.recipe import WarcSection
from goldpan.warc.importer import WarcStats, import_warc_batch, rows_from_file
from tests.fixtures.warc_records import EN, HTML, ZH
from tests.fixtures.warc_records import gz_members as _gz_members
from tests.fixtures.warc_records import warc_digest as _sha1
from tests.fixtures.warc_records import warc_record as _record
from tests.fixtures.warc_records import warc_response as _response
from tests.fixtures.warc_records import warc_revisit as _revisit


def _rows(path: Path, **cfg) -> tuple[list[dict], WarcStats]:
    stats = WarcStats()
    rows = list(rows_from_file(str(path), "b-prod", WarcSection(**cfg), stats))
    return rows, stats


def _headers(row: dict) -> dict:
    return json.loads(row["headers_json"])


def wget_warc() -> bytes:
    """What `wget --warc-file` writes (1.14 .. 1.21): bracketed target URIs, a request, the
    response, a metadata record (its manifest) and two resource records (arguments and log)."""
    info = b"software: Wget/1.19.4 (linux-gnu)\r\nformat: WARC File Format 1.0\r\n"
    request = b"GET /ferry.html HTTP/1.1\r\nHost: harbour.example\r\n\r\n"
    log = "Opening WARC file ‘harbour.warc.gz’.\n--2018-02-09 15:40:04--  http://harbour.example/ferry.html\n".encode()
    return _gz_members([
        _record("warcinfo", None, info, rid="00000000-0000-0000-0000-000000000001", ctype="application/warc-fields"),
        _record("request", "<http://harbour.example/ferry.html>", request, rid="00000000-0000-0000-0000-000000000002",
                ctype="application/http;msgtype=request"),
        _response("<http://harbour.example/ferry.html>", HTML, "00000000-0000-0000-0000-000000000003"),
        _record("metadata", "<metadata://gnu.org/software/wget/warc/MANIFEST.txt>",
                b"<urn:uuid:00000000-0000-0000-0000-000000000001>\n", rid="00000000-0000-0000-0000-000000000004",
                ctype="text/plain"),
        _record("resource", "<metadata://gnu.org/software/wget/warc/wget_arguments.txt>",
                b'"--warc-file=harbour" "http://harbour.example/ferry.html"\n',
                rid="00000000-0000-0000-0000-000000000005", ctype="text/plain"),
        _record("resource", "<metadata://gnu.org/software/wget/warc/wget.log>", log,
                rid="00000000-0000-0000-0000-000000000006", ctype="text/plain"),
    ])  # fmt: skip


def test_wget_bracketed_target_uri_imports_as_a_page_and_its_other_records_are_counted(tmp_path):
    path = tmp_path / "harbour.warc.gz"
    path.write_bytes(wget_warc())
    rows, stats = _rows(path)
    assert [(r["status"], r["url"]) for r in rows] == [("kept", "http://harbour.example/ferry.html")]
    assert rows[0]["content"] == HTML
    assert _headers(rows[0])["x-warc-target-uri"] == "<http://harbour.example/ferry.html>"  # as wget wrote it
    # request, metadata and wget's own resource records: counted by type, not rejected pages
    assert stats.record_types == {"warcinfo": 1, "request": 1, "response": 1, "metadata": 1, "resource": 2}
    assert stats.skipped_types == {"warcinfo": 1, "request": 1, "metadata": 1, "resource:metadata": 2}


def test_unsafe_characters_in_target_uris_are_percent_encoded(tmp_path):
    path = tmp_path / "spaces.warc"
    path.write_bytes(_response("http://harbour.example/index.cfm?Title=Ferry Times&Day=Mon", HTML, "s-1")
                     + _response(" <http://harbour.example/渡船 时刻.html> ", HTML, "s-2"))  # fmt: skip
    rows, _ = _rows(path)
    assert [r["url"] for r in rows] == [
        "http://harbour.example/index.cfm?Title=Ferry%20Times&Day=Mon",
        "http://harbour.example/%E6%B8%A1%E8%88%B9%20%E6%97%B6%E5%88%BB.html"]  # fmt: skip
    assert _headers(rows[1])["x-warc-target-uri"] == " <http://harbour.example/渡船 时刻.html> ".strip()


def _chunk(body: bytes, sizes: list[int]) -> bytes:
    out, pos = b"", 0
    for n in sizes:
        out += f"{n:x}\r\n".encode() + body[pos : pos + n] + b"\r\n"
        pos += n
    rest = body[pos:]
    if rest:
        out += f"{len(rest):06x};ext=1\r\n".encode() + rest + b"\r\n"  # zero-padded, with an extension
    return out + b"0\r\n\r\n"


def test_chunked_bodies_give_clean_text_also_when_gzip_or_brotli_encoded(tmp_path):
    te = [("Transfer-Encoding", "chunked")]
    path = tmp_path / "chunked.warc"
    path.write_bytes(
        _response("http://harbour.example/plain", _chunk(HTML, [100, 7]), "c-1", te)
        + _response("http://harbour.example/gz", _chunk(gzip.compress(HTML), [50]), "c-2",
                    [*te, ("Content-Encoding", "gzip")])
        + _response("http://harbour.example/br", brotli.compress(HTML), "c-3", [("Content-Encoding", "br")])
        + _response("http://harbour.example/deflate", _chunk(zlib.compress(HTML), [9]), "c-4",
                    [*te, ("Content-Encoding", "deflate")]))  # fmt: skip
    rows, stats = _rows(path)
    assert [r["status"] for r in rows] == ["kept"] * 4
    for r in rows:
        assert r["content"] == HTML, r["url"]
        assert ZH in r["content"].decode() and b"\r\n0\r\n" not in r["content"]
    assert [_headers(r)["x-warc-decoded"] for r in rows] == ["chunked", "chunked,gzip", "br", "chunked,deflate"]
    assert stats.decoded == {"chunked": 3, "gzip": 1, "br": 1, "deflate": 1} and not stats.flags


def test_invalid_chunking_keeps_the_raw_body_and_flags_it(tmp_path):
    te = [("Transfer-Encoding", "chunked")]
    broken = b"40\r\n" + HTML[:64] + b"\r\nzz-not-a-size\r\n" + HTML[64:]
    path = tmp_path / "bad-chunks.warc"
    # 1: the archiver de-chunked the body but kept the header; 2: the framing breaks half way
    path.write_bytes(_response("http://harbour.example/a", HTML, "i-1", te)
                     + _response("http://harbour.example/b", broken, "i-2", te))  # fmt: skip
    rows, stats = _rows(path)
    assert [(r["status"], r["content"]) for r in rows] == [("kept", HTML), ("kept", broken)]
    assert [_headers(r)["x-warc-flags"] for r in rows] == ["not_chunked", "invalid_chunking"]
    assert "x-warc-decoded" not in _headers(rows[0])
    assert stats.flags == {"not_chunked": 1, "invalid_chunking": 1}


def _arc(records: list[tuple[str, bytes]], gz: bool) -> bytes:
    """An ARC v1 file (as Alexa / early Heritrix wrote them): filedesc, then one header line and
    block per record; HTTP heads end lines with a bare LF."""
    desc = b"1 0 Harbour Archive\nURL IP-address Archive-date Content-type Archive-length\n"
    parts = [b"filedesc://harbour.arc 0.0.0.0 20050614070159 text/plain %d\n" % len(desc) + desc + b"\n"]
    for url, block in records:
        parts.append(f"{url} 93.184.216.119 20050614070144 text/html ".encode() + str(len(block)).encode() + b"\n"
                     + block + b"\n")  # fmt: skip
    return b"".join(gzip.compress(p, mtime=0) for p in parts) if gz else b"".join(parts)


@pytest.mark.parametrize("gz", [False, True])
def test_arc_records_import_as_pages_and_a_damaged_one_is_an_error_row(tmp_path, gz):
    http = b"HTTP/1.0 200 OK\nContent-Type: text/html\nContent-Length: %d\n\n" % len(HTML) + HTML
    not_found = b"HTTP/1.0 404 Not Found\nContent-Type: text/html\n\nGone"
    data = _arc([("http://harbour.example/timetable.cfm?Title=Ferry Times", http),
                 ("http://harbour.example/old", not_found),
                 ("http://harbour.example/zh.html", http.replace(EN.encode(), b"x"))], gz)  # fmt: skip
    if gz:
        path = tmp_path / "harbour.arc.gz"
    else:  # a record whose length field is not a number, between two good ones
        data = data.replace(b"text/html %d\nHTTP/1.0 404" % len(not_found), b"text/html abc\nHTTP/1.0 404")
        path = tmp_path / "harbour.arc"
    path.write_bytes(data)
    rows, stats = _rows(path)
    got = [(r["status"], r["reason"], r["url"]) for r in rows]
    assert got[0] == ("kept", None, "http://harbour.example/timetable.cfm?Title=Ferry%20Times")
    assert got[-1] == ("kept", None, "http://harbour.example/zh.html")
    if gz:
        assert got[1] == ("rejected", "http_404", "http://harbour.example/old")
    else:
        assert got[1][:2] == ("error", "malformed_record:arc_length:abc")
        assert _headers(rows[1])["x-warc-offset"] == str(data.index(b"http://harbour.example/old"))
    assert rows[0]["content"] == HTML and ZH in rows[2]["content"].decode()
    assert rows[0]["fetched_at"].isoformat() == "2005-06-14T07:01:44+00:00"
    assert _headers(rows[0])["content-type"] == "text/html"  # the LF-only HTTP head was read
    assert stats.formats == {"arc.gz" if gz else "arc": 1} and stats.record_types["warcinfo"] == 1


def test_a_revisit_resolves_to_its_original_in_the_same_file_and_across_files(tmp_path):
    other = HTML.replace(b"Ferry", b"Tide")
    first = tmp_path / "a.warc.gz"
    first.write_bytes(_gz_members([
        _revisit("http://harbour.example/mirror", other, "r-0", "o-2"),  # before its original (next file)
        _response("http://harbour.example/ferry", HTML, "o-1"),
        _revisit("http://harbour.example/ferry?day=2", HTML, "r-1", "o-1"),
        _revisit("http://harbour.example/lost", b"never captured", "r-9", "o-9")]))  # fmt: skip
    second = tmp_path / "b.warc.gz"
    second.write_bytes(_gz_members([_response("http://harbour.example/tide", other, "o-2")]))

    rows, stats = _rows(first)  # one file alone: the original of r-0 is not in it
    by_url = {r["url"].rsplit("/", 1)[-1]: r for r in rows}
    assert (by_url["ferry?day=2"]["status"], by_url["ferry?day=2"]["content"]) == ("kept", HTML)
    link = _headers(by_url["ferry?day=2"])
    assert link["x-warc-refers-to-record-id"] == "<urn:uuid:o-1>"
    assert link["x-warc-refers-to-page-id"] == by_url["ferry"]["page_id"]
    assert link["x-warc-refers-to-url"] == "http://harbour.example/ferry"
    assert by_url["ferry?day=2"]["fetched_at"] == by_url["ferry"]["fetched_at"]  # same date in this fixture
    assert [by_url[k]["reason"] for k in ("mirror", "lost")] == ["warc_revisit", "warc_revisit"]
    assert (stats.revisits_resolved, stats.revisits_unresolved) == (1, 2)

    lake = Lake(tmp_path / "lake")  # both files in one import: the revisit finds its original in b.warc.gz
    stats = import_warc_batch(lake, [str(first), str(second)], "b-rev", WarcSection())
    with lake.connect() as con:
        got = dict(con.sql("SELECT url, status FROM pages").fetchall())
        mirror = con.sql("SELECT content, headers_json FROM pages WHERE url LIKE '%mirror'").fetchall()[0]
    assert got["http://harbour.example/mirror"] == "kept" and got["http://harbour.example/lost"] == "rejected"
    assert mirror[0] == other and json.loads(mirror[1])["x-warc-refers-to-url"] == "http://harbour.example/tide"
    assert (stats.revisits_resolved, stats.revisits_unresolved, stats.rows) == (2, 1, 5)


def test_wacz_is_read_without_unpacking(tmp_path):
    warc = _gz_members([_response("http://harbour.example/ferry", HTML, "w-1"),
                        _revisit("http://harbour.example/ferry#again", HTML, "w-2", "w-1")])  # fmt: skip
    path = tmp_path / "harbour.wacz"
    with zipfile.ZipFile(path, "w") as zf:  # Browsertrix layout; WARCs stored, indexes deflated
        zf.writestr("archive/data.warc.gz", warc, compress_type=zipfile.ZIP_STORED)
        zf.writestr("archive/wget.warc.gz", wget_warc(), compress_type=zipfile.ZIP_STORED)
        zf.writestr("indexes/index.cdx", "example.com)/ 20180209154004 {}\n", compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("pages/pages.jsonl", '{"format": "json-pages-1.0"}\n')
        zf.writestr("datapackage.json", json.dumps({"profile": "data-package", "wacz_version": "1.1.1"}))
    lake = Lake(tmp_path / "lake")
    stats = import_warc_batch(lake, [str(path)], "b-wacz", WarcSection())
    with lake.connect() as con:
        rows = con.sql("SELECT url, status, content, headers_json FROM pages ORDER BY url, headers_json").fetchall()
    assert [(u, s) for u, s, _, _ in rows] == [("http://harbour.example/ferry", "kept")] * 2 + [
        ("http://harbour.example/ferry.html", "kept")]  # fmt: skip
    assert all(c == HTML for _, _, c, _ in rows)
    members = {json.loads(h)["x-warc-member"] for *_, h in rows}
    assert members == {"archive/data.warc.gz", "archive/wget.warc.gz"}
    assert stats.formats == {"wacz:warc.gz": 2} and stats.revisits_resolved == 1


def test_whole_file_gzip_and_records_split_across_members_are_read_and_flagged(tmp_path):
    records = [_response(f"http://harbour.example/{i}", HTML, f"g-{i}") for i in range(3)]
    whole = tmp_path / "one-stream.warc.gz"
    whole.write_bytes(gzip.compress(b"".join(records), mtime=0))
    split = tmp_path / "split.warc.gz"
    cut = records[0].index(b"<!doctype")
    split.write_bytes(_gz_members([records[0][:cut], records[0][cut:], records[1], records[2]]))
    for path, flag in ((whole, "gzip_single_stream"), (split, "gzip_split_record")):
        rows, _ = _rows(path)
        assert [(r["status"], r["content"]) for r in rows] == [("kept", HTML)] * 3, path.name
        assert {_headers(r)["x-warc-flags"] for r in rows} == {flag}
    # whole-file gzip is read decompressed: offsets are those of the uncompressed records
    rows, _ = _rows(whole)
    assert [int(_headers(r)["x-warc-offset"]) for r in rows] == [0, len(records[0]), len(records[0]) + len(records[1])]


def test_revisit_digests_match_whatever_the_case_of_their_base32(tmp_path):
    """Producers agree on the digest string almost always; when one writes it lower-case (or with
    another algorithm label case) the revisit still finds its original."""
    revisit = _revisit("http://harbour.example/ferry?again", HTML, "r-1", "o-1")
    upper = _sha1(HTML).split(":", 1)[1]
    revisit = revisit.replace(f"WARC-Payload-Digest: sha1:{upper}".encode(), f"WARC-Payload-Digest: SHA1:{upper.lower()}".encode())
    path = tmp_path / "case.warc"
    path.write_bytes(_response("http://harbour.example/ferry", HTML, "o-1") + revisit)
    rows, stats = _rows(path)
    assert [(r["status"], r["content"]) for r in rows] == [("kept", HTML), ("kept", HTML)]
    assert stats.revisits_resolved == 1


@pytest.mark.parametrize("gz", [False, True])
def test_a_huge_arc_record_is_cut_at_the_size_cap_with_bounded_memory(tmp_path, gz):
    """An ARC record is streamed into the importer like a WARC one: a 10 MB body costs the size
    cap (200 KB here), not 10 MB, and the record after it still imports."""
    import tracemalloc

    big = b"<html><body>" + (EN.encode() + b"\n") * 100_000 + b"</body></html>"  # ~10 MB
    http = b"HTTP/1.0 200 OK\nContent-Type: text/html\n\n"
    after = b"HTTP/1.0 200 OK\nContent-Type: text/html\n\n" + HTML
    path = tmp_path / ("big.arc.gz" if gz else "big.arc")
    path.write_bytes(_arc([("http://harbour.example/big", http + big), ("http://harbour.example/after", after)], gz))
    tracemalloc.start()
    try:
        rows, _ = _rows(path, max_bytes=200_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(r["url"].rsplit("/", 1)[-1], r["status"], r["truncated"]) for r in rows] == [
        ("big", "kept", True), ("after", "kept", False)]  # fmt: skip
    assert rows[0]["content_bytes"] == 200_000 and rows[1]["content"] == HTML
    assert peak < 4_000_000, peak
