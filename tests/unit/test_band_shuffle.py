"""MinHash band-key candidate pairs through an engine's group-by (a shuffle by band key on Ray) give
exactly the DuckDB self-join's pairs, star cap included, and so the same clusters (issue "Scale out")."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from goldpan.dedup import BatchDeduplicator, DedupInput, MemoryPriorStore
from goldpan.dedup.candidates import band_pairs, band_pairs_grouped
from goldpan.engine.shuffle import local_group_by_key
from goldpan.recipe import DedupSection
from tests.fixtures.dedup_texts import EN_BICYCLE, EN_GARDEN, ZH_RIVER, ZH_TEA, edit_scattered


def test_grouped_band_pairs_equal_the_self_join_with_repeated_keys_and_capped_buckets() -> None:
    rng = np.random.default_rng(11)
    ranks = rng.integers(0, 60, size=900).astype(np.int64)
    keys = rng.choice(rng.integers(-(2**63), 2**63 - 1, size=150, dtype=np.int64), size=900)  # many shared keys
    keys[:40] = 7  # one templated key held by many documents: the star cap applies
    t = pa.table({"rank": ranks, "key": keys})
    for cap in (1, 3, 50, 10_000):
        want = band_pairs(t, cap)
        got = band_pairs_grouped(t, cap, local_group_by_key)
        assert want.shape[0] > 0
        assert np.array_equal(got, want), cap
    empty = pa.table({"rank": pa.array([], pa.int64()), "key": pa.array([], pa.int64())})
    assert band_pairs_grouped(empty, 5, local_group_by_key).shape == (0, 2)
    # owners too wide to pack a pair into one int64 take the row-wise unique: the same pairs
    wide = pa.table({"rank": ranks + 2**40, "key": keys})
    assert np.array_equal(band_pairs_grouped(wide, 3, local_group_by_key), band_pairs(wide, 3))


def test_dedup_with_band_keys_grouped_by_the_engine_gives_the_same_clusters() -> None:
    texts = [EN_GARDEN, edit_scattered(EN_GARDEN, 0.05, seed=1), edit_scattered(EN_GARDEN, 0.08, seed=2), EN_BICYCLE,
             edit_scattered(EN_BICYCLE, 0.04, seed=3), ZH_TEA, ZH_TEA.replace("茶园", "茶山"), ZH_RIVER]
    docs = [DedupInput(f"d{i}", t, "zh" if i >= 5 else "en", None, float(i)) for i, t in enumerate(texts)]
    outs = []
    for shuffle in (False, True):
        dd = BatchDeduplicator(DedupSection(paragraph_dedup=False), group_by_key=local_group_by_key,
                               shuffle_band_keys=shuffle)
        out = dd.run(docs, MemoryPriorStore().begin("b1"))
        outs.append([(r.doc_id, r.status, r.cluster_id, r.duplicate_of, r.rule) for r in out.results])
    assert outs[0] == outs[1]
    assert sum(1 for r in outs[0] if r[1] != "kept") >= 3  # near copies in English and Chinese were found
