"""quality_checks/gx_import.py: GX imported with scipy.stats left lazy, and still working.

Each case runs in a fresh interpreter (a subprocess), since what it checks is what the first import
of GX in a process leaves in sys.modules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False, cwd=REPO, capture_output=True,
                         text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_a_real_suite_validates_without_loading_the_deferred_modules_which_still_load_on_use() -> None:
    out = _run("""
        import math, sys
        import pandas as pd
        from quality_checks.gx_import import import_gx
        from quality_checks.gate import _validate

        gx = import_gx()
        ctx = gx.get_context(mode="ephemeral")
        df = pd.DataFrame({"doc_id": ["a", "b", None], "n_tokens": [3, 5, 8]})
        res = _validate(ctx, "t", df, [gx.expectations.ExpectColumnValuesToNotBeNull(column="doc_id"),
                                        gx.expectations.ExpectColumnValuesToBeBetween(column="n_tokens", min_value=1)])
        assert [r["success"] for r in res] == [False, True], res
        assert res[0]["unexpected_count"] == 1
        print("lazy", type(sys.modules["scipy.stats"]).__name__)
        # an expectation that needs them gets the real modules on first use
        from scipy import stats
        assert abs(stats.entropy([0.5, 0.5]) - math.log(2)) < 1e-12
        print("loaded", type(sys.modules["scipy.stats"]).__name__)
    """)
    assert "lazy _LazyModule" in out
    assert "loaded module" in out


def test_two_threads_importing_at_once_get_one_module() -> None:
    out = _run("""
        import sys, threading
        from quality_checks.gx_import import import_gx

        got, errors = [], []
        def go():
            try:
                got.append(import_gx())
            except BaseException as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=go) for _ in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert not errors, errors
        assert len(got) == 4 and all(g is got[0] for g in got)
        assert sys.modules["scipy"].stats is sys.modules["scipy.stats"]
        print("ok", type(sys.modules["scipy.stats"]).__name__)
    """)
    assert "ok _LazyModule" in out


def test_a_process_that_loaded_scipy_stats_first_keeps_it() -> None:
    out = _run("""
        import sys
        import scipy.stats
        real = sys.modules["scipy.stats"]
        from quality_checks.gx_import import import_gx
        import_gx()
        assert sys.modules["scipy.stats"] is real
        print("kept", type(real).__name__)
    """)
    assert "kept module" in out
