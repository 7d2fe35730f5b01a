"""Offline GPT-2 token counts, and curated corpora read from JSONL, Parquet and Delta."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake

from goldpan.bpe.counter import GPT2_FILES, TokenCounter, TokenizerUnavailable, seed_cache
from goldpan.mix.sources import SourceError, curated_batch_id, read_curated
from goldpan.recipe import MixSource


def test_gpt2_counts_offline_from_a_seeded_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GOLDPAN_TIKTOKEN_CACHE", str(tmp_path / "tk"))
    cache = seed_cache()
    for url in GPT2_FILES.values():
        assert (cache / hashlib.sha1(url.encode()).hexdigest()).stat().st_size > 100_000
    c = TokenCounter("gpt2")
    assert c.encoding.encode_ordinary("hello world") == [31373, 995]  # tiktoken's published GPT-2 ids
    assert c.count_batch(["hello world", "", None, "番茄炒蛋"]) == [2, 0, 0, len(c.encoding.encode_ordinary("番茄炒蛋"))]
    assert c.count("番茄炒蛋") > 4  # GPT-2 BPE splits CJK into byte pieces


def test_tokenizers_without_offline_vocabulary_are_refused():
    with pytest.raises(TokenizerUnavailable, match="no offline vocabulary"):
        TokenCounter("cl100k_base")


def _identify(text):
    return ("zh", 0.99) if any("\u4e00" <= ch <= "\u9fff" for ch in text) else ("en", 0.98)


def test_curated_jsonl_rows_keep_file_row_and_identify_missing_language(tmp_path):
    p = tmp_path / "c.jsonl"
    recs = [{"id": "a", "text": "A plain English note about bread.", "url": "https://ex.org/a"},
            {"id": "b", "text": "番茄炒蛋的做法", "lang": "zh"},
            {"id": "c", "text": ""}]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\nnot json\n", encoding="utf-8")
    rows = list(read_curated(MixSource(name="notes", kind="jsonl", path=str(p)), _identify))
    assert [r["source_row"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["lang"] == "en" and rows[0]["host"] == "ex.org" and rows[0]["batch_id"] == curated_batch_id("notes")
    assert (rows[1]["lang"], rows[1]["lang_score"]) == ("zh", 1.0)
    assert rows[2]["text"] == "" and rows[3]["text"] is None  # become no_text error rows in the mix
    assert len({r["doc_id"] for r in rows}) == 4
    again = list(read_curated(MixSource(name="notes", kind="jsonl", path=str(p)), _identify))
    assert [r["doc_id"] for r in again] == [r["doc_id"] for r in rows]


def test_curated_parquet_and_delta_sources(tmp_path):
    t = pa.table({"body": ["one text", "two text"], "key": ["k1", "k2"]})
    pq.write_table(t, tmp_path / "c.parquet")
    write_deltalake(str(tmp_path / "delta"), t)
    for kind, path in [("parquet", tmp_path / "c.parquet"), ("delta", tmp_path / "delta")]:
        src = MixSource(name=f"s-{kind}", kind=kind, path=str(path), text_column="body", id_column="key")
        rows = list(read_curated(src, _identify))
        assert sorted(r["text"] for r in rows) == ["one text", "two text"]
    with pytest.raises(SourceError, match="no 'text' column"):
        list(read_curated(MixSource(name="x", kind="parquet", path=str(tmp_path / "c.parquet")), _identify))
