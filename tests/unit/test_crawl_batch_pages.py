"""`_batch_has_pages` answers from the Delta log alone whether `pages` holds a batch's files.

It swallows any error (and then answers "yes", so the caller scans to be sure): a call that stopped
working, as `file_uris(partition_filters=...)` is deprecated in deltalake 1.6, would only make every new
batch slower. These check the answer and that the call raises no deprecation.
"""

from __future__ import annotations

import warnings

import pyarrow as pa

from goldpan.crawl.batch import _batch_has_pages
from goldpan.lake.delta import Lake

SCHEMA = pa.schema([("page_id", pa.string()), ("batch_id", pa.string())])


def test_batch_has_pages_from_the_log(tmp_path):
    lake = Lake(tmp_path / "lake")
    assert not _batch_has_pages(lake, "b1")  # no table yet
    rows = pa.RecordBatch.from_pylist([{"page_id": "p1", "batch_id": "b1"}, {"page_id": "p2", "batch_id": "b1"}],
                                      schema=SCHEMA)
    lake.write("pages", [rows], SCHEMA, mode="append", partition_by=["batch_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert _batch_has_pages(lake, "b1")
        assert not _batch_has_pages(lake, "b2")
