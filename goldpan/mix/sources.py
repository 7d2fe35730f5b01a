"""Curated corpora (JSONL, Parquet, Delta) read as document rows next to the crawled ones.

A data team mixes the web with corpora it already trusts (Wikipedia, books, code). Those records
are snapshotted into the lake's `curated_documents` table so that a release depends on lake table
versions only, and every record keeps its file and row number. A record without usable text becomes
an error row (never a silent drop); a record without a language gets one from the same fastText
identifier the extract stage uses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from goldpan.crawl.urls import host_of
from goldpan.recipe import MixSource


class SourceError(ValueError):
    """A curated source that cannot be read (missing file, missing text column)."""


def curated_batch_id(source: str) -> str:
    return f"curated-{source}"


def curated_doc_id(source: str, key: str) -> str:
    """Stable id: the source name plus the record's own id (or its text when it has none)."""
    return hashlib.sha1(f"curated\x1f{source}\x1f{key}".encode()).hexdigest()[:20]


def _records(src: MixSource) -> Iterator[Mapping]:
    p = Path(src.path or "")
    if src.kind == "jsonl":
        if not p.exists():
            raise SourceError(f"source {src.name}: {p} not found")
        with p.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield {"__error__": f"line {lineno}: invalid JSON ({exc.msg})"}
                    continue
                yield rec if isinstance(rec, dict) else {"__error__": f"line {lineno}: not an object"}
        return
    if src.kind == "parquet":
        import pyarrow.dataset as pads

        if not p.exists():
            raise SourceError(f"source {src.name}: {p} not found")
        ds = pads.dataset(str(p), format="parquet")
    else:  # delta
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            ds = DeltaTable(str(p)).to_pyarrow_dataset()
        except TableNotFoundError as exc:
            raise SourceError(f"source {src.name}: no Delta table at {p}") from exc
    if src.text_column not in ds.schema.names:
        raise SourceError(f"source {src.name}: {p} has no {src.text_column!r} column")
    cols = [c for c in {src.text_column, src.id_column, src.url_column, src.title_column, src.lang_column} if c and c in ds.schema.names]
    for batch in ds.to_batches(columns=cols, batch_size=2048):
        yield from batch.to_pylist()


def read_curated(src: MixSource, identify: Callable[[str], tuple[str | None, float | None]]) -> Iterator[dict]:
    """`curated_documents` rows of one source, in file order; `identify(text) -> (lang, score)`."""
    batch_id = curated_batch_id(src.name)
    for row_no, rec in enumerate(_records(src)):
        text = rec.get(src.text_column) if "__error__" not in rec else None
        key = rec.get(src.id_column) if src.id_column else None
        key = str(key) if key not in (None, "") else f"row{row_no}:{hashlib.sha1(str(text).encode()).hexdigest()}"
        url = rec.get(src.url_column) if src.url_column else None
        lang = rec.get(src.lang_column) if src.lang_column else None
        score: float | None = 1.0 if lang else None  # a declared language is trusted
        if isinstance(text, str) and text.strip() and not lang:
            lang, score = identify(text)
        yield {
            "doc_id": curated_doc_id(src.name, key),
            "batch_id": batch_id,
            "source": src.name,
            "source_path": str(src.path),
            "source_row": row_no,
            "url": url,
            "host": host_of(url) if url else None,
            "title": rec.get(src.title_column) if src.title_column else None,
            "text": text if isinstance(text, str) else None,
            "lang": lang,
            "lang_score": score,
            "n_chars": len(text) if isinstance(text, str) else 0,
        }
