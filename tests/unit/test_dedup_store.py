"""The Delta index store: lookups read only matching rows, and compaction does not change answers."""

import numpy as np

from goldpan.dedup.clusters import KIND_BAND, KIND_SHA1, KIND_URL, BatchOutcome, IndexRows
from goldpan.dedup.store import DeltaPriorStore, partition_file_counts, write_index
from goldpan.lake import Lake

CONFIG = "minhash-test"


def _outcome(b: int, n_docs: int = 40, bands: int = 6) -> BatchOutcome:
    rng = np.random.default_rng(b)
    rows = IndexRows()
    for d in range(n_docs):
        doc = f"d{b:02d}{d:03d}"
        cluster = doc if d % 5 else f"d00{d:03d}"  # some documents join an earlier cluster
        rows.add(KIND_URL, int(rng.integers(-(2**62), 2**62)), doc, cluster)
        rows.add(KIND_SHA1, int(rng.integers(-(2**62), 2**62)), doc, cluster)
        rows.add_many(KIND_BAND, rng.integers(-(2**62), 2**62, size=bands).tolist(), doc, doc)
    out = BatchOutcome.__new__(BatchOutcome)
    out.index_rows, out.paragraph_counts, out.merges = rows, {int(k): 1 for k in rng.integers(0, 2**40, size=10)}, []
    return out


def _expected(outs: dict[str, BatchOutcome], kind: str, keys: set[int], before: str) -> list[tuple]:
    rows = []
    for b, o in outs.items():
        r = o.index_rows
        for k, kd, d, c in zip(r.keys, r.kinds, r.doc_ids, r.cluster_ids, strict=True):
            if kd == kind and b < before and k in keys:
                rows.append((k, d, c, b))
    return sorted(rows, key=lambda x: (x[0], x[3], x[1]))


def test_lookup_matches_a_full_scan_and_compaction_keeps_answers(tmp_path) -> None:
    outs = {f"b{i:04d}": _outcome(i) for i in range(6)}
    lakes = {n: Lake(tmp_path / f"lake{n}") for n in (0, 2)}
    for b, o in outs.items():
        for n, lake in lakes.items():
            write_index(lake, b, CONFIG, o, compact_files=n)
    files = {n: sum(partition_file_counts(lake, "dedup_index").values()) for n, lake in lakes.items()}
    assert files[2] < files[0]  # compacted: at most 3 files per partition instead of 6
    assert max(partition_file_counts(lakes[2], "dedup_index").values()) <= 3
    rng = np.random.default_rng(99)
    for kind in (KIND_URL, KIND_SHA1, KIND_BAND):
        known = [k for o in outs.values() for k, kd in zip(o.index_rows.keys, o.index_rows.kinds, strict=True)
                 if kd == kind]
        probe = np.array(known[::7] + rng.integers(-(2**62), 2**62, size=200).tolist(), dtype=np.int64)
        for before in ("b0003", "b9999"):
            want = _expected(outs, kind, set(probe.tolist()), before)
            assert want  # the probe really hits earlier batches
            for lake in lakes.values():
                got = DeltaPriorStore(lake, before, CONFIG).lookup(kind, probe)
                assert [(h.key, h.doc_id, h.cluster_id, h.batch_id) for h in got] == want
    # Another minhash config never matches; the current batch and later ones are invisible.
    band = np.array(outs["b0001"].index_rows.keys[-6:], dtype=np.int64)
    assert DeltaPriorStore(lakes[2], "b9999", "other-config").lookup(KIND_BAND, band) == []
    assert DeltaPriorStore(lakes[2], "b0001", CONFIG).lookup(KIND_BAND, band) == []
    # Paragraph counts: summed over earlier batches only, the same with and without compaction.
    pkeys = np.array(sorted(outs["b0000"].paragraph_counts)[:5], dtype=np.int64)
    for lake in lakes.values():
        assert DeltaPriorStore(lake, "b9999", CONFIG).paragraph_counts(pkeys) == {int(k): 1 for k in pkeys}
        assert DeltaPriorStore(lake, "b0000", CONFIG).paragraph_counts(pkeys) == {}


def test_rewriting_a_batch_after_compaction_replaces_only_its_rows(tmp_path) -> None:
    lake = Lake(tmp_path / "lake")
    outs = {f"b{i:04d}": _outcome(i) for i in range(4)}
    for b, o in outs.items():
        write_index(lake, b, CONFIG, o, compact_files=2)
    write_index(lake, "b0001", CONFIG, outs["b0001"], compact_files=2)  # re-run of an old batch
    with lake.connect(tables=["dedup_index"]) as con:
        n = con.execute("SELECT batch_id, count(*) FROM dedup_index GROUP BY 1 ORDER BY 1").fetchall()
    assert n == [(b, len(o.index_rows)) for b, o in outs.items()]


def test_keyscan_reads_matching_rows_across_row_groups(tmp_path) -> None:
    """keyscan returns exactly the rows whose key is probed, from files with many row groups (the
    string columns are read for the matching groups only) and keys at group edges and extremes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from goldpan.dedup.keyscan import ProbeSet, matching_rows

    rng = np.random.default_rng(7)
    keys = rng.integers(-(2**63), 2**63 - 1, size=1000, dtype=np.int64)
    keys[:3] = [-(2**63), 2**63 - 1, 0]
    docs = [f"doc-{i}" for i in range(keys.size)]
    files = []
    for part in range(2):
        path = tmp_path / f"part-{part}.parquet"
        sl = slice(part * 500, (part + 1) * 500)
        pq.write_table(pa.table({"key": keys[sl], "doc_id": docs[sl]}), path, row_group_size=64)
        files.append(str(path))
    wanted = np.concatenate([keys[[0, 1, 2, 63, 64, 499, 500, 999]], rng.integers(0, 2**62, size=50)])
    got = sorted(matching_rows(files, ProbeSet(wanted), ["doc_id"]))
    expect = sorted((int(k), d) for k, d in zip(keys, docs, strict=True) if k in set(wanted.tolist()))
    assert got == expect and len(got) == 8
    assert list(matching_rows(files, ProbeSet(np.array([5], np.int64)), ["doc_id"])) == []
