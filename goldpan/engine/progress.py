"""Progress of pooled stages (rows done of total, rate, ETA), for whoever shows it.

Stages report; a display (the `goldpan run` command) listens. With no listener a report costs a
function call, so stages report unconditionally. Listeners live in this process: `goldpan run`
executes the graph in process, so its display sees every stage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class StageProgress:
    stage: str
    done: int
    total: int | None
    started: float
    finished: bool = False

    @property
    def rate(self) -> float:
        dt = time.perf_counter() - self.started
        return self.done / dt if dt > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)

    def line(self) -> str:
        """`documents   4,512/6,046  75%   312/s  ETA 5s` (no total: rows and rate only)."""
        if self.total:
            pct = f"{100 * self.done / self.total:3.0f}%"
            frac = f"{self.done:,}/{self.total:,}"
        else:
            pct, frac = "    ", f"{self.done:,}"
        eta = "done" if self.finished else (f"ETA {self.eta_s:.0f}s" if self.eta_s is not None else "")
        return f"{self.stage:<16}{frac:>15} {pct} {self.rate:8.0f}/s  {eta}"


Listener = Callable[[StageProgress], None]
_LISTENERS: list[Listener] = []
_LOCK = threading.Lock()


def add_listener(fn: Listener) -> None:
    with _LOCK:
        _LISTENERS.append(fn)


def remove_listener(fn: Listener) -> None:
    with _LOCK:
        if fn in _LISTENERS:
            _LISTENERS.remove(fn)


def report(p: StageProgress) -> None:
    with _LOCK:
        listeners = list(_LISTENERS)
    for fn in listeners:
        fn(p)
