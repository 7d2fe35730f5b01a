"""goldpan: curation library for turning crawled web pages into an auditable LLM training corpus.

This package has no Dagster imports on purpose: every stage is plain Python over iterators of
records or Arrow batches, so it can be unit-tested, benchmarked, and run on another engine.
"""

__version__ = "0.1.0"
