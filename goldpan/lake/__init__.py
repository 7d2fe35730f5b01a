"""The lake: Delta tables under one root, read with DuckDB over Arrow datasets."""

from goldpan.lake.delta import CommitConflict, Lake, WriteResult, batch_predicate, read_delta_table
from goldpan.lake.snapshot import Snapshot

__all__ = ["CommitConflict", "Lake", "Snapshot", "WriteResult", "batch_predicate", "read_delta_table"]
