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


def test_takedown_of_parent_removes_children_from_next_candidate(synthesized):
    from goldpan.audit.takedowns import TakedownMatcher, record_request
    from goldpan.bpe import stage as tokens_stage
    from goldpan.engine import make_engine
    from goldpan.mix import stage as mix_stage
    from goldpan.recipe import EngineSection
    from goldpan.release.candidate import write_candidate

    lake, _, recipe, _, _ = synthesized
    kept = rows(lake, "status = 'kept'")
    tokens_stage.run(lake, recipe.mix.tokenizer, engine=make_engine(EngineSection(kind="inprocess")))

    def candidate_ids() -> set[str]:
        mix_stage.run(lake, recipe, takedowns=TakedownMatcher.from_lake(lake))
        write_candidate(lake, redact=False)
        with lake.connect(tables=["corpus_candidate"]) as con:
            return {r[0] for r in con.execute("SELECT doc_id FROM corpus_candidate").fetchall()}

    first = candidate_ids()
    child = kept[0]
    assert child["doc_id"] in first and child["parent_ids"][0] in first
    record_request(lake, "url", child["parent_urls"][0], "publisher request", requested_by="test")
    second = candidate_ids()
    assert child["doc_id"] not in second and child["parent_ids"][0] not in second
    with lake.connect(tables=["mix_decisions"]) as con:
        rule, detail = con.execute("SELECT rule, detail FROM mix_decisions WHERE doc_id = ?", [child["doc_id"]]).fetchone()
    assert rule == "takedown_parent" and child["parent_urls"][0] in detail


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
