"""Unit tests for goldpan.mix.select.decide_mix: one decision row per document, named rules."""

from __future__ import annotations

import pytest

from goldpan.lake.schemas import KEPT, MIX_DECISIONS, REJECTED
from goldpan.mix.select import decide_mix
from goldpan.recipe import MixSection

RID = "unit@0123456789ab"


def doc(doc_id: str, lang: str | None = "en", score: float | None = 0.95, host: str = "a.example") -> dict:
    return {"doc_id": doc_id, "batch_id": "b1", "lang": lang, "lang_score": score, "host": host}


def decide(docs, **cfg) -> list[dict]:
    section = MixSection(**({"languages": ["en", "zh"]} | cfg))
    return list(decide_mix(docs, section, RID))


def test_kept_row_has_every_mix_decisions_column():
    (row,) = decide([doc("d1")], source="sample-web")
    assert list(row) == MIX_DECISIONS.names
    assert row == {
        "doc_id": "d1",
        "batch_id": "b1",
        "status": KEPT,
        "rule": None,
        "value": None,
        "threshold": None,
        "detail": None,
        "lang": "en",
        "source": "sample-web",
        "repeat": 1,
        "recipe_id": RID,
        "origin": "lake",
        "domain": "general",
        "quality_score": None,
        "n_tokens": None,
    }


def test_language_not_in_recipe():
    rows = decide([doc("d-de", lang="de"), doc("d-none", lang=None), doc("d-zh", lang="zh")])
    assert [(r["doc_id"], r["status"], r["rule"]) for r in rows] == [
        ("d-de", REJECTED, "lang_not_in_recipe"),
        ("d-none", REJECTED, "lang_not_in_recipe"),
        ("d-zh", KEPT, None),
    ]
    assert rows[0]["detail"] == "de not in ['en', 'zh']"
    assert rows[0]["lang"] == "de"
    assert (rows[0]["value"], rows[0]["threshold"]) == (None, None)


def test_low_language_score_records_value_and_threshold():
    rows = decide(
        [doc("low", score=0.31), doc("edge", score=0.6), doc("none", score=None)], min_lang_score=0.6
    )
    low, edge, none = rows
    assert (low["status"], low["rule"], low["value"], low["threshold"]) == (
        REJECTED,
        "min_lang_score",
        0.31,
        0.6,
    )
    assert (edge["status"], edge["rule"]) == (KEPT, None)  # at the threshold is enough
    assert (none["status"], none["rule"], none["value"], none["threshold"]) == (
        REJECTED,
        "min_lang_score",
        None,
        0.6,
    )


def test_language_rule_is_checked_before_score():
    (row,) = decide([doc("d", lang="fr", score=0.1)])
    assert row["rule"] == "lang_not_in_recipe"


def test_max_docs_per_domain_keeps_the_first_docs_in_input_order():
    docs = [
        doc("a1", host="a.example"),
        doc("a2", host="a.example"),
        doc("a3", host="a.example"),
        doc("a4", host="a.example"),
        doc("b1", host="b.example"),
        doc("b2", host="b.example"),
        doc("b3", host="b.example"),
    ]
    rows = decide(docs, max_docs_per_domain=2)
    assert [(r["doc_id"], r["status"]) for r in rows] == [
        ("a1", KEPT),
        ("a2", KEPT),
        ("a3", REJECTED),
        ("a4", REJECTED),
        ("b1", KEPT),
        ("b2", KEPT),
        ("b3", REJECTED),
    ]
    a3, a4, b3 = rows[2], rows[3], rows[6]
    assert (a3["rule"], a3["value"], a3["threshold"]) == ("max_docs_per_domain", 3.0, 2.0)
    # value is "this would be the n-th document of the domain"; rejected docs do not count up.
    assert (a4["rule"], a4["value"], a4["threshold"]) == ("max_docs_per_domain", 3.0, 2.0)
    assert (b3["rule"], b3["value"]) == ("max_docs_per_domain", 3.0)
    # Same input, same decisions.
    assert decide(docs, max_docs_per_domain=2) == rows


def test_domain_cap_counts_only_kept_documents():
    docs = [
        doc("a1", host="a.example", lang="de"),  # rejected by language: does not use the quota
        doc("a2", host="a.example", score=0.1),  # rejected by score: does not use the quota
        doc("a3", host="a.example"),
        doc("a4", host="a.example"),
    ]
    rows = decide(docs, max_docs_per_domain=1)
    assert [(r["doc_id"], r["rule"]) for r in rows] == [
        ("a1", "lang_not_in_recipe"),
        ("a2", "min_lang_score"),
        ("a3", None),
        ("a4", "max_docs_per_domain"),
    ]


def test_missing_host_is_its_own_domain():
    docs = [doc("x1", host=None), doc("x2", host=None), {**doc("x3"), "host": None}]
    rows = decide(docs, max_docs_per_domain=2)
    assert [r["status"] for r in rows] == [KEPT, KEPT, REJECTED]


def test_no_cap_keeps_everything_eligible():
    rows = decide([doc(f"d{i}") for i in range(50)])
    assert [r["status"] for r in rows] == [KEPT] * 50


def test_decide_mix_is_lazy_and_streams():
    gen = decide_mix(iter([doc("d1"), doc("d2")]), MixSection(languages=["en"]), RID)
    assert next(gen)["doc_id"] == "d1"
    assert next(gen)["doc_id"] == "d2"
    with pytest.raises(StopIteration):
        next(gen)


# -- rules added by the release stage ------------------------------------------------------------

class _Takedowns:
    def match(self, url):
        return "td-1" if url == "http://a.example/gone" else None


def test_takedown_rejects_with_request_id_and_no_value():
    docs = [doc("d1") | {"url": "http://a.example/gone"}, doc("d2") | {"url": "http://a.example/ok"}]
    rows = list(decide_mix(docs, MixSection(languages=["en"]), RID, takedowns=_Takedowns()))
    assert rows[0] | {} == rows[0] and rows[0]["status"] == REJECTED and rows[0]["rule"] == "takedown"
    assert rows[0]["detail"] == "td-1" and rows[0]["value"] is None and rows[0]["threshold"] is None
    assert rows[1]["status"] == KEPT


def test_quality_and_domain_filters_use_doc_scores():
    docs = [
        doc("low") | {"quality_score": 0.2, "domain": "general"},
        doc("unscored"),
        doc("code") | {"quality_score": 0.9, "domain": "code"},
        doc("good") | {"quality_score": 0.9, "domain": "general"},
    ]
    rows = {r["doc_id"]: r for r in decide(docs, min_quality_score=0.5, domains=["general"])}
    assert (rows["low"]["rule"], rows["low"]["value"], rows["low"]["threshold"]) == ("min_quality_score", 0.2, 0.5)
    assert rows["unscored"]["rule"] == "min_quality_score" and rows["unscored"]["detail"] == "no doc_scores row"
    assert rows["code"]["rule"] == "domain_not_in_recipe"
    assert rows["good"]["status"] == KEPT


def test_record_without_text_is_an_error_row_not_a_drop():
    (row,) = decide([doc("empty") | {"text": "  "}])
    assert (row["status"], row["rule"]) == ("error", "no_text")


def test_document_outside_every_recipe_source_is_rejected_with_reason():
    (row,) = decide([doc("x") | {"source": None, "source_detail": "batch b9 matches no lake source"}])
    assert (row["status"], row["rule"], row["detail"]) == (REJECTED, "source_not_in_recipe", "batch b9 matches no lake source")
