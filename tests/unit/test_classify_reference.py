"""Reference-set loaders (text, JSONL, Delta): good input streams texts, bad input names the problem."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from goldpan.classify.reference import ReferenceError, ReferenceSource, iter_reference, load_reference
from goldpan.lake import Lake
from tests.fixtures.classify_samples import GOOD_EN, GOOD_ZH


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_text_file_blocks_and_folders(tmp_path):
    f = tmp_path / "book.txt"
    f.write_text(GOOD_EN[0] + "\n\n\n" + GOOD_ZH[0] + "\nsecond line of the same block\n\nshort\n", encoding="utf-8")
    texts = list(iter_reference(ReferenceSource("text", str(f))))
    assert texts == [GOOD_EN[0], GOOD_ZH[0] + "\nsecond line of the same block"]  # "short" < min_chars
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text(GOOD_EN[1], encoding="utf-8")
    assert len(list(iter_reference(ReferenceSource("text", str(tmp_path))))) == 3


def test_jsonl_field_and_limit(tmp_path):
    p = _jsonl(tmp_path / "r.jsonl", [{"body": t} for t in GOOD_EN + GOOD_ZH])
    src = ReferenceSource("jsonl", str(p), field="body")
    assert load_reference([src], limit=3) == GOOD_EN[:3]
    assert len(load_reference([src])) == len(GOOD_EN) + len(GOOD_ZH)


def test_shipped_reference_sets_load():
    for name in ("quality_en", "quality_zh", "math_seed", "code_seed", "general_seed"):
        texts = load_reference([ReferenceSource("jsonl", f"shipped:{name}.jsonl")])
        assert len(texts) > 100, name
    zh = load_reference([ReferenceSource("jsonl", "shipped:quality_zh.jsonl")], limit=5)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in zh)


def test_delta_by_path_and_by_lake_table_name(tmp_path):
    lake = Lake(tmp_path / "lake")
    schema = pa.schema([("id", pa.int64()), ("text", pa.large_string())])
    lake.write("hq_reference", pa.table({"id": [1, 2], "text": [GOOD_EN[0], GOOD_ZH[0]]}, schema=schema), schema)
    assert load_reference([ReferenceSource("delta", lake.uri("hq_reference"))]) == [GOOD_EN[0], GOOD_ZH[0]]
    assert load_reference([ReferenceSource("delta", "hq_reference")], lake=lake) == [GOOD_EN[0], GOOD_ZH[0]]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: ReferenceSource("text", str(d / "nope.txt")), "file not found"),
        (lambda d: ReferenceSource("jsonl", str(d / "nope.jsonl")), "file not found"),
        (lambda d: ReferenceSource("text", str(_touch(d / "empty.txt"))), "no text of at least"),
        (lambda d: ReferenceSource("jsonl", str(_touch(d / "empty.jsonl"))), "no text of at least"),
        (lambda d: ReferenceSource("jsonl", str(_jsonl(d / "w.jsonl", [{"body": GOOD_EN[0]}]))), "no field 'text'"),
        (lambda d: ReferenceSource("jsonl", str(_jsonl(d / "n.jsonl", [{"text": 42}]))), "not a string"),
        (lambda d: ReferenceSource("jsonl", str(_write(d / "bad.jsonl", '{"text": "ok"\n'))), "line 1 is not JSON"),
        (lambda d: ReferenceSource("text", str(_write(d / "latin1.txt", b"caf\xe9 au lait " * 5))), "not UTF-8"),
        (lambda d: ReferenceSource("text", str(_mkdir(d / "nofiles"))), "no .txt files"),
        (lambda d: ReferenceSource("delta", str(d / "no_table")), "no Delta table"),
        (lambda d: ReferenceSource("parquet", str(d)), "unknown kind"),
    ],
)
def test_bad_reference_input_gives_a_clear_error(tmp_path, make, match):
    with pytest.raises(ReferenceError, match=match):
        load_reference([make(tmp_path)])


def test_delta_wrong_or_non_text_column(tmp_path):
    lake = Lake(tmp_path / "lake")
    schema = pa.schema([("id", pa.int64()), ("body", pa.string())])
    lake.write("ref", pa.table({"id": [1], "body": [GOOD_EN[0]]}, schema=schema), schema)
    with pytest.raises(ReferenceError, match="no column 'text'"):
        load_reference([ReferenceSource("delta", "ref")], lake=lake)
    with pytest.raises(ReferenceError, match="not text"):
        load_reference([ReferenceSource("delta", "ref", field="id")], lake=lake)


def test_no_sources_is_an_error():
    with pytest.raises(ReferenceError, match="no reference sources"):
        load_reference([])


def _touch(p):
    p.write_text("", encoding="utf-8")
    return p


def _write(p, content):
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def _mkdir(p):
    p.mkdir()
    return p
