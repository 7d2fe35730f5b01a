"""Most frequent and repeated token n-grams of one document, found by hashing the joined text in numpy.

Why: the Gopher repetition statistics need, for n = 2..4, the most frequent n-gram and, for n = 5..10,
the characters in repeated n-grams, where an n-gram is the n tokens *joined as a string* (with " ", or
with "" as datatrove does for the duplicate n-grams; "" is not injective: "ab"+"c" == "a"+"bc"). Building
every n-gram string of every size is most of the signal pass's cost on long pages (tens of thousands of
strings per document). Here each n-gram gets a 64-bit polynomial hash of its characters, computed for
all positions at once from prefix sums over the joined string (arithmetic modulo 2^64, which numpy's
uint64 does natively), and strings are built only where the hash says a repeat is possible.

Exact by construction: equal strings always have equal hashes, so "the hash occurs once" proves "the
string occurs once". Every decision that needs string equality (which repeat is seen first, which
n-gram is the most frequent) is taken on the real strings of the positions the hash could not rule
out; a hash collision costs a few extra string comparisons, never a different result.
`goldpan.filter.signals_reference` keeps the string-building definitions; tests compare the two.
"""

from __future__ import annotations

import numpy as np

# An odd base is invertible modulo 2^64, which lets a substring's hash be read off prefix sums:
# hash(s[a:b]) = B^a * (Q[b] - Q[a]) with Q[k] = sum_{t<k} s[t] * B^-t, i.e. sum s[a+i] * B^-i.
_BASE = 0x9E3779B97F4A7C15  # odd (2^64 / golden ratio)
_BASE_INV = pow(_BASE, -1, 1 << 64)
_LENGTH_MIX = np.uint64(0xBF58476D1CE4E5B9)
# Powers kept between documents up to this many characters (2 x 8 MB); longer texts compute their own.
_KEEP_POWERS = 1 << 20


class _Powers:
    """B^t and B^-t modulo 2^64 for t < len, grown on demand and shared by every document."""

    def __init__(self) -> None:
        self.pow = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > _KEEP_POWERS:  # a huge document: its powers are not kept for the next one (memory)
            return _powers_of(_BASE, n), _powers_of(_BASE_INV, n)
        if len(self.pow) < n:
            size = max(n, 2 * len(self.pow), 4096)
            self.pow, self.inv = _powers_of(_BASE, size), _powers_of(_BASE_INV, size)
        return self.pow, self.inv


def _powers_of(base: int, size: int) -> np.ndarray:
    """[1, base, base^2, ...] modulo 2^64 (numpy's uint64 products wrap)."""
    steps = np.full(size, base, dtype=np.uint64)
    steps[0] = 1
    return np.cumprod(steps, dtype=np.uint64)


_POWERS = _Powers()


class JoinedNgrams:
    """The tokens of one document joined with `sep`, and the hash of every n-gram of them."""

    __slots__ = ("_pow", "_prefix", "ends", "joined", "n_tokens", "starts")

    def __init__(self, toks: list[str], sep: str) -> None:
        self.joined = sep.join(toks)
        self.n_tokens = len(toks)
        lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
        starts = np.zeros(len(toks), dtype=np.int64)
        if len(toks) > 1:
            np.cumsum(lens[:-1] + len(sep), out=starts[1:])
        self.starts = starts
        self.ends = starts + lens
        codes = np.frombuffer(self.joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        pw, inv = _POWERS.upto(len(codes) + 1)
        prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(codes.astype(np.uint64) * inv[: len(codes)], out=prefix[1:])
        self._prefix, self._pow = prefix, pw

    def keys(self, n: int) -> np.ndarray:
        """A hash of each n-gram's string (position i = tokens i..i+n-1), its length mixed in."""
        a = self.starts[: self.n_tokens - n + 1]
        b = self.ends[n - 1 :]
        q = self._prefix
        return ((q[b] - q[a]) * self._pow[a]) ^ (b - a).astype(np.uint64) * _LENGTH_MIX

    def gram(self, i: int, n: int) -> str:
        return self.joined[int(self.starts[i]) : int(self.ends[i + n - 1])]

    def top_chars(self, n: int) -> int:
        """len(most frequent n-gram) x its count, ties to the n-gram seen first (Counter.most_common)."""
        m = self.n_tokens - n + 1
        if m <= 0:
            return 0
        keys = self.keys(n)
        ordered = np.sort(keys)
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        counts = np.diff(np.append(starts, m))
        top = int(counts.max())
        if top == 1:  # every hash once, so every n-gram once: the first one wins
            return len(self.gram(0, n))
        # The hash group with the highest count, the earliest among equals: when its n-gram at that
        # first position really occurs that often (no collision), nothing can beat it, since a
        # string occurs at most as often as its group and never before its group's first position.
        tied = ordered[starts[counts == top]]
        first = int(np.flatnonzero(_member(keys, tied))[0])
        gram = self.gram(first, n)
        if sum(self.gram(p, n) == gram for p in np.flatnonzero(keys == keys[first]).tolist()) == top:
            return len(gram) * top
        _uniq, firsts, inverse, group_counts = np.unique(keys, return_index=True, return_inverse=True,
                                                         return_counts=True)  # fmt: skip
        return self._top_chars_verified(n, firsts, inverse, group_counts)

    def _top_chars_verified(self, n: int, first: np.ndarray, inverse: np.ndarray, counts: np.ndarray) -> int:
        """`top_chars` when hashes collided: every candidate group checked on its strings."""
        m = self.n_tokens - n + 1
        order = np.lexsort((first, -counts))  # most frequent groups first, then by first position
        best_count, best_pos, best_len = 0, m, 0
        for g in order.tolist():
            group_count, group_first = int(counts[g]), int(first[g])
            if group_count < best_count or (group_count == best_count and group_first >= best_pos):
                break
            seen: dict[str, list[int]] = {}
            for p in np.flatnonzero(inverse == g).tolist():
                entry = seen.get(gram := self.gram(p, n))
                if entry is None:
                    seen[gram] = [1, p]
                else:
                    entry[0] += 1
            for gram, (c, p) in seen.items():
                if c > best_count or (c == best_count and p < best_pos):
                    best_count, best_pos, best_len = c, p, len(gram)
        return best_len * best_count

    def dup_chars(self, n: int) -> int:
        """Characters in repeated n-grams, walking like datatrove: a repeat adds its length and jumps n.

        Only positions whose hash occurs twice or more are visited: a string occurring once can never
        be a repeat and never changes whether another string was seen, and the jump only happens at
        repeats, so skipping those positions leaves the walk's result unchanged.
        """
        m = self.n_tokens - n + 1
        if m <= 1:
            return 0
        keys = self.keys(n)
        _uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        if len(counts) == m:
            return 0
        seen: set[str] = set()
        repeated = 0
        next_free = 0
        joined = self.joined
        cand = np.flatnonzero(counts[inverse] > 1)
        starts, ends = self.starts[cand].tolist(), self.ends[cand + (n - 1)].tolist()
        for k, idx in enumerate(cand.tolist()):
            if idx < next_free:
                continue
            gram = joined[starts[k] : ends[k]]
            if gram in seen:
                repeated += len(gram)
                next_free = idx + n
            else:
                seen.add(gram)
        return repeated


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """values[i] in sorted_set, for every i (`sorted_set` sorted, repeats allowed)."""
    idx = np.searchsorted(sorted_set, values)
    np.minimum(idx, len(sorted_set) - 1, out=idx)
    return sorted_set[idx] == values


__all__ = ["JoinedNgrams"]
