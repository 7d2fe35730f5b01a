"""A per-page CPU budget for extraction: a pathological page becomes an error row, never a stuck batch.

Why two mechanisms:
- resiliparse's main-content pass is quadratic in the nesting depth of the DOM (measured: 5,000
  nested divs 4 s, 20,000 about a minute, 50,000 several minutes), and it runs inside one C call
  that a Python signal cannot interrupt. Pages whose nesting depth *may* exceed `isolate_min_depth`
  (a linear estimate over the source, see `nesting_depth_estimate`) are therefore extracted in a
  child process that is killed when the budget runs out.
- Every other page runs in-process under a SIGALRM timer (main thread only), which stops Python-level
  work such as trafilatura's tree passes when it overruns.

A page that exceeds the budget raises `PageTimeout`; the stage turns it into an error row with rule
`extract_timeout`.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# Elements that do not nest: void elements and those the parser closes implicitly (p, li, td, ...),
# by their first one, two or three letters. Unclosed list items or <img> tags would otherwise look
# like deep nesting.
_FLAT1 = (b"p",)
_FLAT2 = (b"br", b"hr", b"li", b"td", b"th", b"tr", b"dt", b"dd")
_FLAT3 = (b"img", b"inp", b"lin", b"met", b"col", b"are", b"bas", b"wbr", b"sou", b"tra", b"par", b"emb", b"opt")


def _keys(names: tuple[bytes, ...]) -> np.ndarray:
    return np.array(sorted(int.from_bytes(n, "big") for n in names), dtype=np.int64)


_KEYS1, _KEYS2, _KEYS3 = _keys(_FLAT1), _keys(_FLAT2), _keys(_FLAT3)


class PageTimeout(Exception):
    """The page's extraction exceeded the recipe's per-page budget."""


def nesting_depth_estimate(html: str, cap: int) -> int:
    """An upper-bound estimate of the element nesting depth, exact enough to compare with `cap`.

    Pages with at most `cap` tags cannot nest deeper than `cap` and cost one `str.count`. Larger
    pages get a running open/close balance over their tags, computed with numpy over the bytes
    (a regex over every tag costs ~0.5 ms on a news page): start tags of nesting elements count +1,
    end tags -1, self-closing tags (`<x/>`) and non-nesting elements nothing.
    """
    n_tags = html.count("<")
    if n_tags <= cap:
        return n_tags
    b = np.frombuffer(html.encode("utf-8", "replace") + b"    ", dtype=np.uint8)
    lt = np.flatnonzero(b[:-4] == 60)  # "<"
    close = b[lt + 1] == 47  # "/"
    start = lt + 1 + close
    c1, c2, c3 = ((b[start + k] | 0x20).astype(np.int64) for k in range(3))
    is_letter = [(c >= 97) & (c <= 122) for c in (c1, c2, c3)]
    tag = is_letter[0]
    flat = (np.isin(c1, _KEYS1) & ~is_letter[1] & ~((c2 >= 48) & (c2 <= 57))) | (
        np.isin(c1 * 256 + c2, _KEYS2) & ~is_letter[2] & ~((c3 >= 48) & (c3 <= 57))
    ) | np.isin((c1 * 256 + c2) * 256 + c3, _KEYS3)
    gt = np.flatnonzero(b == 62)  # ">"
    self_closing = np.zeros(len(lt), dtype=bool)
    if len(gt):
        end = gt[np.minimum(np.searchsorted(gt, lt), len(gt) - 1)]
        self_closing = b[np.maximum(end - 1, 0)] == 47
    nesting = tag & ~flat
    steps = (nesting & ~close & ~self_closing).astype(np.int64) - (nesting & close)
    return int(np.cumsum(steps).max()) if len(steps) else 0


@contextmanager
def alarm(seconds: float):
    """Raise PageTimeout in this (main) thread after `seconds`; a no-op off the main thread."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise PageTimeout(f"extraction exceeded {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_isolated(fn: Callable[..., T], args: tuple, seconds: float) -> T:
    """`fn(*args)` in a forked child process, killed after `seconds` (PageTimeout); errors re-raised.

    A bare `os.fork` rather than `multiprocessing.Process`: pooled workers (multiprocessing.Pool)
    are daemonic and may not start multiprocessing children, but they may fork.
    """
    if not hasattr(os, "fork"):
        return _run_spawned(fn, args, seconds)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: run, send the pickled outcome, exit without running the parent's cleanup
        code = 0
        try:
            os.close(read_fd)
            try:
                outcome = ("ok", fn(*args))
            except BaseException as exc:  # noqa: BLE001 -- reported to the parent as an error row
                outcome = ("error", f"{type(exc).__name__}: {exc}")
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise PageTimeout(f"extraction exceeded {seconds:g} s (isolated: deep nesting)")
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError("isolated extraction died without a result")
    status, value = pickle.loads(b"".join(chunks))
    if status == "error":
        raise RuntimeError(value)
    return value


def _spawned_child(conn, fn, args) -> None:
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 -- reported to the parent, which makes the error row
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _run_spawned(fn: Callable[..., T], args: tuple, seconds: float) -> T:
    """Platforms without fork: a spawned multiprocessing child (arguments must pickle)."""
    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_spawned_child, args=(send, fn, args), daemon=True)
    proc.start()
    send.close()
    try:
        if not recv.poll(seconds):
            raise PageTimeout(f"extraction exceeded {seconds:g} s (isolated: deep nesting)")
        status, value = recv.recv()
    except EOFError:
        raise RuntimeError(f"isolated extraction died (exit code {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        recv.close()
    if status == "error":
        raise RuntimeError(value)
    return value


def run_with_budget(fn: Callable[..., T], args: tuple, html: str, seconds: float, isolate_min_depth: int) -> T:
    """`fn(*args)` for one page within `seconds`: isolated when the page may nest deeper than
    `isolate_min_depth`, in-process under an alarm otherwise."""
    if nesting_depth_estimate(html, isolate_min_depth) > isolate_min_depth:
        return run_isolated(fn, args, seconds)
    with alarm(seconds):
        return fn(*args)


__all__ = ["PageTimeout", "alarm", "nesting_depth_estimate", "run_isolated", "run_with_budget"]
