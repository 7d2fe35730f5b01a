"""The whole graph over a real-size WARC: >= 1,000 real documentation pages the project does not bundle.

The pages come from Debian documentation packages (PostgreSQL's manual in English, LibreOffice's help in
Chinese, Japanese and German, the Debian Reference in Chinese and German), fetched with `apt-get download`
by bench/realdocs.py at test time into a cache shared across runs (like scripts/ensure_chromium.sh
brings Chromium). The test skips only when no package can be downloaded (no mirror reachable).

It runs `goldpan run --warc` (the same code path as the command: a batch registered on the Dagster
instance and the in-process job over every asset, on 2 worker processes), then checks the funnel
invariant for every stage (input = kept + rejected + errored, nothing missing, nothing invented) and a
promoted, non-empty release. Real volume is what found the unsigned-signature crash of dedup.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel
from tests.fixtures.real_pages import cached_real_warc

# ~2 minutes on an idle 2-core machine; a loaded shared machine took ~10: the timeout leaves room.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
MIN_PAGES = 1000
# Small packages (~13 MB of .deb in all) holding well over 1,000 pages in four languages.
@pytest.fixture(scope="module")
def real_warc() -> Path:
    return cached_real_warc("ci-realsize", MIN_PAGES)


def test_whole_graph_over_a_real_1000_page_warc(real_warc: Path, tmp_path, monkeypatch) -> None:
    from assets.launch import launch

    lake_root = str(tmp_path / "lake")
    monkeypatch.setenv("GOLDPAN_LAKE", lake_root)
    monkeypatch.setenv("GOLDPAN_RECIPE", str(REPO / "recipes" / "warc.yaml"))
    monkeypatch.setenv("GOLDPAN_WORKERS", "2")
    out = io.StringIO()
    ok, batch = launch(warc=[str(real_warc)], lake_root=lake_root, recipe_path=str(REPO / "recipes" / "warc.yaml"),
                       stream=out)
    report = out.getvalue()
    assert ok, report

    lake = Lake(lake_root)
    with lake.connect() as con:
        funnel = [r for r in compute_funnel(con) if r.batch_id in (batch, None) or r.stage in ("mix", "candidate")]
        pages = con.execute("SELECT count(*) FROM pages WHERE batch_id = ? AND status = 'kept'", [batch]).fetchone()[0]
        langs = dict(con.execute("SELECT lang, count(*) FROM documents WHERE status = 'kept' GROUP BY 1").fetchall())
        corpus = con.execute("SELECT count(*), count(DISTINCT lang) FROM training_corpus").fetchone()
        release = con.execute("SELECT status, n_docs FROM corpus_releases ORDER BY decided_at DESC LIMIT 1").fetchone()
    assert pages >= MIN_PAGES
    by_stage = {r.stage: r for r in funnel}
    for stage in ("extract", "dedup", "filter", "classify", "mix", "candidate"):
        r = by_stage[stage]
        assert r.input == r.kept + r.rejected + r.errored, (stage, r)
        assert r.missing == 0 and r.orphans == 0, (stage, r)
    assert by_stage["extract"].input == pages
    # LibreOffice's Japanese help pages come out as kept Japanese only in some builds; en, zh, de always do.
    assert {"en", "zh", "de"} <= set(langs), langs
    assert release[0] == "promoted" and release[1] == corpus[0] > 0, (release, corpus)
    assert corpus[1] >= 3  # the release is multilingual, not English only
    # the run reported its stages and the funnel
    assert "documents" in report and "candidate" in report
