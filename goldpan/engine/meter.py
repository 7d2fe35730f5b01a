"""Per-stage throughput, CPU time and peak memory, for each asset's metadata.

Peak memory is the largest sum of resident set sizes of this process and the engine's workers,
sampled every `interval` seconds while the stage runs: the figure that decides whether a stage fits
a machine, where `ru_maxrss` would give only this process's lifetime peak. Beside it, the peak of
this process alone and the largest single descendant (a worker, or the forkserver they fork from):
which process a stage's memory is in decides what to fix (a driver that materialises a table, or
workers that each hold a model).

CPU time is this process's (all its threads) plus what its descendants (the forkserver's workers)
spent during the stage, read from /proc: on a shared machine wall time says how loaded the machine
was, CPU seconds per document say what the stage costs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int) -> int:
    """Resident set size of `pid` (0 when it is gone or /proc is unavailable)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def children_pids(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc), e.g. the forkserver and its workers."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (0.0 when it is gone or /proc is unavailable)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15 of stat)
    except (OSError, ValueError, IndexError):
        return 0.0


def descendants(root: int) -> list[int]:
    """Every descendant of `root` (children, grandchildren: the forkserver and its workers)."""
    out, todo, seen = [], [root], {root}
    while todo:
        for child in children_pids(todo.pop()):
            if child not in seen:
                seen.add(child)
                out.append(child)
                todo.append(child)
    return out


def descendants_cpu(root: int | None = None) -> dict[int, float]:
    """CPU seconds so far of every live descendant of `root` (default: this process), by pid."""
    return {pid: cpu_seconds(pid) for pid in descendants(root or os.getpid())}


def tree_rss_bytes(root: int | None = None) -> int:
    """RSS of `root` (default: this process) and all its descendants."""
    return sum(tree_rss_by_pid(root).values())


def tree_rss_by_pid(root: int | None = None) -> dict[int, int]:
    """RSS of `root` (default: this process) and of each of its descendants, by pid."""
    root = root or os.getpid()
    out: dict[int, int] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out[pid] = rss_bytes(pid)
        todo.extend(children_pids(pid))
    return out


@dataclass
class StageMeter:
    """Wall and CPU time, documents, and sampled peak RSS of the process tree while a stage runs."""

    interval: float = 0.2
    sample: Callable[[], dict[int, int]] = tree_rss_by_pid
    docs: int = 0
    peak_rss: int = 0
    #: peak RSS of this process alone, and of the largest single descendant (a worker or the forkserver)
    peak_driver_rss: int = 0
    peak_child_rss: int = 0
    _t0: float = 0.0
    _c0: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    workers_cpu_s: float = 0.0
    _w0: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._t0, self._c0 = time.perf_counter(), time.process_time()
        self._w0 = descendants_cpu()
        self._take_sample()
        self._thread = threading.Thread(target=self._run, name="stage-meter", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._take_sample()

    def _take_sample(self) -> None:
        by_pid = self.sample()
        me = os.getpid()
        self.peak_rss = max(self.peak_rss, sum(by_pid.values()))
        self.peak_driver_rss = max(self.peak_driver_rss, by_pid.get(me, 0))
        self.peak_child_rss = max(self.peak_child_rss, max((v for k, v in by_pid.items() if k != me), default=0))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._take_sample()
        self.wall_s = time.perf_counter() - self._t0
        self.cpu_s = time.process_time() - self._c0
        # A worker started during the stage counts from 0; one that exited is lost (a pool outlives stages).
        now = descendants_cpu()
        self.workers_cpu_s = sum(max(0.0, c - self._w0.get(pid, 0.0)) for pid, c in now.items())

    @property
    def total_cpu_s(self) -> float:
        return self.cpu_s + self.workers_cpu_s

    def as_metadata(self) -> dict[str, float | int]:
        """Plain numbers for the asset's metadata (the asset wraps them in Dagster types)."""
        return {
            "docs": self.docs,
            "seconds": round(self.wall_s, 3),
            "docs_per_s": round(self.docs / self.wall_s, 1) if self.wall_s > 0 else 0.0,
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            "peak_rss_driver_mb": round(self.peak_driver_rss / 2**20, 1),
            "peak_rss_max_worker_mb": round(self.peak_child_rss / 2**20, 1),
            "driver_cpu_s": round(self.cpu_s, 3),
            "workers_cpu_s": round(self.workers_cpu_s, 3),
            "cpu_s": round(self.total_cpu_s, 3),
            "cpu_ms_per_doc": round(1000 * self.total_cpu_s / self.docs, 3) if self.docs else 0.0,
        }
