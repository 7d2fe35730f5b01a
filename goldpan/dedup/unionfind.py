"""Union-find (disjoint sets) over string node ids: near-duplicate clusters are its components.

Why union-find and not stars: FineWeb/datatrove cluster MinHash matches as connected components, so
a page that matches a copy of a page (but not the page itself) still lands in the same cluster. Path
halving + union by size keeps every operation near O(1); the structure lives for one batch only,
so memory is bounded by the batch plus the prior documents it touched.
"""

from __future__ import annotations


class UnionFind:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._size: dict[str, int] = {}

    def add(self, x: str) -> None:
        if x not in self._parent:
            self._parent[x] = x
            self._size[x] = 1

    def find(self, x: str) -> str:
        self.add(x)
        p = self._parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]

    def components(self) -> dict[str, list[str]]:
        """root -> members (in insertion order of the members)."""
        out: dict[str, list[str]] = {}
        for x in self._parent:
            out.setdefault(self.find(x), []).append(x)
        return out
