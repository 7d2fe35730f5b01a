"""Export one release of `training_corpus` as shards a trainer can read, byte for byte reproducible.

A release names one Delta version of `training_corpus` (recorded in `corpus_releases`), so an old
release is read by Delta time travel however many releases came after it. Reproducibility is by
construction: rows sorted by doc_id, fixed shard size, JSON with sorted keys, one-shot zstd frames
at a fixed level (no threads, content size and checksum always written), Parquet with fixed writer
settings and no timestamps anywhere, and a manifest with no clock in it. Two exports of the same
release therefore have the same sha256 for every file.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from goldpan.lake import Lake
from goldpan.lake.releases import PROMOTED, releases
from goldpan.synthesize.provenance import synthetic_provenance, synthetic_share

EXPORT_COLUMNS = ["doc_id", "text", "url", "title", "lang", "source", "domain", "n_tokens", "repeat", "batch_id",
                  "page_id", "recipe_id"]
FORMAT_VERSION = 1


class ExportError(ValueError):
    """The release does not exist, was never promoted, or holds pages taken down since."""


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    manifest: dict
    # (url, request_id) of documents in the export that a takedown request covers (on_takedown="warn")
    taken_down: tuple[tuple[str, str], ...] = ()


def taken_down_in(lake: Lake, version: int) -> list[tuple[str, str]]:
    """(url, request_id) of every document of training_corpus@version that a takedown request,
    recorded after the release was made, covers: the release still holds them (Delta time travel)."""
    from goldpan.audit.takedowns import TakedownMatcher

    matcher = TakedownMatcher.from_lake(lake)
    if not matcher:
        return []
    hits = []
    for batch in lake.iter_batches("SELECT url FROM training_corpus ORDER BY url", tables=["training_corpus"],
                                   versions={"training_corpus": version}, batch_size=10_000):
        for url in batch.column(0).to_pylist():
            if (rid := matcher.match(url)) is not None:
                hits.append((url, rid))
    return hits


def takedown_message(release: str, hits: list[tuple[str, str]], limit: int = 10) -> str:
    shown = "; ".join(f"{url} (request {rid})" for url, rid in hits[:limit])
    more = f" and {len(hits) - limit} more" if len(hits) > limit else ""
    return (f"release {release} holds {len(hits)} page(s) taken down after it was made: {shown}{more}. "
            "Export a later release that drops them, or pass --allow-takedowns for an audit copy")


def find_release(lake: Lake, release: str) -> dict:
    rows = [r for r in releases(lake) if r["release"] == release and r["status"] == PROMOTED]
    if not rows:
        known = sorted({r["release"] for r in releases(lake) if r["status"] == PROMOTED})
        raise ExportError(f"no promoted release {release!r} (known: {', '.join(known) or 'none'})")
    return rows[-1]


def _shards(lake: Lake, version: int, shard_docs: int) -> Iterator[pa.Table]:
    """Consecutive shards of `shard_docs` rows, in doc_id order, from training_corpus@version."""
    cols = ", ".join(EXPORT_COLUMNS)
    reader = lake.iter_batches(f"SELECT {cols} FROM training_corpus ORDER BY doc_id", tables=["training_corpus"],
                               versions={"training_corpus": version}, batch_size=min(shard_docs, 4096))
    pending: list[pa.RecordBatch] = []
    n = 0
    for b in reader:
        while b.num_rows:
            take = min(shard_docs - n, b.num_rows)
            pending.append(b.slice(0, take))
            n += take
            b = b.slice(take)
            if n == shard_docs:
                yield pa.Table.from_batches(pending)
                pending, n = [], 0
    if n:
        yield pa.Table.from_batches(pending)


def _jsonl_zst(table: pa.Table, level: int) -> bytes:
    import zstandard

    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for r in table.to_pylist()]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    cctx = zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True, threads=0)
    return cctx.compress(raw)


def _parquet(table: pa.Table, path: Path, level: int) -> None:
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=level,
        use_dictionary=False,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        row_group_size=1 << 20,
        store_schema=True,
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_release(lake: Lake, release: str, out_dir: str | Path, shard_docs: int = 10_000,
                   zstd_level: int = 10, on_takedown: str = "refuse") -> ExportResult:
    """Write `release` into `out_dir` (created; existing shard files are replaced).

    A release made before a takedown request still holds the page it covers. `on_takedown="refuse"`
    (the default) raises ExportError naming those pages before anything is written; "warn" exports
    anyway (an audit copy, byte-identical to earlier exports) and lists them in `taken_down`.
    """
    if on_takedown not in ("refuse", "warn"):
        raise ValueError(f"on_takedown must be 'refuse' or 'warn', got {on_takedown!r}")
    row = find_release(lake, release)
    version = int(row["corpus_version"])
    hits = taken_down_in(lake, version)
    if hits and on_takedown == "refuse":
        raise ExportError(takedown_message(release, hits))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shards = []
    tokens_by_source: Counter[str] = Counter()
    docs_by_source: Counter[str] = Counter()
    total_docs = total_tokens = 0
    for i, table in enumerate(_shards(lake, version, shard_docs)):
        base = f"{release}-{i:05d}"
        jpath, ppath = out / f"{base}.jsonl.zst", out / f"{base}.parquet"
        tmp = jpath.with_suffix(".tmp")
        tmp.write_bytes(_jsonl_zst(table, zstd_level))
        tmp.replace(jpath)
        _parquet(table, ppath, zstd_level)
        src = table.column("source").to_pylist()
        tok = table.column("n_tokens").to_pylist()
        rep = table.column("repeat").to_pylist()
        shard_tokens = 0
        for s, t, r in zip(src, tok, rep):
            tokens_by_source[s or ""] += int(t or 0) * int(r or 1)
            docs_by_source[s or ""] += 1
            shard_tokens += int(t or 0) * int(r or 1)
        total_docs += table.num_rows
        total_tokens += shard_tokens
        shards.append({
            "index": i,
            "documents": table.num_rows,
            "tokens": shard_tokens,
            "first_doc_id": table.column("doc_id")[0].as_py(),
            "last_doc_id": table.column("doc_id")[-1].as_py(),
            "files": {
                "jsonl.zst": {"name": jpath.name, "bytes": jpath.stat().st_size, "sha256": _sha256(jpath)},
                "parquet": {"name": ppath.name, "bytes": ppath.stat().st_size, "sha256": _sha256(ppath)},
            },
        })
    manifest = {
        "format_version": FORMAT_VERSION,
        "release": release,
        "corpus_version": version,
        "recipe_id": row["recipe_id"],
        "recipe_sha1": row["recipe_sha1"],
        "content_sha1": row["content_sha1"],
        "columns": EXPORT_COLUMNS,
        "shard_docs": shard_docs,
        "zstd_level": zstd_level,
        "documents": total_docs,
        "tokens": total_tokens,  # n_tokens x repeat: what a trainer sees in one pass over the export
        "tokens_by_source": dict(sorted(tokens_by_source.items())),
        "documents_by_source": dict(sorted(docs_by_source.items())),
        "shards": shards,
    }
    synthetic = synthetic_provenance(lake, version)
    if synthetic:  # only releases holding model outputs carry the keys (older exports stay byte-identical)
        manifest["synthetic"] = synthetic  # one entry per (model, prompt template, task)
        manifest["synthetic_share"] = synthetic_share(lake, version)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return ExportResult(out_dir=out, manifest=manifest, taken_down=tuple(hits))
