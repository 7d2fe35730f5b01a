"""The extract assets for real: crawl the sample site on 127.0.0.1, then `documents` and
`document_variants` into a temporary lake (demo recipe: goldpan primary, trafilatura variant)."""

from __future__ import annotations

import dagster as dg
import pytest

from goldpan.lake import Lake
from tests.fixtures.pipeline_helpers import run_batch, seed_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BATCH = "b20260105T000000-extract"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, sample_site):
    mp = pytest.MonkeyPatch()
    seed_env(sample_site, mp)
    root = tmp_path_factory.mktemp("lake")
    with dg.instance_for_test() as instance:
        result = run_batch(instance, root, BATCH, selection=["pages", "documents", "document_variants"])
        yield result, Lake(root)
    mp.undo()


def _rows(lake: Lake, sql: str):
    with lake.connect() as con:
        return con.execute(sql).fetchall()


def test_one_document_per_kept_page_with_language_and_counts(extracted):
    result, lake = extracted
    assert result.success
    [(kept_pages,)] = _rows(lake, "SELECT count(*) FROM pages WHERE status = 'kept'")
    [(docs, distinct_pages)] = _rows(lake, "SELECT count(*), count(DISTINCT page_id) FROM documents")
    assert docs == distinct_pages == kept_pages > 30
    [(missing,)] = _rows(
        lake,
        "SELECT count(*) FROM documents WHERE status = 'kept' AND (lang IS NULL OR lang_score IS NULL "
        "OR n_words <= 0 OR n_tokens < n_words OR n_sentences <= 0 OR registered_domain IS NULL "
        "OR extractor_options IS NULL)",
    )
    assert missing == 0
    rejected = _rows(lake, "SELECT rule, value, threshold FROM documents WHERE status = 'rejected'")
    assert rejected and all(rule and value is not None and threshold is not None for rule, value, threshold in rejected)


def test_mislabelled_chinese_pages_are_readable(extracted):
    _, lake = extracted
    rows = {
        url.rsplit("/", 1)[-1]: (enc, mismatch, text)
        for url, enc, mismatch, text in _rows(
            lake,
            "SELECT url, encoding, encoding_mismatch, text FROM documents "
            "WHERE url LIKE '%gbk-page.html' OR url LIKE '%big5-page.html'",
        )
    }
    enc, mismatch, text = rows["gbk-page.html"]
    assert (enc, mismatch) == ("gb18030", True)  # the server's UTF-8 header disagreed with the bytes
    assert "社区图书角" in text
    enc, mismatch, text = rows["big5-page.html"]
    assert enc == "big5hkscs" and "麵包店" in text


def test_variants_are_the_trafilatura_extraction_of_every_html_page(extracted):
    result, lake = extracted
    [(n_html,)] = _rows(lake, "SELECT count(*) FROM documents WHERE extractor <> 'plaintext'")
    [(n_var, n_traf)] = _rows(
        lake, "SELECT count(*), count(*) FILTER (WHERE extractor = 'trafilatura') FROM document_variants"
    )
    assert n_var == n_traf == n_html
    mats = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey("document_variants")]
    comparison = mats[0].materialization.metadata["comparison_with_primary"].value["trafilatura"]
    assert comparison["pages_with_both_texts"] > 25
    assert 0.5 < comparison["mean_token_f1"] <= 1.0
