"""A small lake of real passages (Python tutorial prose, Debian Reference zh) kept by every stage up to the
filter, and a recipe that synthesizes from them: the input the synthesize tests run on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import yaml

from goldpan.filter.signals import compute_signals, signals_schema
from goldpan.lake import Lake
from goldpan.lake.schemas import DEDUP_CLUSTERS, DOCUMENTS, PAGES, REJECTIONS
from goldpan.recipe import Recipe
from goldpan.recipe_loader import parse_recipe

REPO = Path(__file__).resolve().parents[2]
BATCH = "b-synth"


def real_passages(lang: str, n: int, min_chars: int = 220, max_chars: int = 420) -> list[str]:
    name = "quality_en.jsonl" if lang == "en" else "quality_zh.jsonl"
    out = []
    for line in (REPO / "goldpan" / "data" / "reference" / name).read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"].strip()
        if min_chars <= len(text) <= max_chars and "http" not in text:
            out.append(text)
        if len(out) == n:
            break
    return out


def _write(lake: Lake, table: str, schema: pa.Schema, rows: list[dict]) -> None:
    lake.write(table, [pa.RecordBatch.from_pylist(rows, schema=schema)], schema, mode="append")


def build_lake(root: Path, n_en: int = 3, n_zh: int = 1, dedup: bool = True) -> tuple[Lake, dict[str, str]]:
    """Pages, documents, dedup and filter rows for real passages; returns the lake and doc_id -> url.
    `dedup=False`: no dedup_clusters rows (the caller runs the real dedup stage, which writes its index)."""
    lake = Lake(root)
    docs = [("en", t) for t in real_passages("en", n_en)] + [("zh", t) for t in real_passages("zh", n_zh, 80, 300)]
    now = datetime.now(UTC)
    urls = {}
    pages, documents, clusters, signals = [], [], [], []
    for i, (lang, text) in enumerate(docs):
        url = f"https://docs.example.org/{lang}/page{i}.html"
        page_id, doc_id = f"p{i}", f"d{i}"
        urls[doc_id] = url
        pages.append({"page_id": page_id, "batch_id": BATCH, "url": url, "final_url": url, "status": "kept",
                      "fetched_at": now, "http_status": 200, "content": f"<p>{text}</p>".encode(), "source": "crawl",
                      "content_bytes": len(text.encode()), "headers_json": "{}", "host": "docs.example.org"})
        documents.append({"doc_id": doc_id, "page_id": page_id, "batch_id": BATCH, "url": url, "status": "kept",
                          "text": text, "lang": lang, "lang_score": 0.95, "host": "docs.example.org",
                          "n_words": len(text.split()), "fetched_at": now, "source": "crawl"})
        clusters.append({"doc_id": doc_id, "page_id": page_id, "batch_id": BATCH, "url": url, "cluster_id": doc_id,
                         "is_representative": True, "status": "kept"})
        signals.append({"doc_id": doc_id, "batch_id": BATCH, "lang": lang, "status": "kept",
                        **{k: v for k, v in compute_signals(text, lang).items() if k in signals_schema().names}})
    _write(lake, "pages", PAGES, pages)
    _write(lake, "documents", DOCUMENTS, documents)
    if dedup:
        _write(lake, "dedup_clusters", DEDUP_CLUSTERS, clusters)
    _write(lake, "doc_signals", signals_schema(), signals)
    lake.ensure("rejections", REJECTIONS)
    return lake, urls


def synth_recipe(tmp: Path, **synth_overrides) -> Recipe:
    """The demo recipe with a rewrite task over English parents, a lenient guard (the bundled 135M model
    invents facts in most outputs; the guard's own rules are tested on fixed texts) and a synthetic source."""
    data = yaml.safe_load((REPO / "recipes" / "demo.yaml").read_text(encoding="utf-8"))
    data["synthesize"] = {
        "enabled": True,
        "apply_filter": False,
        "chunk_rows": 1,
        "guard": {"max_new_numbers": None, "max_new_dates": None, "max_new_urls": None, "max_new_entities": None,
                  "language_min_score": None, "max_copy_similarity": None, "min_length_ratio": None,
                  "max_length_ratio": None},
        "tasks": [{"name": "rewrite-en", "kind": "rewrite", "template": "rewrite", "style": "textbook",
                   "languages": ["en"], "max_parents": 3, "max_parent_chars": 300, "max_tokens": 160,
                   "temperature": 0.2, "seed": 7}],
        **synth_overrides,
    }
    data["mix"]["sources"] = [{"name": "web", "kind": "lake"},
                              {"name": "synthetic", "kind": "synthetic", "max_share": 0.9}]
    data["mix"]["targets"] = {}
    return parse_recipe(data, "synth-test")
