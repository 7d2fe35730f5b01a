"""Dedup of one batch against everything kept before: URL, exact, near-duplicate (MinHash LSH) and paragraph.

The steps, in order, each on the documents the previous step left:

1. URL: documents of the batch sharing a canonical URL keep the *newest* fetch (then the smallest
   doc_id); the others are `url_duplicate`. A newer fetch of a URL kept by an earlier batch is a
   new version of that page: it is kept (if its content is not a duplicate of something else) and
   records `supersedes` = the earlier doc_id, so the mixer can drop the stale version.
2. Exact: same normalised-text SHA-1 as a document of an earlier batch (-> that document's
   cluster) or as an earlier document of this batch. Representative policy for content
   duplicates: the earliest fetch, then the longest text, then the smallest doc_id. Across batches
   the earlier batch always wins, so nothing already kept is ever un-kept.
3. Near: MinHash LSH over word (or CJK character) n-gram shingles. Candidates are documents that
   share a band key: with each other, and with earlier representatives through the index. Each
   candidate pair is checked in two steps: the signature estimate must reach
   `threshold - prefilter_margin` (cheap, drops most LSH false positives), then the exact Jaccard
   of the two shingle sets must reach `threshold` (`verify="exact"`; prior texts are re-shingled
   from storage) or the estimate must (`verify="signature"`). Verified pairs are joined with
   union-find; a component containing an earlier representative joins that cluster (the earliest
   one), otherwise its representative follows the policy above. Every other member is a
   `near_duplicate` of the verified neighbour it is most similar to.
4. Paragraph: on the documents still kept, paragraphs seen in >= `paragraph_min_docs` documents
   (this batch + earlier batches) are removed; a document left shorter than `paragraph_min_doc_chars`
   is rejected with the characters left as value (see `paragraphs.py`).

Nothing here touches storage: earlier batches are reached through a `PriorStore` (Delta in
`store.py`, memory in `MemoryPriorStore`), whose lookups return only rows of *earlier* batches.
That makes a re-run of a batch identical to its first run, and a batch cost proportional to the
batch (plus the earlier documents it actually matches), not to the corpus.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from goldpan.dedup import paragraphs as para
from goldpan.dedup.exact import NORMALIZATION_VERSION, text_sha1
from goldpan.dedup.minhash import MinHasher
from goldpan.dedup.shingles import SHINGLE_VERSION, jaccard, shingle_hashes
from goldpan.dedup.unionfind import UnionFind
from goldpan.dedup.urlkey import url_key
from goldpan.engine.shuffle import local_group_by_key

#: (keys, owners) -> owners of every key held by >= 2 entries, sorted (see goldpan.engine.shuffle).
GroupByKey = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]

RULE_URL = "url_duplicate"
RULE_EXACT = "exact_duplicate"
RULE_NEAR = "near_duplicate"
KIND_URL, KIND_SHA1, KIND_BAND = "url", "sha1", "band"
# Buckets larger than this are linked as stars around their first members instead of all pairs, so
# one key shared by thousands of pages (templated junk) cannot blow up to millions of pairs.
MAX_BUCKET_PAIRS = 64


@dataclass(frozen=True)
class DedupConfig:
    """Mirrors `goldpan.recipe.DedupSection`; see there for what each knob means."""

    num_bands: int = 28
    rows_per_band: int = 4
    threshold: float = 0.8
    word_ngram: int = 5
    char_ngram: int = 5
    seed: int = 1
    verify: str = "exact"
    prefilter_margin: float = 0.15
    url_dedup: bool = True
    paragraph_dedup: bool = True
    paragraph_min_docs: int = 3
    paragraph_min_chars: int = 30
    paragraph_min_doc_chars: int = 200
    index_compact_files: int = 16  # used by the Delta store's writer, not by matching

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if self.verify not in ("exact", "signature"):
            raise ValueError("verify must be 'exact' or 'signature'")


@dataclass(frozen=True)
class DedupInput:
    """A new document. `fetched_at`: seconds since the epoch (None sorts last)."""

    doc_id: str
    text: str
    lang: str
    url: str | None = None
    fetched_at: float | None = None


@dataclass(frozen=True)
class IndexHit:
    """One row of the index of earlier batches: key -> document (and its cluster)."""

    kind: str
    key: int
    doc_id: str
    cluster_id: str
    batch_id: str


class PriorStore(Protocol):
    """Read access to earlier batches. Every method must ignore the current batch and later ones."""

    def lookup(self, kind: str, keys: np.ndarray) -> list[IndexHit]: ...

    def signatures(self, refs: list[tuple[str, str]]) -> dict[str, np.ndarray]: ...

    def texts(self, refs: list[tuple[str, str]]) -> dict[str, tuple[str, str]]: ...

    def paragraph_counts(self, keys: np.ndarray) -> dict[int, int]: ...

    def cluster_sizes(self, cluster_ids: list[str]) -> dict[str, int]: ...


@dataclass
class DedupResult:
    """The decision for one document, with the evidence needed to audit it."""

    doc_id: str
    url_key: int | None
    text_sha1: str
    cluster_id: str = ""
    is_representative: bool = False
    status: str = "kept"
    rule: str | None = None
    duplicate_of: str | None = None
    similarity: float | None = None
    threshold: float | None = None
    value: float | None = None
    supersedes: str | None = None
    cluster_size: int = 1
    n_shingles: int = 0
    n_paragraphs: int = 0
    paragraphs_removed: int = 0
    chars_removed: int = 0
    dedup_text: str | None = None
    signature: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    band_keys: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    paragraph_keys: list[int] = field(default_factory=list, repr=False)


@dataclass
class IndexRows:
    """What a batch adds to the index: (kind, key, doc_id, cluster_id) rows."""

    kinds: list[str] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    cluster_ids: list[str] = field(default_factory=list)

    def add(self, kind: str, key: int, doc_id: str, cluster_id: str) -> None:
        self.kinds.append(kind)
        self.keys.append(int(key))
        self.doc_ids.append(doc_id)
        self.cluster_ids.append(cluster_id)

    def add_many(self, kind: str, keys: list[int], doc_id: str, cluster_id: str) -> None:
        n = len(keys)
        self.kinds.extend([kind] * n)
        self.keys.extend(keys)
        self.doc_ids.extend([doc_id] * n)
        self.cluster_ids.extend([cluster_id] * n)

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class BatchOutcome:
    results: list[DedupResult]  # in input order
    index_rows: IndexRows
    paragraph_counts: dict[int, int]  # this batch's distinct-doc count per paragraph key
    stats: dict[str, int]


def sha1_key(sha1_hex: str) -> int:
    """The exact-duplicate index key: the first 8 bytes of the SHA-1 as a signed int64."""
    return int.from_bytes(bytes.fromhex(sha1_hex[:16]), "big", signed=True)


def _content_order(d: DedupInput) -> tuple:
    """Representative policy for content duplicates: earliest fetch, longest text, smallest id."""
    t = d.fetched_at
    return (t is None, t if t is not None else 0.0, -len(d.text), d.doc_id)


class BatchDeduplicator:
    """Runs the four steps of the module docstring for one batch against a `PriorStore`."""

    def __init__(self, config: DedupConfig | None = None, group_by_key: GroupByKey | None = None) -> None:
        self.cfg = config or DedupConfig()
        # The band-key group-by of step 3: in process by default, the engine's shuffle when given.
        self.group_by_key = group_by_key or local_group_by_key
        self.hasher = MinHasher(self.cfg.num_bands, self.cfg.rows_per_band, self.cfg.seed)

    @property
    def config_id(self) -> str:
        """Everything that determines stored signatures and band keys; stored with them."""
        c = self.cfg
        return (f"{self.hasher.config_id}:w{c.word_ngram}:c{c.char_ngram}:sh{SHINGLE_VERSION}"
                f":norm{NORMALIZATION_VERSION}")

    # ------------------------------------------------------------------ features
    def shingles(self, text: str, lang: str) -> np.ndarray:
        return shingle_hashes(text, lang, self.cfg.word_ngram, self.cfg.char_ngram)

    def signatures(self, docs: Sequence[DedupInput]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Shingles, signatures (n, num_perm) and band keys (n, num_bands) of `docs`."""
        sh = [self.shingles(d.text, d.lang) for d in docs]
        sigs = np.empty((len(docs), self.hasher.num_perm), dtype=np.uint32)
        for i, s in enumerate(sh):
            sigs[i] = self.hasher.signature(s)
        keys = self.hasher.band_keys_matrix(sigs) if len(docs) else np.empty((0, self.hasher.num_bands), np.int64)
        return sh, sigs, keys

    # ------------------------------------------------------------------ the batch
    def run(
        self,
        docs: Sequence[DedupInput],
        store: PriorStore,
        features: tuple[list[np.ndarray], np.ndarray, np.ndarray] | None = None,
    ) -> BatchOutcome:
        """`features`: `self.signatures(docs)` computed elsewhere (the engine's workers), or None."""
        cfg = self.cfg
        _check(docs)
        n = len(docs)
        stats: dict[str, int] = defaultdict(int)
        shingles, sigs, bkeys = features if features is not None else self.signatures(docs)
        res = [
            DedupResult(doc_id=d.doc_id, url_key=url_key(d.url) if cfg.url_dedup else None,
                        text_sha1=text_sha1(d.text), n_shingles=int(shingles[i].size),
                        signature=sigs[i], band_keys=bkeys[i])
            for i, d in enumerate(docs)
        ]
        pos = {d.doc_id: i for i, d in enumerate(docs)}
        order = sorted(range(n), key=lambda i: _content_order(docs[i]))
        rank = {i: r for r, i in enumerate(order)}
        alive = [True] * n  # not yet rejected by steps 1-3

        # 1. URL ------------------------------------------------------------------------------
        url_rep: dict[int, int] = {}  # url_dup position -> position of the newest fetch
        if cfg.url_dedup:
            # A group-by on the URL key (the engine's: a shuffle on Ray); owners are input positions.
            with_url = [i for i, r in enumerate(res) if r.url_key is not None]
            url_groups = self.group_by_key(
                np.array([res[i].url_key for i in with_url], dtype=np.int64), np.array(with_url, dtype=np.int64)
            ) if len(with_url) >= 2 else []
            for group in url_groups:
                members = group.tolist()
                t = lambda i: docs[i].fetched_at if docs[i].fetched_at is not None else -math.inf
                newest = min(members, key=lambda i: (-t(i), docs[i].doc_id))
                for i in members:
                    if i != newest:
                        alive[i] = False
                        url_rep[i] = newest
                        _reject(res[i], RULE_URL, docs[newest].doc_id, None, None)
            ukeys = np.array(sorted({r.url_key for i, r in enumerate(res) if alive[i] and r.url_key is not None}),
                             dtype=np.int64)
            by_url: dict[int, IndexHit] = {}
            for h in store.lookup(KIND_URL, ukeys) if ukeys.size else []:
                cur = by_url.get(h.key)
                if cur is None or (h.batch_id, h.doc_id) > (cur.batch_id, cur.doc_id):
                    by_url[h.key] = h  # the latest earlier version
            for i, r in enumerate(res):
                if alive[i] and r.url_key in by_url:
                    r.supersedes = by_url[r.url_key].doc_id

        # 2. Exact ----------------------------------------------------------------------------
        skeys = np.array(sorted({sha1_key(r.text_sha1) for i, r in enumerate(res) if alive[i]}), dtype=np.int64)
        prior_sha: dict[int, IndexHit] = {}
        for h in store.lookup(KIND_SHA1, skeys) if skeys.size else []:
            cur = prior_sha.get(h.key)
            if cur is None or (h.batch_id, h.doc_id) < (cur.batch_id, cur.doc_id):
                prior_sha[h.key] = h  # the earliest earlier copy
        # Copies inside the batch: a group-by on the SHA-1 key (the engine's), owners in content order;
        # the first of each full SHA-1 in a group is the original, the later ones its exact copies.
        live = [i for i in order if alive[i]]
        copy_of: dict[int, int] = {}
        for group in self.group_by_key(np.array([sha1_key(res[i].text_sha1) for i in live], dtype=np.int64),
                                       np.array([rank[i] for i in live], dtype=np.int64)) if len(live) >= 2 else []:
            firsts: dict[str, int] = {}
            for rk in group.tolist():
                i = order[rk]
                j = firsts.setdefault(res[i].text_sha1, i)
                if j != i:
                    copy_of[i] = j
        primaries: list[int] = []
        exact_of: dict[int, int] = {}
        for i in order:
            if not alive[i]:
                continue
            r = res[i]
            h = prior_sha.get(sha1_key(r.text_sha1))
            if h is not None:
                alive[i] = False
                r.cluster_id = h.cluster_id
                _reject(r, RULE_EXACT, h.doc_id, 1.0, None)
                continue
            j = copy_of.get(i)
            if j is not None:
                alive[i] = False
                exact_of[i] = j
                _reject(r, RULE_EXACT, docs[j].doc_id, 1.0, None)
                continue
            primaries.append(i)

        # 3. Near -----------------------------------------------------------------------------
        nonempty = [i for i in primaries if shingles[i].size]
        edges: dict[tuple[str, str], float] = {}
        cand_pairs: set[tuple[int, int]] = set()
        for members in _shared_key_groups(nonempty, bkeys, rank, self.group_by_key):
            heads = members[:MAX_BUCKET_PAIRS]
            for a_pos, a in enumerate(members):
                for b in heads[: min(MAX_BUCKET_PAIRS, a_pos)]:
                    cand_pairs.add((b, a))
        stats["lsh_pairs_in_batch"] = len(cand_pairs)
        lo = cfg.threshold - cfg.prefilter_margin if cfg.verify == "exact" else cfg.threshold
        verify_in: list[tuple[int, int]] = []
        for a, b in sorted(cand_pairs):
            est = float(np.count_nonzero(sigs[a] == sigs[b])) / sigs.shape[1]
            if est >= lo:
                verify_in.append((a, b))
        for a, b in verify_in:
            sim = jaccard(shingles[a], shingles[b]) if cfg.verify == "exact" else (
                float(np.count_nonzero(sigs[a] == sigs[b])) / sigs.shape[1])
            if sim >= cfg.threshold:
                edges[(docs[a].doc_id, docs[b].doc_id)] = sim

        # against earlier representatives, through the band index
        prior_hits: dict[str, IndexHit] = {}
        doc_prior: dict[int, set[str]] = defaultdict(set)
        if nonempty:
            all_keys = np.unique(bkeys[nonempty].ravel())
            hits = store.lookup(KIND_BAND, all_keys)
            key_docs: dict[int, list[int]] = defaultdict(list)
            if hits:
                hit_keys = np.unique(np.fromiter((h.key for h in hits), dtype=np.int64, count=len(hits)))
                sub = bkeys[nonempty]
                rows_i, cols_j = np.nonzero(np.isin(sub, hit_keys))
                for r_i, c_j in zip(rows_i.tolist(), cols_j.tolist(), strict=True):
                    key_docs[int(sub[r_i, c_j])].append(nonempty[r_i])
            for h in hits:
                prior_hits.setdefault(h.doc_id, h)
                for i in key_docs.get(h.key, ()):
                    if res[i].supersedes != h.doc_id:
                        doc_prior[i].add(h.doc_id)
        stats["prior_candidates"] = len(prior_hits)
        if prior_hits and doc_prior:
            refs = sorted({(prior_hits[p].batch_id, p) for s in doc_prior.values() for p in s})
            psig = store.signatures(refs)
            need: dict[int, list[str]] = {}
            for i, ps in doc_prior.items():
                ok = [p for p in sorted(ps) if p in psig
                      and float(np.count_nonzero(psig[p] == sigs[i])) / sigs.shape[1] >= lo]
                if ok:
                    need[i] = ok
            if cfg.verify == "exact":
                trefs = sorted({(prior_hits[p].batch_id, p) for ps in need.values() for p in ps})
                ptext = store.texts(trefs) if trefs else {}
                psh = {p: self.shingles(t, lg) for p, (t, lg) in ptext.items()}
                stats["prior_texts_read"] = len(psh)
                for i, ps in need.items():
                    for p in ps:
                        if p in psh:
                            sim = jaccard(shingles[i], psh[p])
                            if sim >= cfg.threshold:
                                edges[(p, docs[i].doc_id)] = sim
            else:
                for i, ps in need.items():
                    for p in ps:
                        sim = float(np.count_nonzero(psig[p] == sigs[i])) / sigs.shape[1]
                        if sim >= cfg.threshold:
                            edges[(p, docs[i].doc_id)] = sim
        stats["verified_edges"] = len(edges)

        uf = UnionFind()
        for i in primaries:
            uf.add(docs[i].doc_id)
        for a, b in edges:
            uf.union(a, b)
        neighbours: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for (a, b), s in edges.items():
            neighbours[a].append((b, s))
            neighbours[b].append((a, s))
        for members in uf.components().values():
            batch_members = [m for m in members if m in pos]
            priors_in = sorted((prior_hits[m].batch_id, m) for m in members if m not in pos)
            if priors_in:
                rep_id = priors_in[0][1]
                cluster = prior_hits[rep_id].cluster_id
            else:
                rep_id = min(batch_members, key=lambda m: rank[pos[m]])
                cluster = rep_id
            for m in batch_members:
                r = res[pos[m]]
                r.cluster_id = cluster
                if m == rep_id:
                    r.is_representative = True
                    continue
                alive[pos[m]] = False
                best = _best_neighbour(m, rep_id, neighbours[m], pos, rank)
                _reject(r, RULE_NEAR, best[0], best[1], cfg.threshold)

        # exact copies and URL duplicates join the cluster of the document they copy
        for i, j in exact_of.items():
            res[i].cluster_id = res[j].cluster_id
        for i, j in url_rep.items():
            res[i].cluster_id = res[j].cluster_id or docs[j].doc_id
        for r in res:
            if not r.cluster_id:  # defensive: every document belongs to a cluster
                r.cluster_id = r.doc_id
                r.is_representative = True
            if r.rule is None and r.status == "kept":
                r.threshold = cfg.threshold

        # cluster sizes as of this batch: earlier members + this batch's members
        in_batch: dict[str, int] = defaultdict(int)
        for r in res:
            in_batch[r.cluster_id] += 1
        earlier = store.cluster_sizes(sorted(c for c in in_batch if c not in pos))
        for r in res:
            r.cluster_size = in_batch[r.cluster_id] + earlier.get(r.cluster_id, 0)

        # 4. Paragraphs -------------------------------------------------------------------------
        pcounts: dict[int, int] = {}
        if cfg.paragraph_dedup:
            kept = [i for i in range(n) if alive[i]]
            splits = {i: para.split_paragraphs(docs[i].text, cfg.paragraph_min_chars) for i in kept}
            pcounts = dict(para.batch_counts(splits.values()))
            prior_counts = store.paragraph_counts(para.keys_array(pcounts)) if pcounts else {}
            total = {k: c + prior_counts.get(k, 0) for k, c in pcounts.items()}
            for i in kept:
                p = splits[i]
                r = res[i]
                r.paragraph_keys = sorted({k for k in p.keys if k is not None})
                o = para.apply(p, total, cfg.paragraph_min_docs, cfg.paragraph_min_doc_chars)
                r.n_paragraphs, r.paragraphs_removed, r.chars_removed = o.n_paragraphs, o.n_removed, o.chars_removed
                if o.n_removed:
                    r.dedup_text = o.text
                if o.rule:
                    r.status, r.rule, r.value, r.threshold = "rejected", o.rule, o.value, o.threshold
                    r.similarity = None

        # what this batch adds to the index --------------------------------------------------
        rows = IndexRows()
        seen_sha: set[str] = set()
        for i in order:
            r = res[i]
            if r.rule == RULE_URL:
                continue
            if r.url_key is not None:
                rows.add(KIND_URL, r.url_key, r.doc_id, r.cluster_id)
            if r.rule != RULE_EXACT and r.text_sha1 not in seen_sha:
                seen_sha.add(r.text_sha1)
                rows.add(KIND_SHA1, sha1_key(r.text_sha1), r.doc_id, r.cluster_id)
            if r.is_representative and shingles[i].size:
                rows.add_many(KIND_BAND, r.band_keys.tolist(), r.doc_id, r.cluster_id)

        for r in res:
            stats[r.rule or r.status] += 1
        return BatchOutcome(res, rows, pcounts, dict(stats))


def _shared_key_groups(idx: list[int], bkeys: np.ndarray, rank: dict[int, int],
                       group_by_key: GroupByKey = local_group_by_key) -> list[list[int]]:
    """Groups (>= 2 documents, in rank order) of the batch documents `idx` sharing a band key.

    A group-by on the band key (`goldpan.engine.shuffle`): one numpy sort in process, a shuffle by
    key on Ray; both return the same groups, so the candidate pairs do not depend on the engine.
    """
    if len(idx) < 2:
        return []
    sub = bkeys[idx]
    nb = sub.shape[1]
    owner = np.repeat(np.array([rank[i] for i in idx], dtype=np.int64), nb)
    by_rank = {rank[i]: i for i in idx}
    groups = []
    for ranks in group_by_key(sub.ravel(), owner):
        members = [by_rank[r] for r in ranks.tolist()]
        groups.append(list(dict.fromkeys(members)))
    return [m for m in groups if len(m) >= 2]


def _best_neighbour(m: str, rep_id: str, nbrs: list[tuple[str, float]], pos: dict[str, int],
                    rank: dict[int, int]) -> tuple[str, float]:
    """The verified neighbour to report as `duplicate_of`: the representative if linked directly,
    else the most similar neighbour (earlier documents first on ties)."""
    for other, s in nbrs:
        if other == rep_id:
            return other, s

    def key(t: tuple[str, float]) -> tuple:
        o, s = t
        return (-s, 0 if o not in pos else 1, rank.get(pos.get(o, -1), -1), o)

    return min(nbrs, key=key)


def _reject(r: DedupResult, rule: str, dup_of: str, sim: float | None, threshold: float | None) -> None:
    r.status, r.rule, r.duplicate_of, r.similarity, r.threshold = "rejected", rule, dup_of, sim, threshold
    r.is_representative = False


def _check(docs: Sequence[DedupInput]) -> None:
    seen: set[str] = set()
    for d in docs:
        if not isinstance(d.text, str):
            raise TypeError(f"doc {d.doc_id!r}: text must be str, got {type(d.text).__name__}")
        if d.doc_id in seen:
            raise ValueError(f"doc_id {d.doc_id!r} appears twice in the batch")
        seen.add(d.doc_id)


class MemoryPriorStore:
    """A `PriorStore` in memory: the library used without a lake (benchmarks, notebooks).

    `commit(batch_id, docs, outcome)` appends a decided batch; lookups then see it from later
    batches only (batch ids compare as strings, like the lake's).
    """

    def __init__(self) -> None:
        self.current: str = ""
        self._index: dict[tuple[str, int], list[IndexHit]] = defaultdict(list)
        self._sigs: dict[str, np.ndarray] = {}
        self._texts: dict[str, tuple[str, str]] = {}
        self._batch_of: dict[str, str] = {}
        self._paras: dict[int, list[tuple[str, int]]] = defaultdict(list)
        self._clusters: dict[str, list[str]] = defaultdict(list)

    def begin(self, batch_id: str) -> MemoryPriorStore:
        self.current = batch_id
        return self

    def commit(self, batch_id: str, docs: Sequence[DedupInput], out: BatchOutcome, keep_texts: bool = True) -> None:
        for d, r in zip(docs, out.results, strict=True):
            self._batch_of[r.doc_id] = batch_id
            self._clusters[r.cluster_id].append(batch_id)
            if r.is_representative:
                self._sigs[r.doc_id] = r.signature
                if keep_texts:
                    self._texts[r.doc_id] = (d.text, d.lang)
        rows = out.index_rows
        for kind, key, doc, cl in zip(rows.kinds, rows.keys, rows.doc_ids, rows.cluster_ids, strict=True):
            self._index[(kind, key)].append(IndexHit(kind, key, doc, cl, batch_id))
        for k, c in out.paragraph_counts.items():
            self._paras[k].append((batch_id, c))

    def lookup(self, kind: str, keys: np.ndarray) -> list[IndexHit]:
        return [h for k in keys.tolist() for h in self._index.get((kind, k), ()) if h.batch_id < self.current]

    def signatures(self, refs: list[tuple[str, str]]) -> dict[str, np.ndarray]:
        return {d: self._sigs[d] for _, d in refs if d in self._sigs}

    def texts(self, refs: list[tuple[str, str]]) -> dict[str, tuple[str, str]]:
        return {d: self._texts[d] for _, d in refs if d in self._texts}

    def paragraph_counts(self, keys: np.ndarray) -> dict[int, int]:
        out: dict[int, int] = {}
        for k in keys.tolist():
            c = sum(n for b, n in self._paras.get(k, ()) if b < self.current)
            if c:
                out[k] = c
        return out

    def cluster_sizes(self, cluster_ids: list[str]) -> dict[str, int]:
        return {c: sum(b < self.current for b in self._clusters.get(c, ())) for c in cluster_ids}
