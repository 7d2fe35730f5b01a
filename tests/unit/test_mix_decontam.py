"""Decontamination catches planted eval overlaps in English and Chinese, and nothing else."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from goldpan.decontam.index import DecontamIndex, EvalSetError, build_index, read_texts
from goldpan.decontam.ngrams import units
from goldpan.recipe import EvalSet

EVAL_EN = ("Question: Why do bread doughs need to rest? Answer: Resting lets the gluten relax, so the dough "
           "stretches without tearing and rises evenly in the oven.")
EVAL_ZH = "问题：为什么要在清明前后播种？答案：这个时候气温回升，土地变得松软湿润，正适合播种。"
CLEAN_EN = ("Bread has a reputation for being difficult, but a plain white loaf needs only four ingredients and "
            "a little patience. Resting the dough matters, and so does a hot oven.")
CLEAN_ZH = "清明是二十四节气中的第五个，一般在每年公历四月四日到六日之间。奶奶会把去年留下的南瓜子拿出来。"
PLANTED_EN = ("My grandmother always said it plainly: resting lets the gluten relax, so the dough stretches "
              "without tearing and rises evenly in the oven. She was right about that.")
PLANTED_ZH = "北方的冰雪早已融化，这个时候气温回升，土地变得松软湿润，正适合播种。奶奶会在这几天把种子拿出来。"


@pytest.fixture
def index() -> DecontamIndex:
    idx = DecontamIndex(n=13)
    idx.add("bench-en", [EVAL_EN])
    idx.add("bench-zh", [EVAL_ZH])
    return idx


def test_planted_english_overlap_is_caught_with_the_ngram(index):
    hit = index.check(PLANTED_EN)
    assert hit is not None and hit.eval_set == "bench-en"
    assert hit.ngram.startswith("resting lets the gluten relax") and len(hit.ngram.split()) == 13
    assert hit.hits >= 1


def test_planted_chinese_overlap_is_caught_in_characters(index):
    hit = index.check(PLANTED_ZH)
    assert hit is not None and hit.eval_set == "bench-zh"
    assert len(hit.ngram) == 13 and " " not in hit.ngram and hit.ngram in PLANTED_ZH.replace("，", "")


def test_related_but_clean_texts_are_not_flagged(index):
    # Same topics and shared short phrases ("the dough", "清明", "播种"), no 13-unit overlap.
    assert index.check(CLEAN_EN) is None
    assert index.check(CLEAN_ZH) is None
    assert index.check("") is None and index.check(None) is None


def test_case_width_and_punctuation_do_not_hide_an_overlap(index):
    shouted = "RESTING lets the gluten relax -- so the dough stretches, without tearing; and rises evenly in the oven!"
    assert index.check(shouted) is not None
    fullwidth = "这个时候气温回升土地变得松软湿润正适合播种"  # punctuation removed
    assert index.check(fullwidth) is not None


def test_ngram_size_is_configurable_and_short_items_are_counted():
    idx = DecontamIndex(n=5)
    idx.add("tiny", ["the quick brown fox jumps", "too short"])
    assert idx.too_short == {"tiny": 1} and idx.items == {"tiny": 2}
    assert idx.check("and then the quick brown fox jumps over") is not None
    assert DecontamIndex(n=13).check("the quick brown fox jumps") is None


def test_units_are_words_for_latin_and_characters_for_cjk():
    assert units("Hello, World 42!") == ["hello", "world", "42"]
    assert units("番茄炒蛋，很好") == ["番", "茄", "炒", "蛋", "很", "好"]
    assert units("用 Python 写") == ["用", "python", "写"]


def test_eval_sets_load_from_jsonl_csv_and_parquet(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"question": EVAL_EN}) + "\n\n", encoding="utf-8")
    with (tmp_path / "b.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["id", "question"])
        w.writeheader()
        w.writerow({"id": 1, "question": EVAL_ZH})
    pq.write_table(pa.table({"question": [EVAL_EN, None]}), tmp_path / "c.parquet")
    sets = [EvalSet(name=n, path=str(tmp_path / f), text_column="question")
            for n, f in [("j", "a.jsonl"), ("c", "b.csv"), ("p", "c.parquet")]]
    idx = build_index(sets, 13)
    assert idx.items == {"j": 1, "c": 1, "p": 2}
    assert idx.check(PLANTED_ZH).eval_set == "c"
    assert idx.check(PLANTED_EN).eval_set in {"j", "p"}


def test_bad_eval_files_fail_loudly(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"other": "x"}\n', encoding="utf-8")
    with pytest.raises(EvalSetError, match="no 'text' field"):
        list(read_texts(tmp_path / "x.jsonl"))
    with pytest.raises(EvalSetError, match="not found"):
        list(read_texts(tmp_path / "missing.jsonl"))
    (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(EvalSetError, match="unsupported"):
        list(read_texts(tmp_path / "x.txt"))


def test_shipped_demo_eval_set_flags_exactly_the_two_planted_sample_pages():
    """The demo's eval set overlaps one English and one Chinese sample-site article, nothing else."""
    from pathlib import Path

    idx = build_index([EvalSet(name="demo-eval", path="recipes/eval/demo-eval.jsonl")], 13)
    flagged = set()
    pages = sorted(Path("sample").rglob("*.html"))
    assert pages, "sample site pages not found"
    import re

    for p in pages:
        raw = p.read_bytes()
        for enc in ("utf-8", "gbk", "big5"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        text = re.sub(r"<[^>]+>", " ", text)
        if idx.check(text) is not None:
            flagged.add(p.name)
    assert flagged == {"winter-heating.html", "city-cycling.html"}


def _docs_batches():
    texts = [PLANTED_EN, CLEAN_EN, None, PLANTED_ZH, CLEAN_ZH, "", EVAL_EN, EVAL_ZH]
    for i in range(0, len(texts), 3):
        chunk = texts[i:i + 3]
        yield pa.RecordBatch.from_pydict({"doc_id": [f"d{i + j}" for j in range(len(chunk))],
                                          "text": pa.array(chunk, pa.string())})


def test_decontamination_as_engine_work_finds_what_the_index_finds(index):
    """The join as a batch function (goldpan.decontam.batches): the index is rebuilt from its entries
    (string hashes differ per process; tests/integration/test_ray_engine.py runs it on Ray workers) and
    every row's hit is `index.check` of its text, in input order."""
    from goldpan.decontam.batches import IndexShipment, with_contamination
    from goldpan.decontam.index import DecontamIndex, contamination_of
    from goldpan.engine import InProcessEngine

    rebuilt = DecontamIndex.from_entries(index.n, IndexShipment.of(index).entries)
    assert rebuilt.keys == index.keys
    want = [(r["doc_id"], index.check(r["text"])) for b in _docs_batches() for r in b.to_pylist()]
    assert sum(1 for _, h in want if h is not None) == 4  # planted and verbatim, English and Chinese
    got = [(r["doc_id"], contamination_of(r, index)) for b in with_contamination(InProcessEngine(), _docs_batches(), index)
           for r in b.to_pylist()]
    assert got == want
