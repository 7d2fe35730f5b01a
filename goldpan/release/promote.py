"""Promotion of a validated candidate into `training_corpus`, with a ledger of every attempt.

The contract: `training_corpus` only ever receives a candidate Delta version that the gate approved.
The gate records an attempt row (approved or refused) in `corpus_releases`; promotion looks up the
approval for the exact candidate version it is about to copy and refuses if there is none, so a run
that bypasses the orchestrator's blocking check still cannot promote an unchecked candidate. Each
promotion is one Delta version of `training_corpus`; promoting identical content again is recorded
as `unchanged` and writes no new version.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from goldpan.lake import Lake
from goldpan.lake.releases import APPROVED, PROMOTED, REFUSED, UNCHANGED, releases
from goldpan.lake.schemas import CORPUS, CORPUS_RELEASES

__all__ = ["APPROVED", "PROMOTED", "REFUSED", "UNCHANGED", "PromotionRefused", "promote", "record_gate_attempt",
           "releases"]

UPSTREAM_TABLES = ("pages", "documents", "dedup_clusters", "doc_signals", "rejections", "quality_decisions",
                   "curated_documents", "doc_tokens",
                   "synthetic_documents",
                   "consent", "policy_files",
                   "doc_scores", "takedowns", "mix_decisions", "corpus_candidate")


class PromotionRefused(RuntimeError):
    """Promotion was asked for a candidate the gate did not approve."""


@dataclass(frozen=True)
class Fingerprint:
    sha1: str
    n_docs: int
    n_words: int


def fingerprint(lake: Lake, table: str, version: int | None = None) -> Fingerprint:
    """Order-independent identity of a corpus table's content: doc ids, text digests and repeats.

    Streams the table sorted by doc_id, so memory stays flat whatever the corpus size.
    """
    h = hashlib.sha1()
    n_docs = n_words = 0
    ds = lake.dataset(table, version)
    if ds is None:
        return Fingerprint(h.hexdigest(), 0, 0)
    reader = lake.iter_batches(
        f"SELECT doc_id, md5(coalesce(text, '')), repeat, coalesce(n_words, 0) FROM {table} ORDER BY doc_id",
        tables=[table],
        versions={table: version} if version is not None else None,
        batch_size=10_000,
    )
    for batch in reader:
        cols = [batch.column(i).to_pylist() for i in range(4)]
        for doc_id, digest, repeat, words in zip(*cols):
            h.update(f"{doc_id}\t{digest}\t{repeat}\n".encode())
            n_docs += 1
            n_words += int(words) * int(repeat or 1)
    return Fingerprint(h.hexdigest(), n_docs, n_words)


def upstream_versions(lake: Lake) -> dict[str, int | None]:
    return {t: lake.version(t) for t in UPSTREAM_TABLES}


def _now() -> datetime:
    return datetime.now(UTC)


def record_gate_attempt(
    lake: Lake,
    *,
    passed: bool,
    candidate_version: int,
    recipe_id: str,
    recipe_sha1: str,
    gate: Mapping,
    run_id: str,
    commit_metadata: Mapping[str, str] | None = None,
    stats: Mapping | None = None,
    upstream: Mapping[str, int] | None = None,
) -> dict:
    """Append the gate's verdict for one candidate version, with the release statistics the gate
    computed (tokens, shares, removals versus the previous release); returns the attempt row.
    `upstream` is the snapshot the candidate was built from (else the tables' current versions)."""
    fp = fingerprint(lake, "corpus_candidate", candidate_version)
    row = {
        "attempt_id": uuid.uuid4().hex[:16],
        "release": None,
        "status": APPROVED if passed else REFUSED,
        "corpus_version": None,
        "candidate_version": candidate_version,
        "recipe_id": recipe_id,
        "recipe_sha1": recipe_sha1,
        "content_sha1": fp.sha1,
        "upstream_versions_json": json.dumps(
            {t: (upstream or {}).get(t) for t in UPSTREAM_TABLES} if upstream else upstream_versions(lake),
            sort_keys=True),
        "gate_json": json.dumps(gate, sort_keys=True, default=str),
        "n_docs": fp.n_docs,
        "n_words": fp.n_words,
        "n_tokens": int((stats or {}).get("tokens", 0)),
        "stats_json": json.dumps(stats or {}, sort_keys=True),
        "run_id": run_id,
        "decided_at": _now(),
    }
    lake.write("corpus_releases", [_batch([row])], CORPUS_RELEASES, mode="append", commit_metadata=commit_metadata)
    return row


def _batch(rows):
    import pyarrow as pa

    return pa.RecordBatch.from_pylist(rows, schema=CORPUS_RELEASES)




def promote(
    lake: Lake, *, candidate_version: int, run_id: str, commit_metadata: Mapping[str, str] | None = None
) -> dict:
    """Copy candidate `candidate_version` into training_corpus if the gate approved it.

    Returns the updated attempt row (status promoted or unchanged). Raises PromotionRefused when the
    gate has not approved that exact version, or refused it.
    """
    history = releases(lake)
    verdicts = [r for r in history if r["candidate_version"] == candidate_version]
    if verdicts and verdicts[-1]["status"] in (PROMOTED, UNCHANGED):
        return verdicts[-1]  # this candidate version was already promoted: nothing to do
    if not verdicts:
        raise PromotionRefused(
            f"corpus_candidate version {candidate_version} has no gate verdict; run the candidate_gate check first"
        )
    attempt = verdicts[-1]
    if attempt["status"] == REFUSED:
        raise PromotionRefused(
            f"corpus_candidate version {candidate_version} was refused by the gate (attempt {attempt['attempt_id']})"
        )
    promoted = [r for r in history if r["status"] == PROMOTED]
    last = promoted[-1] if promoted else None
    if last is not None and last["content_sha1"] == attempt["content_sha1"]:
        updates = {"status": UNCHANGED, "release": last["release"], "corpus_version": last["corpus_version"]}
    else:
        release = f"v{len(promoted) + 1}"
        batches = lake.iter_batches(
            "SELECT * FROM corpus_candidate ORDER BY doc_id",
            tables=["corpus_candidate"],
            versions={"corpus_candidate": candidate_version},
            batch_size=2048,
        )
        meta = dict(commit_metadata or {}) | {"release": release, "candidate_version": str(candidate_version)}
        written = lake.write("training_corpus", batches, CORPUS, commit_metadata=meta)
        updates = {"status": PROMOTED, "release": release, "corpus_version": written.version}
    _update_attempt(lake, attempt["attempt_id"], updates | {"run_id": run_id, "decided_at": _now()}, commit_metadata)
    return attempt | updates


def _update_attempt(lake: Lake, attempt_id: str, updates: Mapping, commit_metadata: Mapping[str, str] | None) -> None:
    """Rewrite one attempt row in place (the Delta history keeps the approval it replaces)."""
    from deltalake import CommitProperties

    dt = lake.table("corpus_releases")
    assert dt is not None

    def lit(v):
        if v is None:
            return "NULL"
        if isinstance(v, datetime):
            return f"'{v.isoformat()}'"
        if isinstance(v, (int, float)):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    dt.update(
        updates={k: lit(v) for k, v in updates.items()},
        predicate=f"attempt_id = {lit(attempt_id)}",
        commit_properties=CommitProperties(custom_metadata={k: str(v) for k, v in (commit_metadata or {}).items()}),
    )
