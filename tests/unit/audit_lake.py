"""A small real Delta lake with rows in every stage table, shared by the audit unit tests.

Three pages and their derived rows:
  A  https://blog.example.org/posts/sourdough.html   (English, in release v1)
  B  https://news.example.cn/文章/绿茶.html            (Chinese, in release v1)
  C  https://www.example.com/about.html               (English, rejected by the filter)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from goldpan.filter.signals import signals_schema
from goldpan.lake import Lake
from goldpan.lake.schemas import (
    CORPUS,
    CORPUS_RELEASES,
    DEDUP_CLUSTERS,
    DOCUMENTS,
    MIX_DECISIONS,
    PAGES,
    REJECTIONS,
)

URLS = {
    "A": "https://blog.example.org/posts/sourdough.html",
    "B": "https://news.example.cn/文章/绿茶.html",
    "C": "https://www.example.com/about.html",
}
TEXT = {
    "A": "A sourdough starter needs flour, water and patience. Feed it daily and keep it warm.",
    "B": "绿茶的冲泡温度以八十度左右为宜，水太烫会让茶汤发苦。",
    "C": "About us. Contact.",
}


def _write(lake: Lake, table: str, schema: pa.Schema, rows: list[dict]) -> None:
    lake.write(table, [pa.RecordBatch.from_pylist(rows, schema=schema)], schema, mode="append")


def build_lake(root: Path) -> Lake:
    lake = Lake(root)
    b = "b1"
    _write(lake, "pages", PAGES, [
        {"page_id": f"p{k}", "batch_id": b, "url": u, "final_url": u, "status": "kept", "content": TEXT[k].encode(),
         "content_bytes": len(TEXT[k].encode()), "headers_json": "{}"} for k, u in URLS.items()])
    _write(lake, "documents", DOCUMENTS, [
        {"doc_id": f"d{k}", "page_id": f"p{k}", "batch_id": b, "url": u, "status": "kept", "text": TEXT[k],
         "lang": "zh" if k == "B" else "en", "n_words": len(TEXT[k].split())} for k, u in URLS.items()])
    _write(lake, "dedup_clusters", DEDUP_CLUSTERS, [
        {"doc_id": f"d{k}", "page_id": f"p{k}", "batch_id": b, "url": u, "cluster_id": f"d{k}",
         "is_representative": True, "status": "kept"} for k, u in URLS.items()])
    _write(lake, "doc_signals", signals_schema(), [
        {"doc_id": f"d{k}", "batch_id": b, "status": "kept", "n_words": len(TEXT[k].split())} for k in URLS])
    _write(lake, "rejections", REJECTIONS, [
        {"batch_id": b, "stage": "filter", "doc_id": "dC", "rule": "gopher_min_words", "value": 3.0, "op": "<",
         "threshold": 50.0, "recipe_id": "r@1"}])
    _write(lake, "mix_decisions", MIX_DECISIONS, [
        {"doc_id": f"d{k}", "batch_id": b, "status": "kept", "lang": "zh" if k == "B" else "en", "repeat": 1}
        for k in ("A", "B")])
    corpus = [{"doc_id": f"d{k}", "page_id": f"p{k}", "batch_id": b, "url": URLS[k], "text": TEXT[k], "repeat": 1,
               "lang": "zh" if k == "B" else "en", "source": "web", "n_words": 10} for k in ("A", "B")]
    _write(lake, "corpus_candidate", CORPUS, corpus)
    _write(lake, "training_corpus", CORPUS, corpus)
    _write(lake, "corpus_releases", CORPUS_RELEASES, [
        {"attempt_id": "a1", "release": "v1", "status": "promoted", "corpus_version": 0, "candidate_version": 0,
         "recipe_id": "r@1", "recipe_sha1": "1", "n_docs": 2, "n_words": 20, "decided_at": datetime.now(UTC),
         "upstream_versions_json": json.dumps({"pages": 0, "documents": 0})}])
    return lake


def add_kept_document(lake: Lake, doc_id: str, url: str, text: str, lang: str = "en", batch: str = "b2") -> None:
    """A document kept by every stage up to the candidate (a new candidate version), not promoted."""
    page_id = "p" + doc_id
    _write(lake, "pages", PAGES, [{"page_id": page_id, "batch_id": batch, "url": url, "final_url": url,
                                   "status": "kept", "content": text.encode()}])
    _write(lake, "documents", DOCUMENTS, [{"doc_id": doc_id, "page_id": page_id, "batch_id": batch, "url": url,
                                           "status": "kept", "text": text, "lang": lang}])
    _write(lake, "dedup_clusters", DEDUP_CLUSTERS, [{"doc_id": doc_id, "page_id": page_id, "batch_id": batch, "url": url,
                                                     "cluster_id": doc_id, "is_representative": True, "status": "kept"}])
    _write(lake, "doc_signals", signals_schema(), [{"doc_id": doc_id, "batch_id": batch, "status": "kept"}])
    _write(lake, "mix_decisions", MIX_DECISIONS, [{"doc_id": doc_id, "batch_id": batch, "status": "kept", "lang": lang,
                                                   "repeat": 1}])
    _write(lake, "corpus_candidate", CORPUS, [{"doc_id": doc_id, "page_id": page_id, "batch_id": batch, "url": url,
                                               "text": text, "repeat": 1, "lang": lang, "source": "web"}])
