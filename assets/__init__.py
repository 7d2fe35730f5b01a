"""Dagster wiring only: one module per stage, each a thin asset over the goldpan library."""
