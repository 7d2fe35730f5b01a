"""Reproducible exports of a release: sharded JSONL.zst and Parquet with a manifest."""
