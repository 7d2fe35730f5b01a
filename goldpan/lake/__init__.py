"""The lake: Delta tables under one root, read with DuckDB over Arrow datasets."""

from goldpan.lake.delta import Lake, WriteResult, batch_predicate, read_delta_table

__all__ = ["Lake", "WriteResult", "batch_predicate", "read_delta_table"]
