"""Model outputs are deduplicated by goldpan's dedup (exact and MinHash near-duplicates), against the crawled
corpus's real dedup index and against each other, earlier batches' kept outputs included.

The outputs here are fixed texts (real passages, lightly edited the way a model copies its parent), so the
dedup verdicts are checked without a model; the stage wires the same function (test_synthesize_llm)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from goldpan.synthesize.near_dups import DUP_OF_CRAWLED, DUP_OF_SYNTHETIC, Output, find_duplicates
from tests.fixtures.synth_lake import BATCH, build_lake, real_passages, synth_recipe


def _edit(text: str) -> str:
    """The passage with one word replaced and a sentence appended: near, not exact."""
    words = text.split()
    words[len(words) // 2] = "considerably"
    return " ".join(words) + " This is shown below."


@pytest.fixture(scope="module")
def deduped_lake(tmp_path_factory):
    """The synth lake after the real dedup stage (which writes the crawled corpus's index)."""
    from goldpan.dedup import stage as dedup_stage
    from goldpan.engine import make_engine
    from goldpan.recipe import EngineSection

    root = tmp_path_factory.mktemp("neardup")
    lake, _ = build_lake(root / "lake", n_en=3, n_zh=1, dedup=False)
    recipe = synth_recipe(root)
    dedup_stage.run(lake, recipe.dedup, BATCH, engine=make_engine(EngineSection(kind="inprocess")))
    with lake.connect(tables=["documents"]) as con:
        texts = dict(con.execute("SELECT doc_id, text FROM documents").fetchall())
    return lake, recipe, texts


def test_outputs_near_crawled_documents_and_each_other_are_rejected(deduped_lake):
    lake, recipe, texts = deduped_lake
    t = datetime(2026, 1, 1, tzinfo=UTC)
    more = real_passages("en", 12, 200, 900)
    fresh_en = more[9]  # not in the lake
    other_en = more[10]
    outputs = [
        Output("syn-copy-en", _edit(texts["d0"]), "en", t),
        Output("syn-copy-zh", texts["d3"][:-2] + "，如下所示。", "zh", t),
        Output("syn-a", fresh_en, "en", t),
        Output("syn-a-again", _edit(fresh_en), "en", t + timedelta(seconds=1)),
        Output("syn-unique", other_en, "en", t),
    ]
    got = find_duplicates(lake, recipe.dedup, BATCH, outputs)
    assert set(got) == {"syn-copy-en", "syn-copy-zh", "syn-a-again"}, got
    assert got["syn-copy-en"].rule == DUP_OF_CRAWLED and got["syn-copy-en"].duplicate_of == "d0"
    assert "near duplicate" in got["syn-copy-en"].detail and got["syn-copy-en"].value < 1.0
    assert got["syn-copy-en"].value >= got["syn-copy-en"].threshold == recipe.dedup.threshold
    assert got["syn-copy-zh"].rule == DUP_OF_CRAWLED and got["syn-copy-zh"].duplicate_of == "d3"
    assert got["syn-a-again"].rule == DUP_OF_SYNTHETIC and got["syn-a-again"].duplicate_of == "syn-a"


def test_an_earlier_batch_output_wins_and_exact_copies_are_caught(deduped_lake):
    lake, recipe, texts = deduped_lake
    t = datetime(2026, 1, 2, tzinfo=UTC)
    passage = real_passages("en", 12, 200, 900)[11]
    earlier = [Output("syn-old", passage, "en", t - timedelta(days=1))]
    outputs = [Output("syn-new", _edit(passage), "en", t), Output("syn-exact", texts["d1"], "en", t)]
    got = find_duplicates(lake, recipe.dedup, BATCH, outputs, earlier)
    assert set(got) == {"syn-new", "syn-exact"}  # the earlier output itself is never judged here
    assert got["syn-new"].rule == DUP_OF_SYNTHETIC and got["syn-new"].duplicate_of == "syn-old"
    assert got["syn-exact"].rule == DUP_OF_CRAWLED and got["syn-exact"].duplicate_of == "d1"
    assert got["syn-exact"].value == 1.0 and "exact" in got["syn-exact"].detail
