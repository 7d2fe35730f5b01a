"""Issue 18: clusters merged across batches, contained pages, templated pages kept apart, supersession
in the mix, and the pure signature function. Real components: the matcher, the Delta index store,
DuckDB; texts written for the tests (English and Chinese)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from goldpan.dedup import BatchDeduplicator, DedupInput, MemoryPriorStore
from goldpan.dedup import settings as dedup_settings
from goldpan.dedup.candidates import choose_banding, collision_probability
from goldpan.dedup.clusters import MERGE_CONTAINED, MERGE_LINKED, MERGE_REPRESENTATIVE, resolve_clusters
from goldpan.dedup.signatures import SignatureBatch, compute_signatures, doc_sequence, doc_shingles
from goldpan.dedup.store import DeltaPriorStore, read_merges, write_index
from goldpan.dedup.verify import verify_pair
from goldpan.lake import Lake, batch_predicate
from goldpan.lake.schemas import DEDUP_CLUSTERS, DEDUP_MERGES, DOCUMENTS
from goldpan.recipe import DedupSection
from tests.fixtures.dedup_texts import BOILERPLATE, EN_BICYCLE, EN_GARDEN, ZH_RIVER, ZH_TEA, edit_scattered


def doc(doc_id: str, text: str, lang: str = "en", t: float = 0.0, url: str | None = None) -> DedupInput:
    return DedupInput(doc_id, text, lang, url, t)


def run(store: MemoryPriorStore, batch: str, docs: list[DedupInput], **cfg):
    dd = BatchDeduplicator(DedupSection(paragraph_dedup=False, **cfg))
    out = dd.run(docs, store.begin(batch))
    store.commit(batch, docs, out)
    return {r.doc_id: r for r in out.results}, out


# ------------------------------------------------------------------ cross-batch merges
def _bridge() -> tuple[str, str, str]:
    """Three versions of one story: A and B each change 10% of C's words (different ones), so A ~ C
    and B ~ C pass verification while A and B (Jaccard ~0.39) do not."""
    c = edit_scattered(EN_GARDEN, 0.10, seed=101)
    return edit_scattered(c, 0.10, seed=201), edit_scattered(c, 0.10, seed=301), c


def test_third_batch_links_two_clusters_and_the_merge_is_recorded() -> None:
    a, b, c = _bridge()
    store = MemoryPriorStore()
    r1, _ = run(store, "b1", [doc("a", a), doc("tea", ZH_TEA, "zh")])
    r2, _ = run(store, "b2", [doc("b", b)])
    assert r1["a"].is_representative and r2["b"].status == "kept" and r2["b"].cluster_id == "b"
    # batch 3: the version both were edited from links the two clusters
    r3, out3 = run(store, "b3", [doc("c", c)])
    assert (r3["c"].rule, r3["c"].match, r3["c"].cluster_id) == ("near_duplicate", "jaccard", "a")
    assert len(out3.merges) == 1
    m = out3.merges[0]
    assert (m.cluster_id, m.into_cluster_id, m.old_representative, m.new_representative) == ("b", "a", "b", "a")
    assert (m.via_doc_id, m.linked_to, m.reason, m.representative_rule) == ("c", "b", MERGE_LINKED, "oldest")
    assert m.similarity >= 0.4 and m.match == "jaccard"
    # a fourth batch's copy of b lands in the merged cluster, counted whole
    r4, _ = run(store, "b4", [doc("b-copy", b.replace("garden", "park"))])
    assert r4["b-copy"].cluster_id == "a" and r4["b-copy"].cluster_size == 4
    assert resolve_clusters(store.merges())["b"].cluster_id == "a"
    assert r1["tea"].cluster_id == "tea"  # the Chinese page was never touched


def test_page_containing_two_earlier_pages_replaces_them() -> None:
    """A later page holding two earlier pages whole: the container is kept whatever the rule (dropping
    it would lose text) and both earlier representatives are recorded as contained in it."""
    store = MemoryPriorStore()
    run(store, "b1", [doc("garden", EN_GARDEN)])
    run(store, "b2", [doc("bicycle", EN_BICYCLE)])
    r3, out3 = run(store, "b3", [doc("digest", f"{EN_GARDEN}\n\n{EN_BICYCLE}")])
    assert r3["digest"].status == "kept" and r3["digest"].is_representative and r3["digest"].cluster_id == "digest"
    assert {(m.cluster_id, m.into_cluster_id, m.old_representative, m.new_representative, m.reason)
            for m in out3.merges} == {("garden", "digest", "garden", "digest", MERGE_CONTAINED),
                                      ("bicycle", "digest", "bicycle", "digest", MERGE_CONTAINED)}


def test_representative_rule_newest_and_longest() -> None:
    a, b, c = _bridge()
    store = MemoryPriorStore()
    run(store, "b1", [doc("a", a)], representative="newest")
    run(store, "b2", [doc("b", b)], representative="newest")
    r3, out3 = run(store, "b3", [doc("c", c)], representative="newest")
    assert r3["c"].status == "kept" and r3["c"].is_representative
    assert {m.new_representative for m in out3.merges} == {"c"}
    assert {m.reason for m in out3.merges} == {MERGE_LINKED, MERGE_REPRESENTATIVE}
    # longest: a short later copy does not replace the earlier representative
    store = MemoryPriorStore()
    run(store, "b1", [doc("a", a)], representative="longest")
    r2, out2 = run(store, "b2", [doc("c-short", " ".join(c.split()[:-12]))], representative="longest")
    assert r2["c-short"].rule == "near_duplicate" and out2.merges == []


# ------------------------------------------------------------------ containment and templates
def test_contained_page_is_found_in_batch_and_across_batches() -> None:
    store = MemoryPriorStore()
    section = EN_BICYCLE
    long_page = f"{EN_GARDEN}\n\n{section}\n\nComments are closed for this article."
    r1, _ = run(store, "b1", [doc("long", long_page, t=1), doc("section", section, t=2)])
    assert (r1["section"].rule, r1["section"].match, r1["section"].duplicate_of) == (
        "near_duplicate", "containment", "long")
    assert r1["section"].similarity >= 0.95 and r1["section"].threshold == 0.8
    # Chinese: an earlier article quoted whole inside a longer page of a later batch: the longer page
    # is kept and the earlier one recorded as contained in it (the mixer then drops it)
    run(store, "b2", [doc("river", ZH_RIVER, "zh")])
    r3, out3 = run(store, "b3", [doc("zh-digest", ZH_TEA + "\n" + ZH_RIVER + "\n以上内容转载自地方新闻。", "zh")])
    assert r3["zh-digest"].status == "kept"
    assert [(m.old_representative, m.new_representative, m.reason, m.match) for m in out3.merges] == [
        ("river", "zh-digest", MERGE_CONTAINED, "containment")]
    # and a later excerpt of the Chinese digest is a contained duplicate of it
    r4, _ = run(store, "b4", [doc("zh-excerpt", ZH_RIVER, "zh")])
    assert (r4["zh-excerpt"].rule, r4["zh-excerpt"].match) in {("exact_duplicate", None), ("near_duplicate", "containment")}


def test_container_takes_the_contained_page_and_its_copies_and_later_copies_find_it() -> None:
    """The section has an edited copy in its batch and sits inside a longer page: the section's
    cluster moves into the container's (the container is kept), and an edited copy of the section
    in a later batch finds that cluster through the section, which stays in the index although the
    container alone would not match it (Jaccard of the copy with the long page < threshold)."""
    store = MemoryPriorStore()
    section = EN_BICYCLE
    long_page = f"{EN_GARDEN}\n\n{section}\n\nComments are closed for this article."
    r1, _ = run(store, "b1", [doc("section", section, t=1), doc("copy1", edit_scattered(section, 0.05, seed=7), t=2),
                              doc("long", long_page, t=3)])
    assert r1["long"].is_representative and r1["long"].status == "kept"
    assert (r1["section"].duplicate_of, r1["section"].match) == ("long", "containment")
    assert r1["copy1"].duplicate_of == "section" and r1["copy1"].cluster_id == r1["long"].cluster_id == "long"
    r2, _ = run(store, "b2", [doc("copy2", edit_scattered(section, 0.08, seed=9), t=4)])
    assert r2["copy2"].rule == "near_duplicate" and r2["copy2"].cluster_id == "long"


def test_unrelated_pages_in_one_template_are_not_merged() -> None:
    cfg = DedupSection()
    body_a = " ".join(EN_GARDEN.split()[:120])
    body_b = " ".join(EN_BICYCLE.split()[:120])
    page_a = f"{BOILERPLATE}\n{body_a}\n{BOILERPLATE}"
    page_b = f"{BOILERPLATE}\n{body_b}\n{BOILERPLATE}"
    sc = dedup_settings.signature_config(cfg)
    v = verify_pair(doc_shingles(page_a, "en", sc), doc_sequence(page_a, "en", sc), doc_shingles(page_b, "en", sc),
                    doc_sequence(page_b, "en", sc), dedup_settings.verify_config(cfg))
    assert v.match is None and v.coverage < cfg.segment_min
    store = MemoryPriorStore()
    r, _ = run(store, "b1", [doc("a", page_a, t=1), doc("b", page_b, t=2)])
    assert r["a"].status == r["b"].status == "kept" and r["b"].cluster_id == "b"
    # the same template around an edited copy of one body is still a duplicate
    copy = page_a.replace("neighbours", "residents").replace("volunteers", "helpers")
    r, _ = run(store, "b2", [doc("a-copy", copy)])
    assert (r["a-copy"].rule, r["a-copy"].duplicate_of) == ("near_duplicate", "a")


# ------------------------------------------------------------------ the pure signature function
def test_compute_signatures_slices_concatenate_to_the_whole_batch() -> None:
    cfg = dedup_settings.signature_config(DedupSection())
    texts = [EN_GARDEN, EN_BICYCLE, ZH_TEA, ZH_RIVER, "", "short words only"]
    langs = ["en", "en", "zh", "zh", "en", "en"]
    whole = compute_signatures(texts, langs, cfg)
    parts = SignatureBatch.concat([compute_signatures(texts[:3], langs[:3], cfg), compute_signatures(texts[3:], langs[3:], cfg)])
    for name in ("signatures", "band_keys", "offsets", "shingles", "seq_offsets", "sequences"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name)), name
    assert whole.text_sha1 == parts.text_sha1 and whole.n_shingles(4) == 0
    assert whole.signatures.shape == (6, 256) and whole.band_keys.dtype == np.int64


def test_banding_from_the_s_curve() -> None:
    b, r = choose_banding(0.4, 256, 0.97)
    assert b * r <= 256 and collision_probability(0.4, b, r) >= 0.97
    assert collision_probability(0.1, b, r) < 0.1
    b8, r8 = choose_banding(0.8, 256, 0.97)
    assert r8 > r and collision_probability(0.8, b8, r8) >= 0.97


# ------------------------------------------------------------------ Delta: merges recorded, mix drops
def _commit(lake: Lake, batch: str, docs: list[DedupInput], urls: dict[str, str], **cfg) -> dict:
    dd = BatchDeduplicator(DedupSection(paragraph_dedup=False, **cfg))
    docs = [DedupInput(d.doc_id, d.text, d.lang, urls[d.doc_id], d.fetched_at) for d in docs]
    lake.write("documents", [pa.RecordBatch.from_pylist(
        [{"doc_id": d.doc_id, "page_id": "p" + d.doc_id, "batch_id": batch, "url": urls[d.doc_id], "status": "kept",
          "text": d.text, "lang": d.lang} for d in docs], schema=DOCUMENTS)], DOCUMENTS, mode="append")
    out = dd.run(docs, DeltaPriorStore(lake, batch, dd.config_id))
    rows = [{"doc_id": r.doc_id, "page_id": "p" + r.doc_id, "batch_id": batch, "url": urls[r.doc_id],
             "text_sha1": r.text_sha1, "cluster_id": r.cluster_id, "is_representative": r.is_representative,
             "status": r.status, "rule": r.rule, "duplicate_of": r.duplicate_of, "similarity": r.similarity,
             "minhash_config": dd.config_id, "signature": r.signature.astype(np.int64).tolist(),
             "supersedes": r.supersedes, "match": r.match} for r in out.results]
    lake.write("dedup_clusters", [pa.RecordBatch.from_pylist(rows, schema=DEDUP_CLUSTERS)], DEDUP_CLUSTERS,
               predicate=batch_predicate("batch_id", batch), partition_by=["batch_id"])
    write_index(lake, batch, dd.config_id, out)
    return {r.doc_id: r for r in out.results}


def test_delta_index_merges_across_three_batches_and_the_mix_drops_stale_rows(tmp_path) -> None:
    from goldpan.mix.select import decide_mix
    from goldpan.mix.stage import DEDUP_LATER_SQL
    from goldpan.recipe import MixSection

    lake = Lake(tmp_path / "lake")
    urls = {"garden": "https://a.example/garden", "bicycle": "https://b.example/bike",
            "digest": "https://c.example/digest", "garden-v2": "https://a.example/garden"}
    _commit(lake, "b1", [doc("garden", EN_GARDEN, t=1)], urls)
    _commit(lake, "b2", [doc("bicycle", EN_BICYCLE, t=2)], urls)
    r3 = _commit(lake, "b3", [doc("digest", f"{EN_GARDEN}\n\n{EN_BICYCLE}", t=3)], urls)
    assert r3["digest"].is_representative
    merges = read_merges(lake)
    assert {(m.cluster_id, m.new_representative) for m in merges} == {("garden", "digest"), ("bicycle", "digest")}
    assert all(m.new_representative_batch == "b3" for m in merges)
    # a newer fetch of the garden URL with new content supersedes the garden page
    new_text = EN_GARDEN.replace("forty two beds", "sixty beds") + " Update: the council renewed the lease."
    r4 = _commit(lake, "b4", [doc("garden-v2", ZH_RIVER + " " + new_text[:200], "zh", t=4)], urls)
    assert r4["garden-v2"].supersedes == "garden" and r4["garden-v2"].status == "kept"
    with lake.connect(tables=["dedup_clusters", "dedup_merges"]) as con:
        rows = con.execute(f"SELECT d.doc_id, d.batch_id, 'en' AS lang, 1.0 AS lang_score, NULL AS host, "
                           f"sup.superseded_by, mg.replaced_by FROM dedup_clusters d {DEDUP_LATER_SQL} "
                           "WHERE d.status = 'kept' ORDER BY d.doc_id").fetchall()
    cols = ["doc_id", "batch_id", "lang", "lang_score", "host", "superseded_by", "replaced_by"]
    docs = [dict(zip(cols, r, strict=True)) for r in rows]
    decided = {d["doc_id"]: d for d in decide_mix(docs, MixSection(languages=["en"]), "r@1")}
    assert (decided["garden"]["rule"], decided["garden"]["status"]) == ("superseded", "rejected")
    assert "garden-v2" in decided["garden"]["detail"]
    assert decided["bicycle"]["rule"] == "cluster_representative_replaced" and "digest" in decided["bicycle"]["detail"]
    assert decided["digest"]["status"] == "kept"
    assert DEDUP_MERGES.names == lake.table("dedup_merges").schema().to_arrow().names
    # goldpan clusters / trace explain the merged cluster
    from goldpan.dedup import report

    with lake.connect(tables=["dedup_clusters", "dedup_merges"]) as con:
        members = report.cluster_members(con, "bicycle")
        history = report.cluster_history(con, "bicycle")
    assert members[0]["doc_id"] == "digest" and members[0]["is_representative"]
    assert {m["doc_id"] for m in members} == {"garden", "bicycle", "digest"}
    assert {(h["cluster_id"], h["via_doc_id"], h["match"], h["reason"]) for h in history} == {
        ("garden", "digest", "containment", MERGE_CONTAINED), ("bicycle", "digest", "containment", MERGE_CONTAINED)}
