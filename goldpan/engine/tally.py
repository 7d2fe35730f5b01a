"""Per-worker throughput of a stage: rows and busy seconds per worker, for the asset's metadata.

A worker is labelled by where it ran (`pid1234`, or `node:pid1234` on Ray), so an uneven cluster
(a slow node, a worker that restarted after a crash) shows up as uneven rates in the UI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class WorkerTally:
    rows: dict[str, int] = field(default_factory=dict)
    busy_s: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, worker: str, rows: int, seconds: float) -> None:
        with self._lock:
            self.rows[worker] = self.rows.get(worker, 0) + rows
            self.busy_s[worker] = self.busy_s.get(worker, 0.0) + seconds

    def snapshot(self) -> dict[str, tuple[int, float]]:
        with self._lock:
            return {w: (self.rows[w], self.busy_s[w]) for w in self.rows}

    def since(self, before: dict[str, tuple[int, float]]) -> dict[str, dict[str, float]]:
        """Rows, busy seconds and rows per busy second of each worker since `before` (a snapshot)."""
        out: dict[str, dict[str, float]] = {}
        for w, (rows, busy) in self.snapshot().items():
            r0, b0 = before.get(w, (0, 0.0))
            dr, db = rows - r0, busy - b0
            if dr or db:
                out[w] = {"rows": dr, "busy_s": round(db, 3), "rows_per_s": round(dr / db, 1) if db > 0 else 0.0}
        return dict(sorted(out.items()))

    def local_pids(self) -> list[int]:
        pids = []
        for w in list(self.rows):
            tail = w.rsplit("pid", 1)[-1]
            if tail.isdigit():
                pids.append(int(tail))
        return pids
