"""Set-level steps as a shuffle by key: group (key, owner) pairs, e.g. MinHash band keys -> documents.

LSH candidate pairs are the documents that share a band key: a group-by on the key. In one process
that is one numpy sort (`local_group_by_key`). On Ray it is the classic map/reduce shuffle
(`ray_group_by_key`): map tasks split their slice of pairs by `key mod P` into P parts (one Ray object
each), reduce task p gathers part p of every map task and groups it. Every key lands in exactly
one reduce task, so the union of their groups, ordered by key, is *exactly* the local result:
the engines give the same candidate pairs, hence the same clusters.

A group is the sorted owners (document ranks) sharing one key, kept only when it has >= 2 entries.
"""

from __future__ import annotations

import numpy as np


def local_group_by_key(keys: np.ndarray, owners: np.ndarray) -> list[np.ndarray]:
    """Owners of every key held by >= 2 entries, sorted, groups in ascending key order."""
    keys = np.asarray(keys, dtype=np.int64)
    owners = np.asarray(owners, dtype=np.int64)
    return _sorted_groups(keys, owners)[1]


def _sorted_groups(keys: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    if keys.size < 2:
        return np.empty(0, np.int64), []
    order = np.lexsort((owners, keys))
    ks, ow = keys[order], owners[order]
    cut = np.flatnonzero(np.diff(ks)) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [ks.size]))
    big = np.flatnonzero(ends - starts >= 2)
    return ks[starts[big]], [ow[starts[g] : ends[g]] for g in big.tolist()]


def _partition(keys: np.ndarray, owners: np.ndarray, parts: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Map side: split pairs by `key mod parts` (keys are hashes: the split is even)."""
    dest = (keys.view(np.uint64) % np.uint64(parts)).astype(np.int64)
    return [(keys[dest == p], owners[dest == p]) for p in range(parts)]


def _whole(keys: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map side with one partition (a Ray task with one return cannot return a list of one)."""
    return keys, owners


def _reduce(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduce side: group one partition; returns (group keys, offsets, concatenated owners)."""
    keys = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    owners = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
    gk, groups = _sorted_groups(keys, owners)
    offsets = np.cumsum([0] + [g.size for g in groups]).astype(np.int64)
    flat = np.concatenate(groups) if groups else np.empty(0, np.int64)
    return gk, offsets, flat


def ray_group_by_key(keys: np.ndarray, owners: np.ndarray, partitions: int, map_tasks: int | None = None
                     ) -> list[np.ndarray]:
    """`local_group_by_key` as Ray map and reduce tasks over `partitions` reduce partitions."""
    import ray

    keys = np.asarray(keys, dtype=np.int64)
    owners = np.asarray(owners, dtype=np.int64)
    if keys.size < 2:
        return []
    parts = max(1, int(partitions))
    m = max(1, min(int(map_tasks or parts), keys.size))
    mapper = ray.remote(_partition).options(num_returns=parts, max_retries=3) if parts > 1 else \
        ray.remote(_whole).options(max_retries=3)
    reducer = ray.remote(_reduce).options(max_retries=3)
    bounds = np.linspace(0, keys.size, m + 1).astype(int)
    mapped = []
    for i in range(m):
        sl = slice(bounds[i], bounds[i + 1])
        refs = mapper.remote(keys[sl], owners[sl], parts) if parts > 1 else mapper.remote(keys[sl], owners[sl])
        mapped.append(refs if parts > 1 else [refs])
    reduced = ray.get([reducer.remote(*[mapped[i][p] for i in range(m)]) for p in range(parts)])
    # Every key is in exactly one partition: order the groups by key, as the local sort does.
    all_keys = np.concatenate([r[0] for r in reduced])
    groups = [flat[offs[j] : offs[j + 1]] for _, offs, flat in reduced for j in range(offs.size - 1)]
    return [groups[i] for i in np.argsort(all_keys, kind="stable").tolist()]
