"""Dedup of one batch against everything kept before: URL, exact, near-duplicate (MinHash LSH) and paragraph.

The steps, in order, each on the documents the previous step left (`BatchDeduplicator.run`):

1. URL (`_url_step`): documents of the batch sharing a canonical URL keep the *newest* fetch (then
   the smallest doc_id); the others are `url_duplicate`. A newer fetch of a URL kept by an earlier
   batch is a new version of that page: it is kept (if its content is not a duplicate of something
   else) and records `supersedes` = the earlier doc_id; the mixer drops the superseded version.
2. Exact (`_exact_step`): same normalised-text SHA-1 as a document of an earlier batch (-> that
   document's cluster) or as an earlier document of this batch.
3. Near (`_near_step`): candidates are documents sharing an LSH band key or enough content anchors
   (`candidates.py`), with each other and with earlier documents through the index. Each candidate
   pair is checked on the signature estimate first (cheap), then verified on the exact shingle sets
   (`verify.py`: Jaccard with positional coverage, or containment of a smaller page in a larger
   one). Clusters are stars, each member verified against its representative, never chains
   (`_assign_clusters`): only representatives (and pages found inside a container) are in the
   index, so a batch document matches earlier representatives directly:
   - a batch document with no earlier match: documents in representative order (`representative`),
     the first one left is a representative and the ones left verified against it join it;
   - one earlier cluster: the batch's documents verified against it join it; its representative
     stays, unless the rule (`longest`, `newest`) prefers a member of this batch, which then takes
     over (recorded);
   - several earlier clusters (a new document links them): they merge into the one whose
     representative the rule prefers (`oldest`: the earliest), and each merge is recorded in
     `BatchOutcome.merges` (-> `dedup_merges`), so `trace`/`goldpan clusters` can say which document
     joined which clusters, and the mixer drops representatives that lost their place.
   Nothing already written is rewritten: earlier rows keep their cluster_id, and readers resolve it
   through the merge records (`resolve_clusters`).
4. Paragraph (`_paragraph_step`): on the documents still kept, paragraphs seen in >= `paragraph_min_docs`
   documents (this batch + earlier batches) are removed; a document left shorter than
   `paragraph_min_doc_chars` is rejected with the characters left as value (see `paragraphs.py`).

The per-document work (shingles, signatures, band keys, anchors) is `signatures.compute_signatures`,
a pure function an engine may run on worker processes and hand to `run(..., features=...)`.
Earlier batches are reached through a `PriorStore` (Delta in `store.py`, memory in
`MemoryPriorStore`), whose lookups return only rows of *earlier* batches: a re-run of a batch is
identical to its first run, and a batch costs in proportion to itself plus what it matches.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

import numpy as np

from goldpan.dedup import paragraphs as para
from goldpan.dedup import settings
from goldpan.dedup.candidates import (
    anchor_pairs,
    anchor_table,
    anchors_of,
    band_pairs,
    band_pairs_grouped,
    band_table,
)
from goldpan.dedup.shingles import sorted_unique
from goldpan.dedup.signatures import SignatureBatch, compute_signatures, doc_sequence
from goldpan.dedup.unionfind import UnionFind
from goldpan.dedup.urlkey import url_key
from goldpan.dedup.verify import MATCH_CONTAINED, DocShingles, verify_docs
from goldpan.engine.shuffle import local_group_by_key
from goldpan.recipe import DedupSection

#: (keys, owners) -> owners of every key held by >= 2 entries, sorted (see goldpan.engine.shuffle).
GroupByKey = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]

RULE_URL = "url_duplicate"
RULE_EXACT = "exact_duplicate"
RULE_NEAR = "near_duplicate"
KIND_URL, KIND_SHA1, KIND_BAND, KIND_ANCHOR = "url", "sha1", "band", "anchor"
REPRESENTATIVE_RULES = ("oldest", "longest", "newest")
MERGE_LINKED = "clusters_linked"
MERGE_REPRESENTATIVE = "representative_rule"
MERGE_CONTAINED = "contained"


@dataclass(frozen=True)
class DedupInput:
    """A new document. `fetched_at`: seconds since the epoch (None sorts last).

    On a cluster the driver decides without the texts (the workers read them): `text` is then ""
    and the workers give the text's length (`length`) and its paragraph shape (`paragraphs`)."""

    doc_id: str
    text: str
    lang: str
    url: str | None = None
    fetched_at: float | None = None
    length: int | None = None
    paragraphs: para.ParagraphShape | None = None
    #: `url_key(url)` when the caller computed it (the workers do, with the canonical URL)
    url_key: int | None = None

    @property
    def n_chars(self) -> int:
        return self.length if self.length is not None else len(self.text)


@dataclass(frozen=True)
class IndexHit:
    """One row of the index of earlier batches: key -> document (and its cluster when written)."""

    kind: str
    key: int
    doc_id: str
    cluster_id: str
    batch_id: str


@dataclass(frozen=True)
class ClusterState:
    """An earlier cluster as of the current batch: the cluster it now belongs to (after merges),
    that cluster's representative and the batch that representative came from."""

    cluster_id: str
    representative: str
    rep_batch: str


@dataclass(frozen=True)
class ClusterMerge:
    """One recorded change to an earlier cluster (a `dedup_merges` row)."""

    cluster_id: str  # the earlier cluster that changed
    into_cluster_id: str  # the cluster it is part of from now on (== cluster_id for a new representative)
    old_representative: str
    new_representative: str
    via_doc_id: str  # the new document that linked it
    linked_to: str  # the document on the other side of the verified pair that linked it
    similarity: float
    match: str  # jaccard | containment
    reason: str  # clusters_linked | representative_rule | contained
    representative_rule: str
    new_representative_batch: str = ""  # batch of new_representative ("" = this batch)


class PriorStore(Protocol):
    """Read access to earlier batches. Every method must ignore the current batch and later ones."""

    def lookup(self, kind: str, keys: np.ndarray) -> list[IndexHit]: ...

    def signatures(self, refs: list[tuple[str, str]]) -> dict[str, np.ndarray]: ...

    def texts(self, refs: list[tuple[str, str]]) -> dict[str, tuple[str, str]]: ...

    def paragraph_counts(self, keys: np.ndarray) -> dict[int, int]: ...

    def cluster_sizes(self, cluster_ids: list[str]) -> dict[str, int]: ...

    def merges(self) -> list[ClusterMerge]: ...


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
    match: str | None = None  # jaccard | containment, for near duplicates
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
    merges: list[ClusterMerge] = field(default_factory=list)
    #: paragraph keys removed from this batch's documents (their document count reached the minimum):
    #: what a worker needs to rebuild a document's text after paragraph dedup
    removed_paragraph_keys: list[int] = field(default_factory=list)


def sha1_key(sha1_hex: str) -> int:
    """The exact-duplicate index key: the first 8 bytes of the SHA-1 as a signed int64."""
    return int.from_bytes(bytes.fromhex(sha1_hex[:16]), "big", signed=True)


def resolve_clusters(merges: Sequence[ClusterMerge]) -> dict[str, ClusterState]:
    """cluster_id -> its state after applying `merges` in order (only clusters that changed)."""
    into: dict[str, str] = {}
    rep: dict[str, str] = {}
    for m in merges:
        if m.into_cluster_id != m.cluster_id:
            into[m.cluster_id] = m.into_cluster_id
        rep[m.into_cluster_id] = m.new_representative

    def root(c: str) -> str:
        seen = set()
        while c in into and c not in seen:
            seen.add(c)
            c = into[c]
        return c

    rep_batch = {m.new_representative: m.new_representative_batch for m in merges}
    out = {}
    for c in set(into) | set(rep):
        r = root(c)
        rp = rep.get(r, r)
        out[c] = ClusterState(r, rp, rep_batch.get(rp, ""))
    return out


@dataclass
class _Batch:
    """Working state of one batch through the steps."""

    docs: Sequence[DedupInput]
    feats: SignatureBatch
    res: list[DedupResult]
    pos: dict[str, int]
    order: list[int]  # positions by representative preference
    rank: dict[int, int]
    alive: list[bool]
    stats: dict[str, int]
    url_rep: dict[int, int] = field(default_factory=dict)
    exact_of: dict[int, int] = field(default_factory=dict)
    primaries: list[int] = field(default_factory=list)
    merges: list[ClusterMerge] = field(default_factory=list)
    removed_paragraph_keys: list[int] = field(default_factory=list)


@dataclass
class _Prior:
    """Earlier documents the batch touched: index hits, resolved clusters, texts for verification."""

    hits: dict[str, IndexHit] = field(default_factory=dict)
    state: dict[str, ClusterState] = field(default_factory=dict)  # earlier cluster_id -> current state
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)


class BatchDeduplicator:
    """Runs the four steps of the module docstring for one batch against a `PriorStore`."""

    def __init__(self, config: DedupSection | None = None, group_by_key: GroupByKey | None = None,
                 shuffle_band_keys: bool = False) -> None:
        self.cfg = config or DedupSection()
        # Group-bys on URL and text keys: in process by default, the engine's shuffle when given.
        self.group_by_key = group_by_key or local_group_by_key
        # Band-key candidate pairs: a DuckDB self-join over the batch (`candidates.band_pairs`), or, on an
        # engine that shuffles (Ray), its group-by on the band key and the same pairing: the same pairs.
        self.shuffle_band_keys = shuffle_band_keys
        self.sig_cfg = settings.signature_config(self.cfg)
        self.verify_cfg = settings.verify_config(self.cfg)

    @property
    def _anchor_share(self) -> float:
        """Share of the smaller page's anchors a containment candidate must share: the anchors are a
        sample of its shingles, so this estimates the containment (with the prefilter margin)."""
        return max(0.0, self.cfg.containment_threshold - self.cfg.prefilter_margin)

    @property
    def config_id(self) -> str:
        """Everything that determines stored signatures, band keys and anchors; stored with them."""
        return f"{self.sig_cfg.config_id}:a{self.cfg.anchor_rate}"

    # ------------------------------------------------------------------ features
    def features(self, docs: Sequence[DedupInput]) -> SignatureBatch:
        """The pure per-document part (an engine may compute it elsewhere and pass it to `run`)."""
        return compute_signatures([d.text for d in docs], [d.lang for d in docs], self.sig_cfg)

    def _sequence(self, text: str, lang: str) -> np.ndarray:
        return doc_sequence(text, lang, self.sig_cfg)

    def _order_key(self, d: DedupInput, length: int) -> tuple:
        """Representative preference inside one batch (smallest first): `oldest` = earliest fetch,
        then longest text; `longest` = longest text first; `newest` = latest fetch first; ties by doc_id."""
        t = d.fetched_at
        rule = self.cfg.representative
        if rule == "longest":
            return (-length, t is None, t if t is not None else 0.0, d.doc_id)
        if rule == "newest":
            return (t is None, -(t if t is not None else 0.0), -length, d.doc_id)
        return (t is None, t if t is not None else 0.0, -length, d.doc_id)

    # ------------------------------------------------------------------ the batch
    def run(self, docs: Sequence[DedupInput], store: PriorStore, features: SignatureBatch | None = None) -> BatchOutcome:
        _check(docs)
        feats = features if features is not None else self.features(docs)
        if len(feats) != len(docs):
            raise ValueError("features do not match the documents")
        n = len(docs)
        res = [
            DedupResult(doc_id=d.doc_id,
                        url_key=(d.url_key if d.url_key is not None else url_key(d.url)) if self.cfg.url_dedup else None,
                        text_sha1=feats.text_sha1[i], n_shingles=feats.n_shingles(i),
                        signature=feats.signatures[i], band_keys=feats.band_keys[i])
            for i, d in enumerate(docs)
        ]
        order = sorted(range(n), key=lambda i: self._order_key(docs[i], docs[i].n_chars))
        b = _Batch(docs, feats, res, {d.doc_id: i for i, d in enumerate(docs)}, order,
                   {i: r for r, i in enumerate(order)}, [True] * n, defaultdict(int))
        self._url_step(b, store)
        self._exact_step(b, store)
        self._near_step(b, store)
        pcounts = self._paragraph_step(b, store)
        for r in res:
            b.stats[r.rule or r.status] += 1
        return BatchOutcome(res, self._index_rows(b), pcounts, dict(b.stats), b.merges, b.removed_paragraph_keys)

    # 1. URL --------------------------------------------------------------------------------
    def _url_step(self, b: _Batch, store: PriorStore) -> None:
        if not self.cfg.url_dedup:
            return
        docs, res = b.docs, b.res
        # a group-by on the URL key (the engine's: a shuffle on Ray); owners are input positions
        with_url = [i for i, r in enumerate(res) if r.url_key is not None]
        groups = self.group_by_key(np.array([res[i].url_key for i in with_url], dtype=np.int64),
                                   np.array(with_url, dtype=np.int64)) if len(with_url) >= 2 else []

        def fetched(i: int) -> float:
            return docs[i].fetched_at if docs[i].fetched_at is not None else -math.inf

        for group in groups:
            members = group.tolist()
            newest = min(members, key=lambda i: (-fetched(i), docs[i].doc_id))
            for i in members:
                if i != newest:
                    b.alive[i] = False
                    b.url_rep[i] = newest
                    _reject(res[i], RULE_URL, docs[newest].doc_id, None, None)
        ukeys = np.array(sorted({r.url_key for i, r in enumerate(res) if b.alive[i] and r.url_key is not None}),
                         dtype=np.int64)
        by_url: dict[int, IndexHit] = {}
        for h in store.lookup(KIND_URL, ukeys) if ukeys.size else []:
            cur = by_url.get(h.key)
            if cur is None or (h.batch_id, h.doc_id) > (cur.batch_id, cur.doc_id):
                by_url[h.key] = h  # the latest earlier version
        for i, r in enumerate(res):
            if b.alive[i] and r.url_key in by_url:
                r.supersedes = by_url[r.url_key].doc_id

    # 2. Exact ------------------------------------------------------------------------------
    def _exact_step(self, b: _Batch, store: PriorStore) -> None:
        res = b.res
        skeys = np.array(sorted({sha1_key(r.text_sha1) for i, r in enumerate(res) if b.alive[i]}), dtype=np.int64)
        prior_sha: dict[int, IndexHit] = {}
        for h in store.lookup(KIND_SHA1, skeys) if skeys.size else []:
            cur = prior_sha.get(h.key)
            if cur is None or (h.batch_id, h.doc_id) < (cur.batch_id, cur.doc_id):
                prior_sha[h.key] = h  # the earliest earlier copy
        resolved = _resolver(store, [h.cluster_id for h in prior_sha.values()]) if prior_sha else {}
        # copies inside the batch: a group-by on the SHA-1 key (the engine's), owners in rank order;
        # the first of each full SHA-1 in a group is the original, the later ones its exact copies
        live = [i for i in b.order if b.alive[i]]
        copy_of: dict[int, int] = {}
        groups = self.group_by_key(np.array([sha1_key(res[i].text_sha1) for i in live], dtype=np.int64),
                                   np.array([b.rank[i] for i in live], dtype=np.int64)) if len(live) >= 2 else []
        for group in groups:
            firsts: dict[str, int] = {}
            for rk in group.tolist():
                i = b.order[rk]
                j = firsts.setdefault(res[i].text_sha1, i)
                if j != i:
                    copy_of[i] = j
        for i in live:
            r = res[i]
            h = prior_sha.get(sha1_key(r.text_sha1))
            if h is not None:
                b.alive[i] = False
                r.cluster_id = resolved.get(h.cluster_id, ClusterState(h.cluster_id, h.cluster_id, "")).cluster_id
                _reject(r, RULE_EXACT, h.doc_id, 1.0, None)
                continue
            j = copy_of.get(i)
            if j is not None:
                b.alive[i] = False
                b.exact_of[i] = j
                _reject(r, RULE_EXACT, b.docs[j].doc_id, 1.0, None)
                continue
            b.primaries.append(i)

    # 3. Near -------------------------------------------------------------------------------
    def _near_step(self, b: _Batch, store: PriorStore) -> None:
        cfg = self.cfg
        nonempty = [i for i in b.primaries if b.feats.n_shingles(i)]
        prior = _Prior()
        edges: dict[tuple[str, str], tuple[float, str]] = {}
        pending = _PendingPairs(edges)
        if nonempty:
            anchors = {i: anchors_of(b.feats.shingles_of(i), cfg.anchor_rate) for i in nonempty} \
                if cfg.containment else {}
            pairs = self._batch_pairs(b, nonempty, anchors)
            prior_pairs = self._prior_pairs(b, nonempty, anchors, store, prior)
            pending = self._verify(b, pairs, prior_pairs, store, prior, edges)
        self._assign_clusters(b, edges, store, prior, pending)
        b.stats["pairs_verified"] = pending.checked
        b.stats["verified_edges"] = len(edges)

    def _batch_pairs(self, b: _Batch, idx: list[int], anchors: dict[int, np.ndarray]) -> list[tuple[int, int, str]]:
        """In-batch candidate pairs (positions, rank order) with their source: band or anchor."""
        cfg = self.cfg
        ranks = np.array([b.rank[i] for i in idx], dtype=np.int64)
        by_rank = {b.rank[i]: i for i in idx}
        out: dict[tuple[int, int], str] = {}
        bands = band_table(ranks, b.feats.band_keys[idx])
        pairs = band_pairs_grouped(bands, cfg.max_bucket, self.group_by_key) if self.shuffle_band_keys else \
            band_pairs(bands, cfg.max_bucket)
        for a, c in pairs.tolist():
            out[(by_rank[a], by_rank[c])] = KIND_BAND
        b.stats["lsh_pairs_in_batch"] = len(out)
        if anchors:
            got = anchor_pairs(anchor_table(ranks, [anchors[i] for i in idx]), cfg.anchor_min_shared, cfg.max_bucket,
                               self._anchor_share)
            for a, c in got.tolist():
                out.setdefault((by_rank[a], by_rank[c]), KIND_ANCHOR)
            b.stats["anchor_pairs_in_batch"] = int(got.shape[0])
        return [(a, c, k) for (a, c), k in sorted(out.items(), key=lambda t: (b.rank[t[0][0]], b.rank[t[0][1]]))]

    def _prior_pairs(self, b: _Batch, idx: list[int], anchors: dict[int, np.ndarray], store: PriorStore,
                     prior: _Prior) -> dict[int, dict[str, str]]:
        """position -> {earlier doc_id: band|anchor} for earlier documents sharing keys with it."""
        cfg = self.cfg
        out: dict[int, dict[str, str]] = defaultdict(dict)
        sub = b.feats.band_keys[idx]
        hits = store.lookup(KIND_BAND, sorted_unique(sub.ravel()))
        if hits:
            key_docs = _key_positions(sub, idx, hits)
            for h in hits:
                prior.hits.setdefault(h.doc_id, h)
                for i in key_docs.get(h.key, ()):
                    if b.res[i].supersedes != h.doc_id:
                        out[i][h.doc_id] = KIND_BAND
        if anchors:
            flat = sorted_unique(np.concatenate([anchors[i] for i in idx])) if idx else np.empty(0, np.int64)
            ahits = store.lookup(KIND_ANCHOR, flat) if flat.size else []
            per_key: dict[int, list[IndexHit]] = defaultdict(list)
            for h in ahits:
                per_key[h.key].append(h)
            shared: dict[tuple[int, str], int] = defaultdict(int)
            # only the anchors that hit (searched in the sorted hit keys), not every anchor in Python
            hit_keys = np.array(sorted(k for k, hs in per_key.items() if len(hs) <= cfg.max_bucket), dtype=np.int64)
            for i in idx if hit_keys.size else ():
                a = anchors[i]
                at = np.minimum(np.searchsorted(hit_keys, a), hit_keys.size - 1)
                for k in a[hit_keys[at] == a].tolist():
                    for h in per_key[k]:
                        shared[(i, h.doc_id)] += 1
                        prior.hits.setdefault(h.doc_id, h)
            n_prior = _anchor_counts(ahits)
            for (i, d), n in shared.items():
                small = min(anchors[i].size, n_prior.get(d, anchors[i].size))
                if n >= min(cfg.anchor_min_shared, small) and n >= self._anchor_share * small \
                        and b.res[i].supersedes != d:
                    out[i].setdefault(d, KIND_ANCHOR)
        b.stats["prior_candidates"] = len({d for m in out.values() for d in m})
        return out

    def _verify(self, b: _Batch, pairs: list[tuple[int, int, str]], prior_pairs: dict[int, dict[str, str]],
                store: PriorStore, prior: _Prior,
                edges: dict[tuple[str, str], tuple[float, str]]) -> _PendingPairs:
        """Verified edges (doc_id, doc_id) -> (similarity, match) into `edges`, for every pair with an
        earlier document and every in-batch pair touching a batch document linked to one; the other
        in-batch pairs are returned unverified (`_PendingPairs`): star clustering needs only the
        pairs of a representative, and most in-batch pairs of a family of copies join two members
        (`_assign_clusters` verifies the ones it needs, `_PendingPairs` says why that is the same)."""
        cfg, feats, docs = self.cfg, b.feats, b.docs
        lo = cfg.threshold - cfg.prefilter_margin if cfg.verify == "exact" else cfg.threshold
        sigs = feats.signatures
        width = self.sig_cfg.num_bands * self.sig_cfg.rows_per_band

        def est(x: np.ndarray, y: np.ndarray) -> float:
            return float(np.count_nonzero(x[:width] == y[:width])) / width

        cache: dict[int, DocShingles] = {}

        def shingles(i: int) -> DocShingles:
            d = cache.get(i)
            if d is None:
                d = cache[i] = DocShingles.of_sequence(feats.sequence_of(i), feats.shingles_of(i))
            return d

        pending = _PendingPairs(edges)

        def check(a: int, c: int) -> None:
            pending.checked += 1
            v = verify_docs(shingles(a), shingles(c), self.verify_cfg)
            if v.match == MATCH_CONTAINED and feats.n_shingles(a) > feats.n_shingles(c):
                edges[(docs[c].doc_id, docs[a].doc_id)] = (v.similarity, v.match)  # (contained, container)
            elif v.match:
                edges[(docs[a].doc_id, docs[c].doc_id)] = (v.similarity, v.match)

        pending.check = check
        batch_pairs: list[tuple[int, int]] = []
        for a, c, kind in pairs:
            e = est(sigs[a], sigs[c])
            if kind == KIND_BAND and e < lo:
                continue
            if cfg.verify == "signature":
                if e >= cfg.threshold:
                    edges[(docs[a].doc_id, docs[c].doc_id)] = (e, "jaccard")
                continue
            batch_pairs.append((a, c))
        if prior_pairs:
            refs = sorted({(prior.hits[p].batch_id, p) for m in prior_pairs.values() for p in m})
            psig = store.signatures(refs)
            need: dict[int, list[str]] = {}
            for i, m in prior_pairs.items():
                ok = [p for p in sorted(m) if p in psig and (m[p] == KIND_ANCHOR or est(psig[p], sigs[i]) >= lo)]
                if ok:
                    need[i] = ok
            if cfg.verify == "signature":
                for i, ps in need.items():
                    for p in ps:
                        e = est(psig[p], sigs[i])
                        if e >= cfg.threshold:
                            edges[(p, docs[i].doc_id)] = (e, "jaccard")
            else:
                trefs = sorted({(prior.hits[p].batch_id, p) for ps in need.values() for p in ps})
                prior.texts.update(store.texts(trefs) if trefs else {})
                pdocs = {p: DocShingles.of_sequence(self._sequence(t, lg)) for p, (t, lg) in prior.texts.items()}
                b.stats["prior_texts_read"] = len(pdocs)
                for i, ps in need.items():
                    for p in ps:
                        if p in pdocs:
                            pending.checked += 1
                            v = verify_docs(pdocs[p], shingles(i), self.verify_cfg)
                            if v.match == MATCH_CONTAINED and pdocs[p].set.size > feats.n_shingles(i):
                                edges[(docs[i].doc_id, p)] = (v.similarity, v.match)  # (contained, container)
                            elif v.match:
                                edges[(p, docs[i].doc_id)] = (v.similarity, v.match)
        # batch documents with a Jaccard edge to an earlier document: all their pairs now (part A
        # of `_assign_clusters` reads their in-batch edges); the rest on demand
        linked = {d for (x, y), (_, m) in edges.items() if m != MATCH_CONTAINED and (x in b.pos) != (y in b.pos)
                  for d in (x, y) if d in b.pos}
        for a, c in batch_pairs:
            if docs[a].doc_id in linked or docs[c].doc_id in linked:
                check(a, c)
            else:
                pending.add(a, c, docs[a].doc_id, docs[c].doc_id,
                            c if feats.n_shingles(a) > feats.n_shingles(c) else a)
        return pending

    def _assign_clusters(self, b: _Batch, edges: dict[tuple[str, str], tuple[float, str]], store: PriorStore,
                         prior: _Prior, pending: _PendingPairs) -> None:
        """Clusters from verified edges, each member verified against its representative (star
        clustering), never by chains: with union-find, A ~ B ~ C puts A and C in one cluster however
        different they are, and one chain through pages that share a long block (a site template,
        a common appendix) can merge hundreds of unrelated pages and drop their text.

        A. A batch document with a verified Jaccard edge to an earlier representative joins that
           cluster; one linked to several earlier clusters merges them (recorded, `dedup_merges`).
        B. The other batch documents, in representative order: the first one left is a
           representative, and every document left with a verified edge to it joins its cluster.
           The pending pairs of a representative with documents left are verified here.
        Containment edges (contained, container) are applied afterwards (`_contained`); the pending
        pairs whose smaller page is a representative are verified for them first.
        """
        docs, res, pos, rank = b.docs, b.res, b.pos, b.rank
        jac = {k: v for k, v in edges.items() if v[1] != MATCH_CONTAINED}
        inside = {k: v for k, v in edges.items() if v[1] == MATCH_CONTAINED}
        neighbours: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
        for (x, y), (s, m) in jac.items():
            neighbours[x].append((y, s, m))
            neighbours[y].append((x, s, m))
        # A. batch documents verified against earlier representatives
        uf = UnionFind()
        for x, y in jac:
            if (x in pos) != (y in pos):
                uf.union(x, y)
        for p in {d for k in inside for d in k if d not in pos}:
            uf.add(p)
        linked_prior = [p for p in prior.hits if p in uf._parent]
        states = _resolver(store, sorted({prior.hits[p].cluster_id for p in linked_prior})) if linked_prior else {}
        assigned: set[str] = set()
        for members in uf.components().values():
            batch_members = sorted((m for m in members if m in pos), key=lambda m: rank[pos[m]])
            priors_in = [m for m in members if m not in pos]
            if not batch_members or not priors_in:
                continue
            best = batch_members[0]
            clusters: dict[str, ClusterState] = {}
            for p in priors_in:
                h = prior.hits[p]
                st = states.get(h.cluster_id, ClusterState(h.cluster_id, h.cluster_id, h.batch_id))
                clusters.setdefault(st.cluster_id, st)
            winner = min(clusters.values(), key=lambda s: self._prior_rank(s, prior, store))
            cluster, rep_id = winner.cluster_id, winner.representative
            if self._batch_beats(b, pos[best], winner, prior, store):
                rep_id = best
            for st in sorted(clusters.values(), key=lambda s: s.cluster_id):
                if st.cluster_id == cluster and rep_id == st.representative:
                    continue
                via, other, s, m = _link_of(st, members, neighbours, pos, prior, states)
                b.merges.append(ClusterMerge(
                    cluster_id=st.cluster_id, into_cluster_id=cluster, old_representative=st.representative,
                    new_representative=rep_id, via_doc_id=via, linked_to=other, similarity=s, match=m,
                    reason=MERGE_LINKED if st.cluster_id != cluster else MERGE_REPRESENTATIVE,
                    representative_rule=self.cfg.representative,
                    new_representative_batch="" if rep_id == best else winner.rep_batch))
            for m in batch_members:
                assigned.add(m)
                r = res[pos[m]]
                r.cluster_id = cluster
                if m == rep_id:
                    r.is_representative = True
                    continue
                b.alive[pos[m]] = False
                nb = _best_neighbour(m, rep_id, [t for t in neighbours[m] if t[0] not in pos or t[0] == rep_id], pos, rank)
                _reject(r, RULE_NEAR, nb[0], nb[1], self.cfg.threshold)
                r.match = nb[2]
        # B. stars among the rest, in representative order
        for i in b.order:
            rep_id = docs[i].doc_id
            if rep_id in assigned or not b.alive[i]:
                continue
            assigned.add(rep_id)
            res[i].cluster_id = rep_id
            res[i].is_representative = True
            n_edges = len(edges)
            pending.verify_of(rep_id, lambda d: d not in assigned)
            _add_edges(edges, n_edges, neighbours, inside)
            for other, s, m in sorted(neighbours[rep_id], key=lambda t: rank.get(pos.get(t[0], -1), -1)):
                if other not in pos or other in assigned:
                    continue
                assigned.add(other)
                r = res[pos[other]]
                r.cluster_id = rep_id
                b.alive[pos[other]] = False
                _reject(r, RULE_NEAR, rep_id, s, self.cfg.threshold)
                r.match = m
        n_edges = len(edges)
        pending.verify_contained(lambda d: res[pos[d]].is_representative)
        _add_edges(edges, n_edges, neighbours, inside)
        self._contained(b, inside, prior, states)
        # exact copies and URL duplicates join the cluster of the document they copy
        for i, j in b.exact_of.items():
            res[i].cluster_id = res[j].cluster_id
        for i, j in b.url_rep.items():
            res[i].cluster_id = res[j].cluster_id or docs[j].doc_id
        for r in res:
            if not r.cluster_id:  # defensive: every document belongs to a cluster
                r.cluster_id = r.doc_id
                r.is_representative = True
            if r.rule is None and r.status == "kept":
                r.threshold = self.cfg.threshold
        # cluster sizes as of this batch: earlier members (of every cluster merged in) + this batch's
        in_batch: dict[str, int] = defaultdict(int)
        for r in res:
            in_batch[r.cluster_id] += 1
        parts: dict[str, set[str]] = defaultdict(set)
        for c in in_batch:
            if c not in pos:
                parts[c].add(c)
        for mg in b.merges:
            parts[mg.into_cluster_id].add(mg.cluster_id)
        for old, st in states.items():
            if st.cluster_id in parts:
                parts[st.cluster_id].add(old)
        earlier = store.cluster_sizes(sorted({c for s in parts.values() for c in s}))
        for r in res:
            r.cluster_size = in_batch[r.cluster_id] + sum(earlier.get(c, 0) for c in parts.get(r.cluster_id, ()))

    def _contained(self, b: _Batch, inside: dict[tuple[str, str], tuple[float, str]], prior: _Prior,
                   states: dict[str, ClusterState]) -> None:
        """Apply containment edges (contained, container) after the Jaccard clusters are set.

        A page inside a longer one adds nothing to it, while dropping the container would lose text,
        so here the container always wins, whatever the representative rule:
        - a batch page that represents a cluster of this batch (alone, or with its near duplicates)
          and is inside another page becomes a near_duplicate (match containment) of its best
          container, and its cluster joins the container's cluster;
        - an earlier representative inside a page of this batch loses its place: its cluster is
          recorded as merged into the container's cluster (reason `contained`), and the mixer drops it.
        Containers are handled largest first, so a page inside a page inside a third lands in the
        third's cluster. A page inside two pages never joins the two.
        """
        if not inside:
            return
        res, pos, rank = b.res, b.pos, b.rank
        by_small: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for (small, big), (s, _) in inside.items():
            by_small[small].append((big, s))

        def cluster_of(d: str) -> ClusterState:
            if d in pos:
                r = res[pos[d]]
                return ClusterState(r.cluster_id, r.doc_id if r.is_representative else self._rep_of(b, r.cluster_id, states),
                                    "")
            h = prior.hits[d]
            return states.get(h.cluster_id, ClusterState(h.cluster_id, h.cluster_id, h.batch_id))

        def size(d: str) -> int:
            return b.feats.n_shingles(pos[d]) if d in pos else 0

        for small in sorted(by_small, key=lambda d: (-size(d), d)):
            bigs = sorted(by_small[small], key=lambda t: (-t[1], t[0] not in pos, rank.get(pos.get(t[0], -1), -1), t[0]))
            big, sim = bigs[0]
            target = cluster_of(big)
            if small in pos:
                r = res[pos[small]]
                if not r.is_representative or r.cluster_id != small or r.cluster_id == target.cluster_id:
                    continue  # a near duplicate already, or the representative of an earlier cluster
                for o in b.res:  # the page's own cluster (its near duplicates) moves with it
                    if o.cluster_id == small:
                        o.cluster_id = target.cluster_id
                b.alive[pos[small]] = False
                _reject(r, RULE_NEAR, big, sim, self.cfg.containment_threshold)
                r.match = MATCH_CONTAINED
                continue
            st = cluster_of(small)
            if st.representative != small or st.cluster_id == target.cluster_id or big not in pos:
                continue  # only a current earlier representative inside a page of this batch
            b.merges.append(ClusterMerge(
                cluster_id=st.cluster_id, into_cluster_id=target.cluster_id, old_representative=small,
                new_representative=target.representative, via_doc_id=big, linked_to=small, similarity=sim,
                match=MATCH_CONTAINED, reason=MERGE_CONTAINED, representative_rule=self.cfg.representative,
                new_representative_batch="" if target.representative in pos else target.rep_batch))

    @staticmethod
    def _rep_of(b: _Batch, cluster_id: str, states: dict[str, ClusterState]) -> str:
        """The representative of a cluster this batch assigned: a batch representative in it, or the
        earlier representative."""
        for r in b.res:
            if r.cluster_id == cluster_id and r.is_representative:
                return r.doc_id
        st = states.get(cluster_id)
        return st.representative if st else cluster_id

    def _prior_rank(self, st: ClusterState, prior: _Prior, store: PriorStore) -> tuple:
        """Order of earlier clusters by the representative rule (smallest wins)."""
        rule = self.cfg.representative
        if rule == "longest":
            return (-self._prior_length(st.representative, prior, store), st.rep_batch, st.representative)
        if rule == "newest":
            return (_neg(st.rep_batch), _neg(st.representative))
        return (st.rep_batch, st.representative)

    def _prior_length(self, doc_id: str, prior: _Prior, store: PriorStore) -> int:
        if doc_id not in prior.texts:
            h = prior.hits.get(doc_id)
            batch = h.batch_id if h else ""
            prior.texts.update(store.texts([(batch, doc_id)]) if batch else {})
        return len(prior.texts.get(doc_id, ("", ""))[0])

    def _batch_beats(self, b: _Batch, i: int, winner: ClusterState, prior: _Prior, store: PriorStore) -> bool:
        """Whether the batch's best member replaces the earlier representative under the rule."""
        rule = self.cfg.representative
        if rule == "newest":
            return True  # a later batch is newer
        if rule == "longest":
            return b.docs[i].n_chars > self._prior_length(winner.representative, prior, store)
        return False

    # 4. Paragraphs -------------------------------------------------------------------------
    def _paragraph_step(self, b: _Batch, store: PriorStore) -> dict[int, int]:
        cfg = self.cfg
        if not cfg.paragraph_dedup:
            return {}
        kept = [i for i in range(len(b.docs)) if b.alive[i]]
        splits = {i: b.docs[i].paragraphs if b.docs[i].paragraphs is not None else
                  para.split_paragraphs(b.docs[i].text, cfg.paragraph_min_chars) for i in kept}
        pcounts = dict(para.batch_counts(splits.values()))
        prior_counts = store.paragraph_counts(para.keys_array(pcounts)) if pcounts else {}
        total = {k: c + prior_counts.get(k, 0) for k, c in pcounts.items()}
        b.removed_paragraph_keys = sorted(k for k, c in total.items() if c >= cfg.paragraph_min_docs)
        for i in kept:
            p = splits[i]
            r = b.res[i]
            r.paragraph_keys = sorted({k for k in p.keys if k is not None})
            # the text after removal when this process has it; else the worker writing the row makes it
            o = para.decide(p, total, cfg.paragraph_min_docs, cfg.paragraph_min_doc_chars) \
                if isinstance(p, para.ParagraphShape) else \
                para.apply(p, total, cfg.paragraph_min_docs, cfg.paragraph_min_doc_chars)
            r.n_paragraphs, r.paragraphs_removed, r.chars_removed = o.n_paragraphs, o.n_removed, o.chars_removed
            if o.n_removed:
                r.dedup_text = o.text
            if o.rule:
                r.status, r.rule, r.value, r.threshold = "rejected", o.rule, o.value, o.threshold
                r.similarity = None
        return pcounts

    # what this batch adds to the index -----------------------------------------------------
    def _index_rows(self, b: _Batch) -> IndexRows:
        rows = IndexRows()
        seen_sha: set[str] = set()
        for i in b.order:
            r = b.res[i]
            if r.rule == RULE_URL:
                continue
            if r.url_key is not None:
                rows.add(KIND_URL, r.url_key, r.doc_id, r.cluster_id)
            if r.rule != RULE_EXACT and r.text_sha1 not in seen_sha:
                seen_sha.add(r.text_sha1)
                rows.add(KIND_SHA1, sha1_key(r.text_sha1), r.doc_id, r.cluster_id)
            if is_indexed(r) and b.feats.n_shingles(i):
                rows.add_many(KIND_BAND, r.band_keys.tolist(), r.doc_id, r.cluster_id)
                if self.cfg.containment:
                    a = anchors_of(b.feats.shingles_of(i), self.cfg.anchor_rate)
                    rows.add_many(KIND_ANCHOR, a.tolist(), r.doc_id, r.cluster_id)
        return rows


class _PendingPairs:
    """In-batch candidate pairs not verified yet, and the verifier that decides one into `edges`.

    Why deferring changes nothing: star clustering (part B of `_assign_clusters`) reads an in-batch
    Jaccard edge only between a representative and a document not assigned yet, and `_contained`
    reads a containment edge (contained, container) only when the contained page is a
    representative. So a pair is verified when its representative is reached with the other
    document still unassigned (`verify_of`), or after part B when its smaller page is a
    representative (`verify_contained`); every other pair joins two members of clusters and its
    verdict is never read. Verification of a family of k copies drops from k(k-1)/2 pairs to ~k.
    """

    def __init__(self, edges: dict[tuple[str, str], tuple[float, str]]) -> None:
        self.edges = edges
        self.check: Callable[[int, int], None] = lambda a, c: None
        self.checked = 0
        self._by_doc: dict[str, dict[tuple[int, int], str]] = defaultdict(dict)  # doc -> {(a, c): other doc}
        self._small: dict[tuple[int, int], str] = {}

    def add(self, a: int, c: int, a_id: str, c_id: str, smaller: int) -> None:
        self._by_doc[a_id][(a, c)] = c_id
        self._by_doc[c_id][(a, c)] = a_id
        self._small[(a, c)] = a_id if smaller == a else c_id

    def _run(self, pair: tuple[int, int], a_id: str, c_id: str) -> None:
        self._by_doc[a_id].pop(pair, None)
        self._by_doc[c_id].pop(pair, None)
        self._small.pop(pair, None)
        self.check(*pair)

    def verify_of(self, doc_id: str, wanted: Callable[[str], bool]) -> None:
        """Verify `doc_id`'s pending pairs with the documents `wanted` says are still open."""
        for pair, other in sorted(self._by_doc.get(doc_id, {}).items()):
            if wanted(other):
                self._run(pair, doc_id, other)

    def verify_contained(self, is_rep: Callable[[str], bool]) -> None:
        """Verify the pending pairs whose smaller page `is_rep` (the only containment edges read)."""
        for pair, small in sorted(self._small.items()):
            if is_rep(small):
                other = self._by_doc[small][pair]
                self._run(pair, small, other)


def _add_edges(edges: dict[tuple[str, str], tuple[float, str]], since: int,
               neighbours: dict[str, list[tuple[str, float, str]]],
               inside: dict[tuple[str, str], tuple[float, str]]) -> None:
    """Index the edges added to `edges` after its first `since` (a pair is verified once, so new
    edges are new keys, and dicts keep insertion order) into `neighbours` (Jaccard) or `inside`."""
    for (x, y), (sim, m) in islice(reversed(edges.items()), len(edges) - since):
        if m == MATCH_CONTAINED:
            inside[(x, y)] = (sim, m)
        else:
            neighbours[x].append((y, sim, m))
            neighbours[y].append((x, sim, m))


def is_indexed(r: DedupResult) -> bool:
    """Whether a document's band keys and anchors go to the index, for later batches to match:
    representatives, and pages found inside a longer page (their copies in later batches then
    find the container's cluster through them; the container alone would not match a copy)."""
    return r.is_representative or (r.rule == RULE_NEAR and r.match == MATCH_CONTAINED)


def with_batch(m: ClusterMerge, batch_id: str) -> ClusterMerge:
    """`m` with its new representative's batch filled in (a representative from the batch that
    recorded the merge has "" until the batch id is known, i.e. when it is written)."""
    from dataclasses import replace

    return m if m.new_representative_batch else replace(m, new_representative_batch=batch_id)


def _neg(s: str) -> tuple:
    """A key that sorts strings in reverse order."""
    return tuple(-ord(c) for c in s) + (1,)


def _resolver(store: PriorStore, cluster_ids: list[str]) -> dict[str, ClusterState]:
    """Earlier cluster ids -> current state, through the store's merge records."""
    merged = resolve_clusters(store.merges()) if cluster_ids else {}
    return {c: merged[c] for c in cluster_ids if c in merged}


def _anchor_counts(hits: list[IndexHit]) -> dict[str, int]:
    """Lower bound of each earlier document's anchor count: the anchors of it that were hit (its
    full count is not stored; a hit-only count can only make the share test easier to pass)."""
    out: dict[str, int] = defaultdict(int)
    for h in hits:
        out[h.doc_id] += 1
    return out


def _key_positions(sub: np.ndarray, idx: list[int], hits: list[IndexHit]) -> dict[int, list[int]]:
    """band key -> batch positions having it, for the keys that hit the index."""
    key_docs: dict[int, list[int]] = defaultdict(list)
    hit_keys = sorted_unique(np.fromiter((h.key for h in hits), dtype=np.int64, count=len(hits)))
    rows_i, cols_j = np.nonzero(np.isin(sub, hit_keys))
    for r_i, c_j in zip(rows_i.tolist(), cols_j.tolist(), strict=True):
        key_docs[int(sub[r_i, c_j])].append(idx[r_i])
    return key_docs


def _link_of(st: ClusterState, members: list[str], neighbours, pos, prior: _Prior,
             states: dict[str, ClusterState]) -> tuple[str, str, float, str]:
    """(batch document, earlier document, similarity, match) of the verified edge that tied cluster
    `st` into this component: the best edge between a batch document and a member of `st`."""
    best = None
    for m in members:
        if m in pos:
            continue
        h = prior.hits[m]
        if states.get(h.cluster_id, ClusterState(h.cluster_id, h.cluster_id, "")).cluster_id != st.cluster_id:
            continue
        for other, s, match in neighbours[m]:
            if other in pos and (best is None or s > best[2]):
                best = (other, m, s, match)
    return best if best is not None else ("", "", 0.0, "")


def _best_neighbour(m: str, rep_id: str, nbrs: list[tuple[str, float, str]], pos: dict[str, int],
                    rank: dict[int, int]) -> tuple[str, float, str]:
    """The verified neighbour to report as `duplicate_of`: the representative if linked directly,
    else the most similar neighbour (earlier documents first on ties)."""
    for other, s, match in nbrs:
        if other == rep_id:
            return other, s, match

    def key(t: tuple[str, float, str]) -> tuple:
        o, s, _ = t
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
        self._merges: list[tuple[str, ClusterMerge]] = []

    def begin(self, batch_id: str) -> MemoryPriorStore:
        self.current = batch_id
        return self

    def commit(self, batch_id: str, docs: Sequence[DedupInput], out: BatchOutcome, keep_texts: bool = True) -> None:
        for d, r in zip(docs, out.results, strict=True):
            self._batch_of[r.doc_id] = batch_id
            self._clusters[r.cluster_id].append(batch_id)
            if is_indexed(r):
                self._sigs[r.doc_id] = r.signature
                if keep_texts:
                    self._texts[r.doc_id] = (d.text, d.lang)
        rows = out.index_rows
        for kind, key, doc, cl in zip(rows.kinds, rows.keys, rows.doc_ids, rows.cluster_ids, strict=True):
            self._index[(kind, key)].append(IndexHit(kind, key, doc, cl, batch_id))
        for k, c in out.paragraph_counts.items():
            self._paras[k].append((batch_id, c))
        self._merges.extend((batch_id, with_batch(m, batch_id)) for m in out.merges)

    def lookup(self, kind: str, keys: np.ndarray) -> list[IndexHit]:
        if not self._index:
            return []
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

    def merges(self) -> list[ClusterMerge]:
        return [m for b, m in sorted(self._merges, key=lambda t: t[0]) if b < self.current]
