"""Reading the lake from plain Python must not abort at interpreter exit (issue 20).

`deltalake.DeltaTable(p).to_pyarrow_table()` reads through a Python-implemented file system called
from Arrow's C++ threads, and about 2 processes in 100 abort at exit with "terminate called without
an active exception" (exit 134). `Lake.read_table` / `read_delta_table` read with Arrow's native
file system; this runs that read over every table in fresh processes, 20 times.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.audit_lake import build_lake

REPO = Path(__file__).resolve().parents[2]
READ_ALL = """
import sys
from goldpan.lake import Lake, read_delta_table
lake = Lake(sys.argv[1])
tables = lake.list_tables()
rows = sum(lake.read_table(t).num_rows for t in tables)
assert rows == sum(read_delta_table(lake.uri(t)).num_rows for t in tables) > 0
print(len(tables), rows)
"""


@pytest.mark.slow
def test_reading_every_table_in_a_fresh_process_exits_cleanly_20_times(tmp_path):
    lake = build_lake(tmp_path / "lake")
    assert len(lake.list_tables()) >= 8
    codes = []
    for _ in range(20):
        out = subprocess.run([sys.executable, "-c", READ_ALL, lake.root], cwd=REPO, capture_output=True, text=True,
                             timeout=120, check=False)  # fmt: skip
        codes.append(out.returncode)
        assert "terminate called" not in out.stderr, out.stderr[-500:]
    assert codes == [0] * 20
