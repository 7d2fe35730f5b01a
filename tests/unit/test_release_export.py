"""Exports reproduce byte for byte, and an old release is exported by Delta time travel."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from goldpan.cli import main as cli_main
from goldpan.commands import export as export_cmd  # noqa: F401  (registered in the CLI)
from goldpan.export.writer import ExportError, export_release
from goldpan.lake import Lake
from goldpan.lake.schemas import CORPUS
from goldpan.release.promote import promote, record_gate_attempt

TEXTS = [
    ("d-01", "en", "The lighthouse keeper logged every ship that passed the point for thirty years.", "web", 15),
    ("d-02", "zh", "山脚下的小村庄每年秋天都会举办一次丰收节。", "web", 22),
    ("d-03", "en", "A new bus route now links the hospital with the northern estates.", "books", 13),
    ("d-04", "en", "Tea tastes best when the water has cooled a little after boiling.", "books", 14),
    ("d-05", "zh", "番茄炒蛋是很多人学会的第一道菜。", "web", 18),
]


def release(lake: Lake, docs, run: str) -> dict:
    rows = [{"doc_id": d, "page_id": f"p-{d}", "batch_id": "b1", "url": f"http://x.example/{d}", "title": None,
             "text": t, "lang": lang, "source": src, "domain": "x.example", "n_words": len(t.split()), "repeat": 1 + (i % 2),
             "recipe_id": "r@1", "n_tokens": n, "origin": "lake", "pii_json": None}
            for i, (d, lang, t, src, n) in enumerate(docs)]
    v = lake.write("corpus_candidate", pa.Table.from_pylist(rows, schema=CORPUS), CORPUS).version
    record_gate_attempt(lake, passed=True, candidate_version=v, recipe_id="r@1", recipe_sha1="a" * 40, gate={},
                        run_id=run, stats={"tokens": sum(r["n_tokens"] * r["repeat"] for r in rows)})
    return promote(lake, candidate_version=v, run_id=run)


def digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")


def test_same_release_exports_byte_identical_even_after_later_releases(lake, tmp_path):
    v1 = release(lake, TEXTS, "run-1")
    first = export_release(lake, "v1", tmp_path / "a", shard_docs=2)
    v2 = release(lake, TEXTS[1:] + [("d-06", "en", "A later document.", "web", 4)], "run-2")
    assert (v1["release"], v2["release"]) == ("v1", "v2") and v2["corpus_version"] > v1["corpus_version"]
    second = export_release(lake, "v1", tmp_path / "b", shard_docs=2)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert first.manifest == second.manifest
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["manifest.json"] + [f"v1-{i:05d}.{ext}" for i in range(3) for ext in ("jsonl.zst", "parquet")]


def test_manifest_counts_checksums_and_shard_contents(lake, tmp_path):
    release(lake, TEXTS, "run-1")
    m = export_release(lake, "v1", tmp_path / "e", shard_docs=2).manifest
    assert m["documents"] == 5 and [s["documents"] for s in m["shards"]] == [2, 2, 1]
    # tokens are n_tokens x repeat (repeat alternates 1, 2 in doc order)
    assert m["tokens_by_source"] == {"books": 13 + 14 * 2, "web": 15 + 22 * 2 + 18}
    assert m["tokens"] == sum(m["tokens_by_source"].values())
    on_disk = json.loads((tmp_path / "e" / "manifest.json").read_text())
    assert on_disk == m and "time" not in json.dumps(m)
    for s in m["shards"]:
        j = tmp_path / "e" / s["files"]["jsonl.zst"]["name"]
        assert hashlib.sha256(j.read_bytes()).hexdigest() == s["files"]["jsonl.zst"]["sha256"]
        lines = zstandard.ZstdDecompressor().decompress(j.read_bytes()).decode().splitlines()
        pq_rows = pq.read_table(tmp_path / "e" / s["files"]["parquet"]["name"]).to_pylist()
        assert [json.loads(x) for x in lines] == pq_rows
        assert [r["doc_id"] for r in pq_rows] == sorted(r["doc_id"] for r in pq_rows)
    assert m["shards"][0]["first_doc_id"] == "d-01"


def test_export_of_an_unknown_release_is_an_error(lake, tmp_path, capsys):
    release(lake, TEXTS, "run-1")
    with pytest.raises(ExportError, match="known: v1"):
        export_release(lake, "v9", tmp_path / "x")
    assert cli_main(["--lake", lake.root, "export", "v9", "--out", str(tmp_path / "x")]) == 2
    assert cli_main(["--lake", lake.root, "export", "v1", "--out", str(tmp_path / "y"), "--shard-docs", "3"]) == 0
    out = capsys.readouterr().out
    assert "5 documents" in out and "v1-00001.parquet" in out
