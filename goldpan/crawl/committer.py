"""Delta commits of a crawl on one background thread, in the order they were handed over.

Why: a pages append (or frontier merge) takes ~0.3-1 s, during which the scheduling thread used
to hand out no work: on a fast site that was 15 % of the crawl. deltalake writes in Rust without
the GIL, so committing on another thread overlaps with fetching. One thread and FIFO order keep
the resume contract (a chunk's pages append precedes its frontier merge), and at most one job
waits behind the running one, so at most two chunks are held in memory. The thread is a daemon:
a terminated run waits a bounded time for commits (`drain(timeout)`), and a Delta commit is
atomic, so an abandoned write leaves the table as it was.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable


class Committer:
    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue(maxsize=1)
        self._last = threading.Event()
        self._last.set()
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="goldpan-crawl-commit", daemon=True).start()

    def submit(self, job: Callable[[], None]) -> None:
        """Queue `job` (blocks while another job already waits); raises an earlier job's error."""
        self._raise()
        done = threading.Event()
        self._jobs.put((job, done))
        self._last = done

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for every job handed over; False if `timeout` ran out first. Raises a job's error."""
        finished = self._last.wait(timeout)
        self._raise()
        return finished

    def _raise(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def _run(self) -> None:
        while True:
            job, done = self._jobs.get()
            try:
                if self._error is None:  # after a failure, later jobs must not commit out of order
                    job()
            except BaseException as exc:  # noqa: BLE001 - handed to the scheduling thread
                self._error = exc
            finally:
                done.set()
