"""WARC/WET/ARC/WACZ import: web archives from any producer (Common Crawl, Heritrix, wget,
Browsertrix, old ARC collections) as batches of `pages` rows.

    uris = expand_sources(["data/*.warc.gz", "data/*.wacz"])
    stats = import_warc_batch(lake, uris, batch_id, WarcSection())  # the recipe's `warc` section
"""

from goldpan.warc.importer import (
           WarcStats,
           import_warc_batch,
           resolve_revisits,
           rows_from_file,
)
from goldpan.warc.reader import iter_items
from goldpan.warc.sources import expand_sources, open_source

__all__ = ["WarcStats", "expand_sources", "import_warc_batch", "iter_items", "open_source",
           "resolve_revisits", "rows_from_file"]
