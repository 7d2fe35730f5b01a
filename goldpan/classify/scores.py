"""Score documents with the current quality and domain models into `doc_scores` record batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from goldpan.classify.model import line_probability, load
from goldpan.classify.registry import local_model_path
from goldpan.classify.text import fasttext_line
from goldpan.lake.schemas import DOC_SCORES, DOC_SCORES_PERPLEXITY, ERROR, KEPT


@dataclass
class LoadedModel:
    sha1: str
    model: object

    @classmethod
    def from_record(cls, rec: dict | None, storage_options=None) -> LoadedModel | None:
        """The model of a `models` row, or None when the latest attempt was refused / never made.
        Files in an object store are fetched once into a local, sha1-verified cache."""
        if not rec or rec.get("status") != "trained" or not rec.get("path"):
            return None
        return cls(sha1=rec["sha1"], model=load(local_model_path(rec["path"], rec["sha1"], storage_options)))


@dataclass
class Scorer:
    quality: LoadedModel | None
    math: LoadedModel | None
    code: LoadedModel | None
    label_threshold: float = 0.5
    max_chars: int = 10_000

    @property
    def domain_model(self) -> str | None:
        if not self.math and not self.code:
            return None
        return f"math:{self.math.sha1 if self.math else ''},code:{self.code.sha1 if self.code else ''}"

    def domain_of(self, math: float | None, code: float | None) -> str | None:
        """The more confident domain at or above label_threshold, else 'general' (None: no model)."""
        if math is None and code is None:
            return None
        m, c = math or 0.0, code or 0.0
        if max(m, c) < self.label_threshold:
            return "general"
        return "math" if m >= c else "code"

    def score_batch(self, rows: list[dict]) -> pa.RecordBatch:
        """rows: dicts with doc_id, batch_id, text. A row without text is an error row, not a drop."""
        ok = [i for i, r in enumerate(rows) if r.get("text")]
        lines = [fasttext_line(rows[i]["text"], self.max_chars) for i in ok]  # tokenised once for all models

        def probs(m: LoadedModel | None) -> list[float | None]:
            out: list[float | None] = [None] * len(rows)
            if m is not None and lines:
                for i, p in zip(ok, line_probability(m.model, lines).tolist(), strict=True):
                    out[i] = p
            return out

        q, ma, co = probs(self.quality), probs(self.math), probs(self.code)
        okset = set(ok)
        cols = {name: [] for name in DOC_SCORES.names}
        for i, r in enumerate(rows):
            good = i in okset
            cols["doc_id"].append(r["doc_id"])
            cols["batch_id"].append(r["batch_id"])
            cols["status"].append(KEPT if good else ERROR)
            cols["reason"].append(None if good else "no_text")
            cols["quality_score"].append(q[i])
            cols["quality_model"].append(self.quality.sha1 if self.quality and good else None)
            cols["math_score"].append(ma[i])
            cols["code_score"].append(co[i])
            cols["domain"].append(self.domain_of(ma[i], co[i]) if good else None)
            cols["domain_model"].append(self.domain_model if good else None)
            for name in DOC_SCORES_PERPLEXITY:  # the perplexity step's value, read with the input
                cols[name].append(r.get(name))
        return pa.RecordBatch.from_pydict(cols, schema=DOC_SCORES)

    def score_stream(self, rows: Iterable[dict], chunk: int = 1024) -> Iterator[pa.RecordBatch]:
        buf: list[dict] = []
        for r in rows:
            buf.append(r)
            if len(buf) >= chunk:
                yield self.score_batch(buf)
                buf = []
        if buf:
            yield self.score_batch(buf)
