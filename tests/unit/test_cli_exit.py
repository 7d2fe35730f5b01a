"""The `goldpan` command leaves its process without Python's teardown, and without losing what exit owes.

`goldpan.cli.entry` ends with `os._exit`: these run it in a real process and check what the
interpreter's normal exit would have done first (threads joined, atexit handlers run, worker pools shut
down, buffered output written, the exit code kept).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from goldpan import cli

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "lake").mkdir(exist_ok=True)
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    return subprocess.run([sys.executable, str(path), str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, check=False)  # fmt: skip


def test_exit_joins_threads_runs_atexit_and_flushes_piped_output(tmp_path):
    out = _run("""
        import atexit, sys, threading, time
        from pathlib import Path
        from goldpan import cli
        tmp = Path(sys.argv[1])
        def slow():
            time.sleep(2)  # outlasts the command
            (tmp / "thread").write_text("finished")
        atexit.register(lambda: (tmp / "atexit").write_text("ran"))
        print("written before the command")  # stdout is a pipe here: block-buffered, not yet written
        sys.argv = ["goldpan", "--lake", str(tmp / "lake"), "sql", "SELECT 41 + 1 AS answer"]
        threading.Thread(target=slow).start()  # not a daemon: a normal exit waits for it
        cli.entry()
        (tmp / "after").write_text("entry returned")  # never: entry does not return
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "written before the command" in out.stdout and "42" in out.stdout
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "after").exists()


def test_exit_keeps_the_commands_exit_code_for_a_user_error(tmp_path):
    out = _run("""
        import sys
        from goldpan import cli
        sys.argv = ["goldpan", "--lake", sys.argv[1] + "/lake", "sql", "SELECT nope FROM nowhere"]
        cli.entry()
    """, tmp_path)
    assert out.returncode == 2
    assert "goldpan sql: error" in out.stderr and "Traceback" not in out.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0) until its parent reaps it: count it as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_exit_shuts_the_worker_pool_down(tmp_path):
    """Without the atexit handlers the pool is never shut down: multiprocessing's resource tracker then
    reports its semaphores leaked, and in a `goldpan run` the forkserver and workers were left running."""
    out = _run("""
        import sys
        from pathlib import Path
        from goldpan import cli
        from goldpan.engine import LocalProcessEngine
        def _identity(batch, context):
            return batch
        if __name__ == "__main__":  # the workers import this file as their main module
            import pyarrow as pa
            engine = LocalProcessEngine(2)
            engine.prestart()
            batches = [pa.RecordBatch.from_pylist([{"n": i}]) for i in range(8)]
            assert sum(b.num_rows for b in engine.map_batches(_identity, batches)) == 8
            pids = engine.worker_pids()
            assert len(pids) == 2, pids
            from multiprocessing import forkserver
            pids.append(forkserver._forkserver._forkserver_pid)  # the workers' parent
            (Path(sys.argv[1]) / "pids").write_text(" ".join(map(str, pids)))
            sys.argv = ["goldpan", "--lake", sys.argv[1] + "/lake", "sql", "SELECT 1 AS one"]
            cli.entry()
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "leaked" not in out.stderr, out.stderr
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == 3 and not [p for p in pids if _alive(p)], "the pool outlived the command"


def test_without_the_interpreters_exit_steps_it_exits_the_usual_way(tmp_path, monkeypatch, capsys):
    """`threading._shutdown` and `atexit._run_exitfuncs` are CPython's own: where one is missing, `entry`
    must not skip what they do, so it raises SystemExit like `sys.exit(main())` (here, in this process)."""
    (tmp_path / "lake").mkdir()
    monkeypatch.delattr(atexit, "_run_exitfuncs")
    monkeypatch.setattr(sys, "argv", ["goldpan", "--lake", str(tmp_path / "lake"), "sql", "SELECT 41 + 1 AS answer"])
    with pytest.raises(SystemExit) as exc:
        cli.entry()
    assert exc.value.code == 0 and "42" in capsys.readouterr().out
