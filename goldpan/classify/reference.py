"""Reference sets: the texts a classifier learns as "positive" (or a domain's seed), from files or the lake.

A user points the recipe at their own high-quality corpus; the demo uses text the project ships in
goldpan/data/reference (see its README for provenance and licences). Three kinds:

- `text`: a .txt file or a folder of .txt files; documents are blank-line separated blocks.
- `jsonl`: one JSON object per line; `field` names the text (default "text").
- `delta`: a Delta table (a path, or a table name in the lake); `field` names the text column.

Loaders stream and stop at `limit`. Every problem (missing file, empty set, wrong column, bad JSON)
raises ReferenceError naming the source, because a silently empty positive set trains a useless model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHIPPED_PREFIX = "shipped:"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"


class ReferenceError(ValueError):
    """A reference set that cannot be used, with a message naming the source."""


@dataclass(frozen=True)
class ReferenceSource:
    kind: str  # text | jsonl | delta
    path: str
    field: str = "text"
    min_chars: int = 20

    def resolved_path(self) -> str:
        """`shipped:NAME` is a file under goldpan/data/reference; other paths are used as given."""
        if self.path.startswith(SHIPPED_PREFIX):
            return str(SHIPPED_DIR / self.path[len(SHIPPED_PREFIX):])
        return self.path

    def describe(self) -> str:
        return f"{self.kind}:{self.path}" + (f"[{self.field}]" if self.kind != "text" else "")


def iter_reference(src: ReferenceSource, lake=None, limit: int | None = None) -> Iterator[str]:
    """Texts of one reference source (at least `min_chars` long), at most `limit` of them."""
    loaders = {"text": _iter_text, "jsonl": _iter_jsonl, "delta": _iter_delta}
    if src.kind not in loaders:
        raise ReferenceError(f"{src.describe()}: unknown kind {src.kind!r} (use text, jsonl or delta)")
    n = 0
    for t in loaders[src.kind](src, lake):
        if t is None:
            continue
        t = t.strip()
        if len(t) < src.min_chars:
            continue
        yield t
        n += 1
        if limit is not None and n >= limit:
            return


def load_reference(sources: list[ReferenceSource], lake=None, limit: int | None = None) -> list[str]:
    """All texts of `sources`, in order, capped at `limit` overall; refuses an empty result."""
    if not sources:
        raise ReferenceError("no reference sources configured")
    out: list[str] = []
    for src in sources:
        before = len(out)
        out.extend(iter_reference(src, lake, None if limit is None else limit - len(out)))
        if len(out) == before and (limit is None or len(out) < limit):
            raise ReferenceError(f"{src.describe()}: no text of at least {src.min_chars} characters")
        if limit is not None and len(out) >= limit:
            break
    return out


def _existing(src: ReferenceSource) -> Path:
    p = Path(src.resolved_path())
    if not p.exists():
        raise ReferenceError(f"{src.describe()}: file not found: {p}")
    return p


def _iter_text(src: ReferenceSource, lake) -> Iterator[str]:
    p = _existing(src)
    files = sorted(p.rglob("*.txt")) if p.is_dir() else [p]
    if not files:
        raise ReferenceError(f"{src.describe()}: folder has no .txt files: {p}")
    for f in files:
        try:
            content = f.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ReferenceError(f"{src.describe()}: {f} is not UTF-8 text ({exc.reason})") from None
        block: list[str] = []
        for line in content.splitlines():
            if line.strip():
                block.append(line)
            elif block:
                yield "\n".join(block)
                block = []
        if block:
            yield "\n".join(block)


def _iter_jsonl(src: ReferenceSource, lake) -> Iterator[str]:
    p = _existing(src)
    if p.is_dir():
        raise ReferenceError(f"{src.describe()}: expected a .jsonl file, got a folder: {p}")
    with open(p, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReferenceError(f"{src.describe()}: line {lineno} is not JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or src.field not in obj:
                raise ReferenceError(f"{src.describe()}: line {lineno} has no field {src.field!r}")
            v = obj[src.field]
            if v is not None and not isinstance(v, str):
                raise ReferenceError(f"{src.describe()}: line {lineno}: field {src.field!r} is not a string")
            yield v


def _iter_delta(src: ReferenceSource, lake) -> Iterator[str]:
    """A Delta table by path, or by table name inside the lake (streamed in record batches)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    path = src.resolved_path()
    if lake is not None and "/" not in path and os.sep not in path:
        path = lake.uri(path)
    try:
        dt = DeltaTable(path, storage_options=getattr(lake, "storage_options", None))
    except TableNotFoundError:
        raise ReferenceError(f"{src.describe()}: no Delta table at {path}") from None
    ds = dt.to_pyarrow_dataset()
    if src.field not in ds.schema.names:
        raise ReferenceError(f"{src.describe()}: table has no column {src.field!r} (columns: {ds.schema.names})")
    import pyarrow as pa

    if not (pa.types.is_string(ds.schema.field(src.field).type) or pa.types.is_large_string(ds.schema.field(src.field).type)):
        raise ReferenceError(f"{src.describe()}: column {src.field!r} is {ds.schema.field(src.field).type}, not text")
    for batch in ds.to_batches(columns=[src.field], batch_size=1024):
        yield from batch.column(0).to_pylist()
