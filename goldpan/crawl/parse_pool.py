"""Link discovery in worker processes, so that one host's crawl is not bound by the GIL.

Why: with politeness lifted (our own site, per-host concurrency 8, no delay) the crawl of one
host is CPU-bound, and parsing HTML for links (libxml2 plus URL normalisation) is most of that
CPU. In the crawl's threads it serialises on the GIL with fetching and bookkeeping; in a few
processes it runs on the other cores while the crawl's threads keep fetching.

How: `processes` long-lived children (forkserver: no inherited threads or locks of the
parent, which may be a Dagster run worker), each behind a pipe. A crawl worker thread borrows
an idle child, sends (body, base URL, charset, normalisation, CPU budget) and waits for the
links: the wait releases the GIL. The children start on first use, and `ParsePool.extract`
is only used once a batch has parsed `start_after` pages in its threads, so small crawls (and
tests) never pay the ~1 s start.

Bounded and stoppable: the per-page CPU budget is enforced inside the child exactly as in a
thread (`LinkBudgetExceeded` crosses back); `close()` kills the children without waiting, so a
terminate is not held by a child busy on a huge page; a child that dies (killed, crashed on a
page) is replaced and that page is parsed in the calling thread instead.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from goldpan.crawl.links import LinkBudgetExceeded, extract_links

log = logging.getLogger(__name__)


def _serve(conn: Connection) -> None:
    """Child loop: one request in, ("ok", links, cpu) or ("budget", args, cpu) out, until EOF;
    cpu = the child's CPU seconds so far (the crawl reports CPU per page, children included)."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        content, base_url, charset, strip_params, budget = job
        try:
            reply: tuple[str, Any] = ("ok", extract_links(content, base_url, charset, strip_params=strip_params,
                                                          cpu_budget_s=budget))  # fmt: skip
        except LinkBudgetExceeded as exc:
            reply = ("budget", (exc.seconds, exc.budget, exc.links))
        conn.send((*reply, time.process_time()))


class ParsePool:
    """`extract(...)` = `extract_links(...)` in one of `processes` child processes."""

    def __init__(self, processes: int, start_after: int = 0) -> None:
        if processes < 1:
            raise ValueError("processes must be >= 1")
        self.processes, self.start_after = processes, start_after
        self._idle: queue.SimpleQueue[tuple[Any, Connection]] = queue.SimpleQueue()
        self._children: list[Any] = []
        self._lock = threading.Lock()
        self._started = self._closed = False
        self._seen = 0  # pages offered so far (parsed in threads until start_after)
        self._cpu: dict[int, float] = {}  # child pid -> its CPU seconds at its last answer

    def wants(self) -> bool:
        """Whether the next page should go to a child (the batch has parsed enough pages in
        its threads for the children's start to pay off)."""
        with self._lock:
            self._seen += 1
            return not self._closed and self._seen > self.start_after

    def extract(self, content: bytes, base_url: str, charset: str | None, strip_params: frozenset[str],
                cpu_budget_s: float | None) -> list[str]:  # fmt: skip
        """Links of one page, computed in a child; in this thread if no child can do it."""
        if self._closed:
            return extract_links(content, base_url, charset, strip_params=strip_params, cpu_budget_s=cpu_budget_s)
        self._start()
        child = self._idle.get()
        proc, conn = child
        try:
            conn.send((content, base_url, charset, strip_params, cpu_budget_s))
            kind, value, cpu = conn.recv()
        except (EOFError, OSError, ValueError):  # the child died (or the pool was closed)
            self._replace(child)
            return extract_links(content, base_url, charset, strip_params=strip_params, cpu_budget_s=cpu_budget_s)
        self._cpu[proc.pid] = cpu
        self._idle.put(child)
        if kind == "budget":
            raise LinkBudgetExceeded(*value)
        return value

    def cpu_seconds(self) -> float:
        """CPU time the children have used (as of their last answers)."""
        return sum(self._cpu.values())

    def close(self) -> None:
        """Kill the children now; never waits for one busy on a page."""
        with self._lock:
            self._closed = True
            children, self._children = self._children, []
        for proc, conn in children:
            try:
                proc.kill()
                conn.close()
            except (OSError, ValueError):  # already gone
                pass
        for proc, _ in children:
            proc.join(timeout=1.0)

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
            for _ in range(self.processes):
                self._idle.put(self._spawn())

    def _spawn(self) -> tuple[Any, Connection]:
        """One child (the caller holds the lock or is the only user)."""
        ctx = mp.get_context("forkserver")
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(theirs,), name="goldpan-parse", daemon=True)
        proc.start()
        theirs.close()
        self._children.append((proc, ours))
        return proc, ours

    def _replace(self, child: tuple[Any, Connection]) -> None:
        proc, conn = child
        with self._lock:
            if child in self._children:
                self._children.remove(child)
            if self._closed:
                return
            log.warning("link-discovery process %s died; starting another", proc.pid)
            try:
                proc.kill()
                conn.close()
            except (OSError, ValueError):
                pass
            self._idle.put(self._spawn())
