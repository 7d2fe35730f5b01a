"""Incremental exact + near-duplicate matching of one batch against earlier representatives.

How a batch is processed (the Dagster asset drives this; nothing here touches storage):

1. `required_band_keys(docs)` computes the new docs' `text_sha1`s and band keys. The caller
   fetches only the prior representatives that share one of them, so a batch costs work in
   proportion to the batch (plus its matches), not to the corpus.
2. `add_prior(prior)` loads those representatives.
3. `assign(docs)` walks the batch in `order_key` order (ties by `doc_id`) and decides each doc:
   - exact duplicate: same `text_sha1` as a prior doc or an earlier new doc;
   - near duplicate: shares >= 1 band key with a prior doc or an earlier *kept* new doc AND the
     estimated Jaccard of the signatures is >= threshold. Verification matters: banding alone
     joins pairs at much lower similarity (and chains A~B~C into clusters of unrelated pages);
     checking each candidate keeps every link at >= threshold to the representative itself;
   - otherwise kept, as the representative of a new cluster whose id is its own `doc_id`.

Near-duplicates attach only to representatives (prior or kept new docs), never to another
duplicate, so a cluster is a star around its representative and cannot drift.

`assign` does not mutate the index: the batch's own docs live in local state, so calling it again
with the same inputs (and the same priors) gives identical results. Priors whose `doc_id` is in
the batch are ignored while assigning that batch, so re-running a batch whose results were already
written (and come back as priors) reproduces the first run instead of matching docs to themselves.

Expectation: `text` is `str`. Both public methods check every doc first and raise `TypeError`
naming the offending `doc_id` before doing any work, so the caller can quarantine that doc and
retry; nothing else is expected to raise for a well-typed document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from goldpan.dedup.exact import NORMALIZATION_VERSION, text_sha1
from goldpan.dedup.minhash import MinHasher, estimate_jaccard, is_empty_signature
from goldpan.dedup.shingles import shingle_hashes

RULE_EXACT = "exact_duplicate"
RULE_NEAR = "near_duplicate"


@dataclass(frozen=True)
class DedupInput:
    """A new document. `order_key`: smaller = earlier = preferred as representative."""

    doc_id: str
    text: str
    lang: str
    order_key: tuple


@dataclass(frozen=True)
class PriorDoc:
    """A representative kept in an earlier batch, as read back from storage."""

    doc_id: str
    cluster_id: str
    text_sha1: str
    signature: np.ndarray
    band_keys: np.ndarray


@dataclass(frozen=True)
class DedupResult:
    """The decision for one new document, with the evidence needed to audit it.

    `similarity` is 1.0 for exact duplicates, the estimated Jaccard for near duplicates and None
    for kept docs. `threshold` is the near-duplicate threshold for docs on which that rule was
    evaluated (kept and near_duplicate) and None for exact duplicates.
    """

    doc_id: str
    text_sha1: str
    cluster_id: str
    is_representative: bool
    status: str  # "kept" | "rejected"
    rule: str | None  # "exact_duplicate" | "near_duplicate" | None
    duplicate_of: str | None
    similarity: float | None
    threshold: float | None
    n_shingles: int
    signature: np.ndarray = field(repr=False)
    band_keys: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class _Prepared:
    text: str
    lang: str
    text_sha1: str
    n_shingles: int
    signature: np.ndarray
    band_keys: np.ndarray
    empty: bool


@dataclass
class _Rep:
    """A doc that near-duplicates may attach to. `rank` orders ties: priors first, then batch order."""

    doc_id: str
    cluster_id: str
    signature: np.ndarray
    rank: tuple


class NearDupIndex:
    """Exact + MinHash-LSH near-duplicate matcher for one batch against loaded priors."""

    def __init__(self, hasher: MinHasher, threshold: float = 0.8, word_ngram: int = 5,
                 char_ngram: int = 5) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.hasher = hasher
        self.threshold = float(threshold)
        self.word_ngram = int(word_ngram)
        self.char_ngram = int(char_ngram)
        self._prior_by_sha: dict[str, PriorDoc] = {}
        self._prior_by_id: dict[str, PriorDoc] = {}
        self._prior_buckets: dict[int, list[str]] = {}
        # Signatures computed by required_band_keys, reused by assign (keyed by doc_id, checked
        # against the text) so the usual fetch-then-assign flow shingles each doc once.
        self._cache: dict[str, _Prepared] = {}

    @property
    def config_id(self) -> str:
        """Everything that determines stored sha1s, signatures and keys; store it with them."""
        return (f"{self.hasher.config_id}:w{self.word_ngram}:c{self.char_ngram}"
                f":norm{NORMALIZATION_VERSION}")

    # ------------------------------------------------------------------ preparation
    @staticmethod
    def _check(docs: Sequence[DedupInput]) -> None:
        seen: set[str] = set()
        for d in docs:
            if not isinstance(d.text, str):
                raise TypeError(f"doc {d.doc_id!r}: text must be str, got {type(d.text).__name__}")
            if d.doc_id in seen:
                raise ValueError(f"doc_id {d.doc_id!r} appears twice in the batch")
            seen.add(d.doc_id)

    def _prepare(self, d: DedupInput) -> _Prepared:
        p = self._cache.get(d.doc_id)
        if p is not None and p.text == d.text and p.lang == d.lang:
            return p
        hashes = shingle_hashes(d.text, d.lang, self.word_ngram, self.char_ngram)
        sig = self.hasher.signature(hashes)
        p = _Prepared(
            text=d.text,
            lang=d.lang,
            text_sha1=text_sha1(d.text),
            n_shingles=int(hashes.size),
            signature=sig,
            band_keys=self.hasher.band_keys(sig),
            empty=hashes.size == 0,
        )
        self._cache[d.doc_id] = p
        return p

    def required_band_keys(self, docs: Sequence[DedupInput]) -> tuple[set[str], set[int]]:
        """The new docs' text_sha1s and band keys: fetch prior docs matching any of them.

        Docs without shingles contribute their sha1 but no band keys: they never near-match, and
        their all-0xFFFFFFFF signature gives identical keys for every such doc in the corpus, so
        fetching by them would pull an unbounded set.
        """
        self._check(docs)
        shas: set[str] = set()
        keys: set[int] = set()
        for d in docs:
            p = self._prepare(d)
            shas.add(p.text_sha1)
            if not p.empty:
                keys.update(p.band_keys.tolist())
        return shas, keys

    def add_prior(self, prior: Iterable[PriorDoc]) -> None:
        """Load representatives from earlier batches (any order; duplicates by doc_id ignored).

        Signatures are coerced to uint32 and band keys to int64, since storage may hand back
        lists or other integer types. A signature of the wrong length means a different MinHasher
        configuration, which would silently never match, so it raises ValueError instead.
        """
        for p in prior:
            if p.doc_id in self._prior_by_id:
                continue
            sig = np.asarray(p.signature, dtype=np.uint32)
            bk = np.asarray(p.band_keys, dtype=np.int64)
            if sig.shape != (self.hasher.num_perm,) or bk.shape != (self.hasher.num_bands,):
                raise ValueError(
                    f"prior {p.doc_id!r}: signature/band_keys shape {sig.shape}/{bk.shape} does "
                    f"not match {self.hasher.config_id}")
            p = PriorDoc(p.doc_id, p.cluster_id, p.text_sha1, sig, bk)
            self._prior_by_id[p.doc_id] = p
            cur = self._prior_by_sha.get(p.text_sha1)
            # Several priors with one sha1 should not exist; if they do, the smallest doc_id wins
            # so the answer does not depend on the order storage returned them in.
            if cur is None or p.doc_id < cur.doc_id:
                self._prior_by_sha[p.text_sha1] = p
            if not is_empty_signature(sig):
                for k in bk.tolist():
                    self._prior_buckets.setdefault(k, []).append(p.doc_id)

    # ------------------------------------------------------------------ assignment
    def assign(self, docs: Sequence[DedupInput]) -> list[DedupResult]:
        """Decide every doc of the batch; results are in the order of `docs`.

        Raises TypeError (non-str text) or ValueError (repeated doc_id) before any work.
        """
        self._check(docs)
        batch_ids = {d.doc_id for d in docs}
        prepared = {d.doc_id: self._prepare(d) for d in docs}

        # Priors shadowed by the batch itself (a re-run) are invisible to it.
        prior_by_sha = {s: p for s, p in self._prior_by_sha.items() if p.doc_id not in batch_ids}
        if len(prior_by_sha) != len(self._prior_by_sha):
            # A shadowed prior may have hidden another prior with the same sha1.
            for p in sorted(self._prior_by_id.values(), key=lambda q: q.doc_id):
                if p.doc_id not in batch_ids:
                    prior_by_sha.setdefault(p.text_sha1, p)
        prior_reps: dict[str, _Rep] = {}

        def prior_rep(doc_id: str) -> _Rep:
            r = prior_reps.get(doc_id)
            if r is None:
                p = self._prior_by_id[doc_id]
                r = _Rep(p.doc_id, p.cluster_id, p.signature, (0, p.doc_id))
                prior_reps[doc_id] = r
            return r

        new_by_sha: dict[str, DedupResult] = {}
        new_buckets: dict[int, list[_Rep]] = {}
        decided: dict[str, DedupResult] = {}

        order = sorted(range(len(docs)), key=lambda i: (docs[i].order_key, docs[i].doc_id))
        for pos, i in enumerate(order):
            d = docs[i]
            p = prepared[d.doc_id]
            res: DedupResult | None = None

            prior_hit = prior_by_sha.get(p.text_sha1)
            if prior_hit is not None:
                res = self._result(d, p, prior_hit.cluster_id, RULE_EXACT, prior_hit.doc_id, 1.0)
            elif p.text_sha1 in new_by_sha:
                first = new_by_sha[p.text_sha1]
                res = self._result(d, p, first.cluster_id, RULE_EXACT, first.doc_id, 1.0)
            elif not p.empty:
                best = self._best_candidate(p, batch_ids, prior_rep, new_buckets)
                if best is not None:
                    rep, sim = best
                    res = self._result(d, p, rep.cluster_id, RULE_NEAR, rep.doc_id, sim)

            if res is None:
                res = self._result(d, p, d.doc_id, None, None, None)
                if not p.empty:
                    rep = _Rep(d.doc_id, d.doc_id, p.signature, (1, pos))
                    for k in p.band_keys.tolist():
                        new_buckets.setdefault(k, []).append(rep)
            new_by_sha.setdefault(p.text_sha1, res)
            decided[d.doc_id] = res

        for d in docs:  # the cache has served its purpose; keep memory bounded by one batch
            self._cache.pop(d.doc_id, None)
        return [decided[d.doc_id] for d in docs]

    def _best_candidate(self, p: _Prepared, batch_ids: set[str],
                        prior_rep: Callable[[str], _Rep], new_buckets: dict[int, list[_Rep]]) -> tuple[_Rep, float] | None:
        """Highest verified similarity among LSH candidates; ties go to the earliest rank."""
        cands: dict[str, _Rep] = {}
        for k in p.band_keys.tolist():
            for pid in self._prior_buckets.get(k, ()):
                if pid not in batch_ids and pid not in cands:
                    cands[pid] = prior_rep(pid)
            for rep in new_buckets.get(k, ()):
                cands.setdefault(rep.doc_id, rep)
        best: tuple[_Rep, float] | None = None
        for rep in cands.values():
            sim = estimate_jaccard(p.signature, rep.signature)
            if sim < self.threshold:
                continue
            if best is None or sim > best[1] or (sim == best[1] and rep.rank < best[0].rank):
                best = (rep, sim)
        return best

    def _result(self, d: DedupInput, p: _Prepared, cluster_id: str, rule: str | None,
                duplicate_of: str | None, similarity: float | None) -> DedupResult:
        kept = rule is None
        return DedupResult(
            doc_id=d.doc_id,
            text_sha1=p.text_sha1,
            cluster_id=cluster_id,
            is_representative=kept,
            status="kept" if kept else "rejected",
            rule=rule,
            duplicate_of=duplicate_of,
            similarity=similarity,
            threshold=None if rule == RULE_EXACT else self.threshold,
            n_shingles=p.n_shingles,
            signature=p.signature,
            band_keys=p.band_keys,
        )
