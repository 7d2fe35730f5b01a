"""The candidate writer: curated and lake documents, PII redacted on the way in, tokens recounted."""

from __future__ import annotations

import json

import pyarrow as pa

from goldpan.bpe.counter import TokenCounter
from goldpan.lake import Lake
from goldpan.lake.schemas import CURATED_DOCUMENTS, DOCUMENTS, MIX_DECISIONS
from goldpan.release.candidate import write_candidate

TEXT = "Write to the editor at jane.doe@example.org or call +1 415 555 0199 before Friday, 9 June."
ZH = "欢迎来信：lin.wei@example.cn，我们会在三个工作日内回复。"


def _lake(tmp_path) -> Lake:
    lake = Lake(tmp_path / "lake")
    doc = dict.fromkeys(DOCUMENTS.names) | {"doc_id": "d1", "page_id": "p1", "batch_id": "b1", "url": "http://x/1",
                                            "host": "x", "status": "kept", "text": TEXT, "lang": "en", "n_words": 16}
    lake.write("documents", pa.Table.from_pylist([doc], schema=DOCUMENTS), DOCUMENTS)
    lake.write("dedup_clusters", pa.Table.from_pylist([], schema=pa.schema([("doc_id", pa.string()),
                                                                              ("dedup_text", pa.large_string())])),
               pa.schema([("doc_id", pa.string()), ("dedup_text", pa.large_string())]))
    cur = dict.fromkeys(CURATED_DOCUMENTS.names) | {"doc_id": "c1", "batch_id": "curated-notes", "source": "notes",
                                                    "text": ZH, "lang": "zh", "n_chars": len(ZH)}
    lake.write("curated_documents", pa.Table.from_pylist([cur], schema=CURATED_DOCUMENTS), CURATED_DOCUMENTS)
    counter = TokenCounter()
    mix = [
        {"doc_id": "d1", "batch_id": "b1", "status": "kept", "source": "web", "repeat": 1, "recipe_id": "r",
         "origin": "lake", "n_tokens": counter.count(TEXT)},
        {"doc_id": "c1", "batch_id": "curated-notes", "status": "kept", "source": "notes", "repeat": 2, "recipe_id": "r",
         "origin": "curated", "n_tokens": counter.count(ZH)},
    ]
    mix = [dict.fromkeys(MIX_DECISIONS.names) | m for m in mix]
    lake.write("mix_decisions", pa.Table.from_pylist(mix, schema=MIX_DECISIONS), MIX_DECISIONS)
    return lake


def test_pii_is_redacted_in_the_candidate_and_tokens_are_recounted(tmp_path):
    lake = _lake(tmp_path)
    counter = TokenCounter()
    out = write_candidate(lake, redact=True, counter=counter)
    assert out.pii_applied and out.docs_redacted == 2
    rows = {r["doc_id"]: r for r in lake.table("corpus_candidate").to_pyarrow_table().to_pylist()}
    en, zh = rows["d1"], rows["c1"]
    assert "jane.doe@example.org" not in en["text"] and "<EMAIL>" in en["text"] and "<PHONE>" in en["text"]
    assert json.loads(en["pii_json"]) == {"email": 1, "phone": 1}
    assert en["n_tokens"] == counter.count(en["text"]) != counter.count(TEXT)
    assert "<EMAIL>" in zh["text"] and zh["repeat"] == 2 and zh["origin"] == "curated" and zh["page_id"] is None
    # the original stays in documents
    assert lake.table("documents").to_pyarrow_table().column("text")[0].as_py() == TEXT


def test_redaction_can_be_switched_off_by_the_recipe(tmp_path):
    lake = _lake(tmp_path)
    out = write_candidate(lake, redact=False, counter=TokenCounter())
    assert not out.pii_applied and out.docs_redacted == 0
    texts = set(lake.table("corpus_candidate").to_pyarrow_table().column("text").to_pylist())
    assert texts == {TEXT, ZH}

