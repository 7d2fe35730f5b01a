"""A pool of daemon worker threads that a crawl can walk away from.

Why not `concurrent.futures.ThreadPoolExecutor`: its shutdown joins the workers, and so does
the interpreter at exit (`concurrent.futures` registers an atexit join). A worker busy on a
20 MB page or a slow-drip server then holds a terminated run for minutes: a Dagster terminate
(SIGTERM) raised in the main thread, the run hung in `shutdown(wait=True)` and only SIGINT
ended it. Here workers are daemon threads and `close()` never waits: the main thread can
commit what it has and leave within seconds, and a worker still inside a request dies with
the process. Workers only do I/O and parsing; the scheduling thread owns all crawl state.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

_STOP = object()


class DaemonPool:
    """`submit(token, fn, *args)`; `next_result(timeout)` returns (token, result, exception)
    for one finished job, or None when nothing finished within `timeout` seconds."""

    def __init__(self, workers: int, name: str = "goldpan-crawl") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[Any, Any, BaseException | None]] = queue.SimpleQueue()
        self._closed = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, token: Any, fn: Callable[..., Any], *args: Any) -> None:
        if self._closed.is_set():
            raise RuntimeError("pool is closed")
        self._jobs.put((token, fn, args))

    def next_result(self, timeout: float | None) -> tuple[Any, Any, BaseException | None] | None:
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stop handing out jobs; never waits for a busy worker (it is a daemon thread)."""
        self._closed.set()
        for _ in self._threads:
            self._jobs.put(_STOP)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP or self._closed.is_set():
                return
            token, fn, args = job
            try:
                self._results.put((token, fn(*args), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the scheduling thread
                self._results.put((token, None, exc))
