"""The corpus candidate: selected documents with their (PII-redacted) text and provenance.

Reads lake and curated documents through `mix_decisions` (kept rows), text as
COALESCE(dedup_text, text) for lake documents. PII is redacted here, on the way into the corpus,
with `goldpan.filter.pii.redact_pii` (the filter stage's redactor; `documents` keeps the
original). When redaction changes a text, its token count is recounted so corpus tokens are exact.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from goldpan.filter.pii import redact_pii
from goldpan.lake import Lake, WriteResult
from goldpan.lake.schemas import CORPUS
from goldpan.lake.snapshot import COMMIT_KEY, Snapshot, of_commit
from goldpan.lake.views import CURRENT_TEXT_SQL

CANDIDATE_SQL = """
SELECT * FROM (
  SELECT d.doc_id, d.page_id, d.batch_id, d.url, d.title, """ + CURRENT_TEXT_SQL + """ AS text, d.lang,
         m.source, d.host AS domain, d.n_words, m.repeat, m.recipe_id, m.n_tokens, m.origin
  FROM mix_decisions m JOIN documents d ON d.doc_id = m.doc_id
  LEFT JOIN dedup_clusters c ON c.doc_id = m.doc_id
  WHERE m.status = 'kept' AND m.origin = 'lake'
  UNION ALL
  SELECT cd.doc_id, NULL AS page_id, cd.batch_id, cd.url, cd.title, cd.text, cd.lang, m.source, cd.host AS domain,
         len(regexp_split_to_array(trim(cd.text), '\\s+')) AS n_words, m.repeat, m.recipe_id, m.n_tokens, m.origin
  FROM mix_decisions m JOIN curated_documents cd ON cd.doc_id = m.doc_id
  WHERE m.status = 'kept' AND m.origin = 'curated'
  {synthetic}
) ORDER BY doc_id
"""

# Guard-kept model outputs the mix selected (only when the lake has a synthetic_documents table).
SYNTHETIC_CANDIDATE_SQL = """
  UNION ALL
  SELECT sd.doc_id, NULL AS page_id, sd.batch_id, NULL AS url, NULL AS title, sd.text, sd.lang, m.source,
         NULL AS domain, len(regexp_split_to_array(trim(sd.text), '\\s+')) AS n_words, m.repeat, m.recipe_id,
         m.n_tokens, m.origin
  FROM mix_decisions m JOIN synthetic_documents sd ON sd.doc_id = m.doc_id
  WHERE m.status = 'kept' AND m.origin = 'synthetic'
"""


def load_redactor() -> Callable[[str], tuple[str, dict[str, int]]] | None:
    """The filter stage's PII redactor (`goldpan.filter.pii.redact_pii`)."""
    return redact_pii


@dataclass
class CandidateOutcome:
    written: WriteResult
    pii_applied: bool
    redactions: dict[str, int] = field(default_factory=dict)
    docs_redacted: int = 0


def candidate_snapshot(lake: Lake, mix_version: int | None = None) -> Snapshot:
    """What the candidate is built from: the `mix_decisions` version this run wrote (else the latest)
    and the snapshot that mix read, so the candidate never mixes one run's decisions with another
    run's later documents, nor takes a later batch's mix that another run wrote in the meantime."""
    mix_version = lake.version("mix_decisions") if mix_version is None else mix_version
    if mix_version is None:
        raise RuntimeError("mix_decisions has never been written")
    recorded = of_commit(lake, "mix_decisions", mix_version)
    base = recorded if recorded is not None else lake.snapshot()
    return base.pinned(mix_decisions=mix_version)


@dataclass(frozen=True)
class RedactContext:
    """What `redact_batch` needs in a worker: whether to redact, and the tokenizer that recounts."""

    redact: bool
    tokenizer: str | None  # None: token counts are kept as the mix counted them


def redact_batch(b: pa.RecordBatch, ctx: RedactContext) -> pa.RecordBatch:
    """Engine batch function: candidate rows -> CORPUS rows, text PII-redacted (`pii_json` says what was
    replaced) and tokens recounted where the text changed. Pure per row, so any worker count writes the
    same table (the engine keeps batch order)."""
    from goldpan.bpe.counter import TokenCounter
    from goldpan.engine.cache import worker_cache

    redactor = load_redactor() if ctx.redact else None
    counter = (worker_cache(("tokens", ctx.tokenizer, 1), lambda: TokenCounter(ctx.tokenizer, threads=1))
               if ctx.tokenizer and redactor is not None else None)
    rows = b.to_pylist()
    for r in rows:
        r["pii_json"] = None
        if redactor is not None and r["text"]:
            new, counts = redactor(r["text"])
            counts = {k: int(v) for k, v in counts.items() if v}
            if counts and new != r["text"]:
                r["text"] = new
                r["pii_json"] = json.dumps(counts, sort_keys=True)
                if counter is not None:
                    r["n_tokens"] = counter.count(new)
    return pa.RecordBatch.from_pylist(rows, schema=CORPUS)


def write_candidate(lake: Lake, redact: bool, counter=None, commit_metadata=None,
                    mix_version: int | None = None, engine=None, batch_rows: int = 256) -> CandidateOutcome:
    """Write `corpus_candidate` (replaced whole) from the kept decisions of mix version `mix_version`
    (default: the latest). Redaction and the recount run on `engine` (default: this process), batch by
    batch in order: the per-document work of this step, off the one core of the driver."""
    from goldpan.engine import InProcessEngine

    redactor = load_redactor() if redact else None
    engine = engine or InProcessEngine()
    totals: Counter[str] = Counter()
    docs_redacted = 0
    snap = candidate_snapshot(lake, mix_version)
    commit_metadata = dict(commit_metadata or {}) | {COMMIT_KEY: snap.to_json()}
    synthetic = lake.exists("synthetic_documents")
    sql = CANDIDATE_SQL.replace("{synthetic}", SYNTHETIC_CANDIDATE_SQL if synthetic else "")
    tables = ["mix_decisions", "documents", "dedup_clusters", "curated_documents"]
    reader = lake.iter_batches(sql, tables=tables + (["synthetic_documents"] if synthetic else []),
                               batch_size=batch_rows, snapshot=snap)
    ctx = RedactContext(redact=redactor is not None, tokenizer=getattr(counter, "name", None))

    def counted(out: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        nonlocal docs_redacted
        for b in out:
            for pii in b.column("pii_json").to_pylist():
                if pii is not None:
                    totals.update(json.loads(pii))
                    docs_redacted += 1
            yield b

    written = lake.write("corpus_candidate", counted(engine.map_batches(redact_batch, reader, ctx)), CORPUS,
                         commit_metadata=commit_metadata)
    return CandidateOutcome(written=written, pii_applied=redactor is not None, redactions=dict(totals),
                            docs_redacted=docs_redacted)
