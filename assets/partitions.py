"""Crawl batches and WARC imports are dynamic partitions of the per-batch assets.

The name is namespaced because dynamic partition keys are instance-wide.
"""

import dagster as dg

crawl_batches = dg.DynamicPartitionsDefinition(name="goldpan_crawl_batches")
