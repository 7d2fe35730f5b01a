"""`goldpan run`: argument parsing and the crawl recipe built from --seed (the run itself is exercised by
tests/integration/test_real_size.py through the same launch function)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldpan.cli import build_parser
from goldpan.commands.run import _crawl_recipe
from goldpan.recipe_loader import load_recipe

REPO = Path(__file__).resolve().parents[2]


def test_run_needs_warc_files_or_crawl() -> None:
    p = build_parser()
    args = p.parse_args(["run", "--warc", "a.warc.gz", "b/*.warc.gz", "--workers", "2"])
    assert args.warc == ["a.warc.gz", "b/*.warc.gz"] and args.workers == 2 and not args.crawl
    args = p.parse_args(["run", "--crawl", "--seed", "https://docs.example.org/", "--seed", "https://b.example.org/x"])
    assert args.crawl and args.seed == ["https://docs.example.org/", "https://b.example.org/x"]
    with pytest.raises(SystemExit):
        p.parse_args(["run"])
    with pytest.raises(SystemExit):
        p.parse_args(["run", "--crawl", "--warc", "a.warc.gz"])


def test_crawl_seeds_make_a_recipe_that_may_visit_their_hosts(tmp_path) -> None:
    out = _crawl_recipe(str(REPO / "recipes" / "warc.yaml"), ["https://docs.example.org/start"], tmp_path)
    rc = load_recipe(out)
    assert rc.crawl.seeds == ["https://docs.example.org/start"]
    assert "docs.example.org" in rc.crawl.allowed_hosts
    assert rc.mix.languages == ["*"] and rc.mix.effective_sources[0].kind == "lake"


def test_every_language_recipe_keeps_korean_and_japanese_but_still_checks_the_score() -> None:
    from goldpan.mix.select import decide_mix
    from goldpan.recipe import MixSection

    docs = [{"doc_id": d, "batch_id": "b1", "lang": lang, "lang_score": score, "host": "h", "n_tokens": 10}
            for d, lang, score in (("ko", "ko", 0.9), ("ja", "ja", 0.95), ("low", "de", 0.2))]
    rows = {r["doc_id"]: r for r in decide_mix(docs, MixSection(languages=["*"]), "warc@x")}
    assert rows["ko"]["status"] == rows["ja"]["status"] == "kept"
    assert rows["low"]["rule"] == "min_lang_score"
    narrow = {r["doc_id"]: r for r in decide_mix(docs, MixSection(languages=["ja"]), "warc@x")}
    assert narrow["ko"]["rule"] == "lang_not_in_recipe"
