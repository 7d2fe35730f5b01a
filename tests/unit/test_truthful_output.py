"""Issue 20: output that tells the truth and input errors caught before work starts.

`why` prints the comparison that decided, the funnel shows the tokens each stage loses, export
refuses a release that still holds taken-down pages, recipes name unknown keys with the nearest
valid one, and the CLI answers a user error with one line, whatever the position of --lake.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from goldpan.audit.erase import apply_takedown
from goldpan.audit.takedowns import record_request
from goldpan.cli import main
from goldpan.decontam.index import DecontamIndex
from goldpan.export.writer import ExportError, export_release
from goldpan.lake import Lake
from goldpan.lake.schemas import MIX_DECISIONS
from goldpan.lineage.report import format_funnel
from goldpan.lineage.why import why
from goldpan.mix.select import decide_mix
from goldpan.recipe import MixSection, RecipeError
from goldpan.recipe_loader import parse_recipe
from tests.fixtures.audit_lake import TEXT, URLS, add_kept_document, build_lake

EVAL_EN = ("the lighthouse keeper wrote in his log that the storm broke at midnight and the "
           "fishing boats came home safely before dawn on the second day")
CONTAMINATED = ("Local history. " + EVAL_EN + ". Nobody in the village forgot that night, and the "
                "story is still told to children every winter.")
BASE = {"name": "unit", "crawl": {"seeds": ["http://docs.example/"], "allowed_hosts": ["docs.example"]},
        "mix": {"languages": ["en", "zh"]}}


def test_contamination_is_recorded_as_shared_ngrams_against_none_allowed():
    index = DecontamIndex(n=13)
    index.add("lighthouse-eval", [EVAL_EN])
    docs = [{"doc_id": "d1", "batch_id": "b1", "host": "h", "lang": "en", "lang_score": 0.99, "text": CONTAMINATED,
             "source": "web"}]  # fmt: skip
    (row,) = decide_mix(docs, MixSection(languages=["en"]), "r@1", decontam=index)
    assert row["rule"] == "contaminated"
    hits = len(EVAL_EN.split()) - 13 + 1  # every 13-gram of the eval item occurs in the document
    assert (row["value"], row["threshold"]) == (float(hits), 0.0)  # was (hits, 13): n compared with a count


def test_why_prints_the_comparison_that_decided(tmp_path):
    lake = build_lake(tmp_path / "lake")
    c = why(lake, URLS["C"])
    assert "(value 3 < threshold 50)" in c.headline  # the filter rule's own op
    url = "https://blog.example.org/storm.html"
    add_kept_document(lake, "dS", url, CONTAMINATED)
    dt = lake.table("mix_decisions")
    dt.delete("doc_id = 'dS'")
    lake.write("mix_decisions", [pa.RecordBatch.from_pylist([
        {"doc_id": "dS", "batch_id": "b2", "status": "rejected", "rule": "contaminated", "value": 12.0,
         "threshold": 0.0, "detail": "lighthouse-eval: 12 shared 13-gram(s)", "lang": "en", "repeat": 1}],
        schema=MIX_DECISIONS)], MIX_DECISIONS, mode="append")  # fmt: skip
    lake.table("corpus_candidate").delete("doc_id = 'dS'")
    s = why(lake, url)
    assert (s.stage, s.rule, s.op) == ("mix", "contaminated", ">")
    assert "by contaminated (value 12 > threshold 0)" in s.headline


def test_funnel_shows_tokens_lost_at_each_stage(tmp_path):
    lake = build_lake(tmp_path / "lake")
    dt = lake.table("documents")
    dt.update(updates={"n_tokens": "CASE doc_id WHEN 'dA' THEN 17 WHEN 'dB' THEN 30 ELSE 4 END"})
    text = format_funnel(lake)
    lines = {line.split()[0]: line.split() for line in text.splitlines()[1:] if line and not line.startswith("(")}
    # filter: dA, dB, dC in (51 tokens); dC (4 tokens) rejected
    assert lines["filter"][5:7] == ["51", "4"]
    assert lines["extract"][5:7] == ["51", "0"] and lines["crawl"][5:7] == ["-", "-"]
    assert "tokens lost" in text.splitlines()[0]


def test_export_refuses_a_release_holding_a_taken_down_page(tmp_path, capsys):
    lake = build_lake(tmp_path / "lake")
    assert export_release(lake, "v1", tmp_path / "before").manifest["documents"] == 2
    req = record_request(lake, "url", URLS["B"], "the author asked", requested_by="test")
    apply_takedown(lake, req)
    with pytest.raises(ExportError, match=r"holds 1 page\(s\) taken down .*绿茶\.html"):
        export_release(lake, "v1", tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    assert main(["export", "v1", "--out", str(tmp_path / "cli"), "--lake", lake.root]) == 2
    assert "taken down" in capsys.readouterr().err
    audit = export_release(lake, "v1", tmp_path / "audit", on_takedown="warn")
    assert [u for u, _ in audit.taken_down] == [URLS["B"]]
    assert main(["--lake", lake.root, "export", "v1", "--out", str(tmp_path / "cli2"), "--allow-takedowns"]) == 0
    assert "WARNING" in capsys.readouterr().err


@pytest.mark.parametrize(("path", "value", "message"), [
    ("filter.rules", {"default": {"gopher_min_word": {"min_words": 40}}},
     r"filter\.rules\.default\.gopher_min_word: unknown rule 'gopher_min_word'; did you mean 'gopher_min_words'\?"),
    ("filter.rules", {"zn": {"gopher_min_words": {"min_words": 90}}},
     r"filter\.rules\.zn: unknown language 'zn'.*did you mean 'zh'\?"),
    ("filter.rules", {"zh": {"gopher_min_words": {"min_wrds": 90}}}, r"unknown argument\(s\) \['min_wrds'\]"),
    ("mix.languages", ["en", "chinese"], r"mix\.languages: unknown language 'chinese'"),
    ("gate.language_shares", {"en": 0.5, "zhh": 0.5}, r"gate\.language_shares: unknown language 'zhh'.*'zh'"),
    ("dedupe", {"threshold": 0.9}, r"dedupe: unknown key 'dedupe'; did you mean 'dedup'\?"),
    ("classify.quality.keep.top_fractoin", 0.2, r"top_fractoin: unknown key .*did you mean 'top_fraction'\?"),
])  # fmt: skip
def test_recipe_errors_name_the_key_and_the_nearest_valid_one(path, value, message):
    import copy

    data = copy.deepcopy(BASE)
    *parents, leaf = path.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    with pytest.raises(RecipeError, match=message):
        parse_recipe(data, env={})


def test_cli_user_errors_are_one_line_and_options_go_anywhere(tmp_path, capsys):
    lake = build_lake(tmp_path / "lake")
    assert main(["sql", "SELECT count(*) AS n FROM pages", "--lake", lake.root]) == 0
    assert "3" in capsys.readouterr().out
    assert main(["sql", "SELEC broken", "--lake", lake.root]) == 2
    err = capsys.readouterr().err
    assert err.startswith("goldpan sql: error:") and "Traceback" not in err
    assert main(["--lake", lake.root, "sql", "SELECT * FROM no_such_table"]) == 2
    assert "no_such_table" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncrawl: {seeds: ['http://a.example/'], allowed_hosts: [a.example]}\n"
                   "mix: {languages: [en]}\nfilter: {rules: {default: {gopher_stop_word: {min_count: 2}}}}\n")
    assert main(["sweep", "gopher_stop_words", "--recipe", str(bad), "--lake", lake.root]) == 2
    assert "did you mean 'gopher_stop_words'" in capsys.readouterr().err


def test_cli_without_traceback_in_a_real_process(tmp_path):
    import subprocess
    import sys

    lake = Lake(tmp_path / "lake")
    lake.write("pages", [pa.RecordBatch.from_pylist([{"page_id": "p", "url": "u", "content": TEXT["A"].encode()}],
                                                    schema=pa.schema([("page_id", pa.string()), ("url", pa.string()),
                                                                      ("content", pa.binary())]))],
               pa.schema([("page_id", pa.string()), ("url", pa.string()), ("content", pa.binary())]), mode="append")
    out = subprocess.run([sys.executable, "-m", "goldpan.cli", "sql", "SELECT nope FROM pages", "--lake", lake.root],
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr and "nope" in out.stderr
