"""A part of a Parquet file of a Delta table that a view can show alone (see goldpan.engine.units)."""

from __future__ import annotations

from typing import NamedTuple


class FileRange(NamedTuple):
    """Rows [lo, hi) of one file of a Delta table (path relative to the table, as in its log), on
    row-group boundaries; (path, 0, None) is the whole file."""

    path: str
    lo: int = 0
    hi: int | None = None

    @property
    def whole(self) -> bool:
        return self.lo == 0 and self.hi is None
