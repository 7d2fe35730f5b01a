"""An index of evaluation-set n-grams and the matcher that rejects contaminated documents.

Eval sets are files the user lists in the recipe (JSONL, Parquet or CSV with a text column, e.g.
benchmark questions and answers). They are small next to a corpus, so their n-gram keys fit in a
dict; candidate documents stream past it and are never held in memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from goldpan.decontam.ngrams import ngrams, render, units


class EvalSetError(ValueError):
    """An eval set that cannot be read: missing file, unknown format, no text column."""


@dataclass(frozen=True)
class Contamination:
    eval_set: str
    ngram: str
    hits: int  # distinct eval n-grams found in the document


def read_texts(path: str | Path, text_column: str = "text") -> Iterator[str]:
    """Texts of one eval file, streamed; the format follows the extension."""
    p = Path(path)
    if not p.exists():
        raise EvalSetError(f"eval set not found: {p}")
    suffix = "".join(p.suffixes[-2:]) if p.suffix == ".gz" else p.suffix
    if suffix in (".jsonl", ".json"):
        with p.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                rec = json.loads(line)
                if text_column not in rec:
                    raise EvalSetError(f"{p}:{lineno}: no {text_column!r} field")
                yield str(rec[text_column] or "")
    elif suffix == ".csv":
        with p.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if text_column not in (reader.fieldnames or []):
                raise EvalSetError(f"{p}: no {text_column!r} column")
            for rec in reader:
                yield rec[text_column] or ""
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(p)
        if text_column not in pf.schema_arrow.names:
            raise EvalSetError(f"{p}: no {text_column!r} column")
        for batch in pf.iter_batches(columns=[text_column], batch_size=1024):
            yield from (t or "" for t in batch.column(0).to_pylist())
    else:
        raise EvalSetError(f"{p}: unsupported eval set format {suffix!r} (use .jsonl, .csv or .parquet)")


@dataclass
class DecontamIndex:
    """Maps each eval n-gram key to (eval set name, the n-gram as text)."""

    n: int = 13
    keys: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # key -> (eval set, n-gram units)
    items: dict[str, int] = field(default_factory=dict)  # eval set -> items indexed
    too_short: dict[str, int] = field(default_factory=dict)  # eval set -> items shorter than n units

    def add(self, eval_set: str, texts: Iterable[str]) -> None:
        self.items.setdefault(eval_set, 0)
        self.too_short.setdefault(eval_set, 0)
        for text in texts:
            seq = units(text)
            self.items[eval_set] += 1
            if len(seq) < self.n:
                self.too_short[eval_set] += 1
                continue
            for start, key in ngrams(seq, self.n):
                if key not in self.keys:
                    self.keys[key] = (eval_set, tuple(seq[start : start + self.n]))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def entries(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every indexed n-gram with its eval set, in indexing order: what another process needs to
        rebuild an equal index (the keys are Python string hashes, valid in this process only)."""
        return tuple(self.keys.values())

    @classmethod
    def from_entries(cls, n: int, entries) -> DecontamIndex:
        """The index `entries()` came from, keyed with this process's string hashes."""
        idx = cls(n=n)
        for eval_set, gram in entries:
            key = hash("\x1f".join(gram))
            if key not in idx.keys:  # the first eval set to index an n-gram keeps it, as in `add`
                idx.keys[key] = (eval_set, tuple(gram))
        return idx

    def check(self, text: str | None) -> Contamination | None:
        """The first eval set whose n-gram occurs in `text`, with that n-gram; None when clean."""
        if not self.keys:
            return None
        seq = units(text)
        first: tuple[str, str] | None = None
        hits: set[int] = set()
        keys = self.keys
        for start, key in ngrams(seq, self.n):
            entry = keys.get(key)
            if entry is not None and entry[1] == tuple(seq[start : start + self.n]):
                hits.add(key)
                if first is None:
                    first = (entry[0], render(seq, start, self.n))
        if first is None:
            return None
        return Contamination(eval_set=first[0], ngram=first[1], hits=len(hits))


def contamination_of(doc: Mapping, index: DecontamIndex) -> Contamination | None:
    """A document's contamination: the hit already found for it on the engine's workers when its row
    carries one (goldpan.decontam.batches adds `contam_*` columns), else `index.check` of its text."""
    if "contam_hits" not in doc:
        return index.check(doc.get("text"))
    if doc.get("contam_eval_set") is None:
        return None
    return Contamination(eval_set=doc["contam_eval_set"], ngram=doc["contam_ngram"], hits=int(doc["contam_hits"]))


def build_index(eval_sets: Iterable, n: int) -> DecontamIndex:
    """Index every eval set of the recipe (objects with name, path, text_column)."""
    idx = DecontamIndex(n=n)
    for es in eval_sets:
        idx.add(es.name, read_texts(es.path, es.text_column))
    return idx
