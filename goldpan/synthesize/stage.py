"""The synthesize stage for one batch: select parents, render prompts, reuse cached answers, send the
rest to the endpoint, judge every answer, and write `synthetic_documents`.

Cache and resume: each output has a `cache_key` (model sha256, rendered prompt hash, sampling
parameters, seed, parent text hashes). A row with an answer (`answered`) under the same key, in any
batch, is reused and no request is sent; the endpoint is not even started when every key hits.
Answers are appended in chunks of `synthesize.chunk_rows` while the batch runs, so a run killed
mid-batch leaves its committed answers in the table and the next run repeats only the requests that
were in flight. The batch's slice is finally replaced with exactly one row per (task, parent,
output index): parents selected x outputs per parent = outputs + errors, per task.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from goldpan.filter.rules import ruleset_from_section
from goldpan.filter.signals import compute_signals
from goldpan.lake import Lake, WriteResult, batch_predicate
from goldpan.lake.delta import rows_to_batches
from goldpan.lake.schemas import ERROR, KEPT, REJECTED, SYNTHETIC_DOCUMENTS
from goldpan.llm.client import EndpointConfig, LLMRequest, LLMResult
from goldpan.llm.endpoint import Endpoint
from goldpan.recipe import Recipe, SynthTask
from goldpan.synthesize.guard import Guard
from goldpan.synthesize.near_dups import DupVerdict, Output, earlier_outputs, find_duplicates
from goldpan.synthesize.prompts import load_template
from goldpan.synthesize.select import Parent, select_parents

EMPTY, LENGTH = "empty", "length"  # answered, but not usable: error rows (cached: the same prompt gives the same)
PENDING = "pending"  # an answer committed mid-batch (cache material), before the final slice is written


@dataclass(frozen=True)
class ModelIdentity:
    """What names the weights before any server runs (the cache key must not need a request)."""

    name: str
    sha256: str | None

    @property
    def key(self) -> str:
        return self.sha256 or f"remote:{self.name}"


def model_identity(cfg: EndpointConfig) -> ModelIdentity:
    if cfg.base_url:
        return ModelIdentity(cfg.model, None)
    from goldpan.llm.models import resolve_model

    m = resolve_model(cfg.model)
    return ModelIdentity(m.name, m.sha256)


@dataclass(frozen=True)
class Unit:
    """One output to obtain: a task, a parent, an output index, and its rendered request."""

    task: SynthTask
    parent: Parent
    output_index: int
    template_id: str
    template_sha1: str
    system: str | None
    prompt: str
    params: dict
    cache_key: str

    @property
    def prompt_sha1(self) -> str:
        return hashlib.sha1(f"{self.system or ''}\x1e{self.prompt}".encode()).hexdigest()

    @property
    def doc_id(self) -> str:
        """Stable per (task, parent, output index, cache key): two tasks may share an answer, not a row."""
        ident = f"{self.task.name}\x1f{self.parent.doc_id}\x1f{self.output_index}\x1f{self.cache_key}"
        return "syn-" + hashlib.sha1(ident.encode()).hexdigest()[:20]

    def request(self) -> LLMRequest:
        kind = "completion" if self.task.kind == "continuation" else "chat"
        return LLMRequest(self.cache_key, kind, self.prompt, self.params, None if kind == "completion" else self.system)


def build_units(lake: Lake, recipe: Recipe, batch_id: str, model: ModelIdentity) -> Iterator[Unit]:
    section = recipe.synthesize
    for task in section.tasks:
        for parent in select_parents(lake, task, batch_id):
            tpl = load_template(section.prompts_dir, task.template, parent.lang)
            system, prompt = tpl.render(parent.passage, task.style)
            for k in range(task.outputs_per_parent):
                params = {"max_tokens": task.max_tokens, "temperature": task.temperature, "top_p": task.top_p,
                          "seed": task.seed + k, **({"stop": list(task.stop)} if task.stop else {})}
                prompt_sha1 = hashlib.sha1(f"{system or ''}\x1e{prompt}".encode()).hexdigest()
                key = hashlib.sha256(json.dumps([model.key, prompt_sha1, params, params["seed"], [parent.passage_sha1]],
                                                sort_keys=True).encode()).hexdigest()
                yield Unit(task, parent, k, tpl.template_id, tpl.sha1, system, prompt, params, key)


@dataclass
class SynthResult:
    written: WriteResult | None
    by_task: dict[str, dict[str, int]] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    requests: int = 0  # HTTP requests sent (retries included)
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    request_seconds: float = 0.0
    endpoint: dict | None = None

    @property
    def balanced(self) -> bool:
        return all(v["selected"] == v["outputs"] + v["errors"] for v in self.by_task.values())

    def metadata(self) -> dict:
        tps = self.tokens_out / self.request_seconds if self.request_seconds > 0 else 0.0
        return {"requests": self.requests, "cache_hits": self.cache_hits, "tokens_in": self.tokens_in,
                "tokens_out": self.tokens_out, "tokens_spent": self.tokens_in + self.tokens_out,
                "tokens_out_per_s": round(tps, 2), "errors": sum(v["errors"] for v in self.by_task.values()),
                "by_task": self.by_task, "rules": self.rules}


class Judge:
    """Turns an answer into a row outcome: usable or not, then the guard, duplicates, the filter rules.

    Duplicates need the whole batch: `find_duplicates` runs once over every usable answer (goldpan's
    dedup against the crawled corpus, earlier kept outputs and each other, `near_dups`) before rows are
    judged one by one."""

    def __init__(self, recipe: Recipe, identify, duplicates: dict[str, DupVerdict] | None = None):
        self.guard = Guard(recipe.synthesize.guard, identify)
        self.ruleset = ruleset_from_section(recipe.filter) if recipe.synthesize.apply_filter else None
        self.duplicates = duplicates or {}

    @staticmethod
    def unusable(unit: Unit, row: dict) -> bool:
        """An answer that is no output (empty, or cut at max_tokens) becomes an error row."""
        text = row["text"]
        if not text or not text.strip():
            row.update(status=ERROR, rule=EMPTY, detail="the model returned no text")
            return True
        if row["finish_reason"] == "length":
            row.update(status=ERROR, rule=LENGTH, value=float(row["tokens_out"] or 0), op=">=",
                       threshold=float(unit.task.max_tokens), detail="output cut at max_tokens")
            return True
        return False

    def judge(self, unit: Unit, row: dict) -> None:
        if self.unusable(unit, row):
            return
        text = row["text"]
        fails = self.guard.check(text, [unit.parent.passage], unit.parent.lang, unit.task.skip_guard)
        failures = [{"rule": f.rule, "value": f.value, "op": f.op, "threshold": f.threshold, "detail": f.detail}
                    for f in fails]
        if (dup := self.duplicates.get(row["doc_id"])) is not None:
            failures.append({"rule": dup.rule, "value": dup.value, "op": ">=", "threshold": dup.threshold,
                             "detail": dup.detail})
        signals = compute_signals(text, unit.parent.lang) if self.ruleset is not None else {}
        for f in self.ruleset.evaluate(row["doc_id"], unit.parent.lang, signals) if self.ruleset is not None else ():
            failures.append({"rule": f"filter.{f.rule}", "value": f.value, "op": f.op, "threshold": f.threshold,
                             "detail": "filter rule"})
        row["guard_json"] = json.dumps(failures, ensure_ascii=False) if failures else None
        if failures:
            first = failures[0]
            row.update(status=REJECTED, rule=first["rule"], value=first["value"], op=first["op"],
                       threshold=first["threshold"], detail=first["detail"])
        else:
            row.update(status=KEPT, rule=None, value=None, op=None, threshold=None, detail=None)


def _duplicates(lake: Lake, recipe: Recipe, batch_id: str, units: list[Unit], final: dict[str, dict]) -> dict:
    """Dedup verdicts for the batch's usable answers (see `near_dups`)."""
    outputs = []
    for u in units:
        row = final[u.doc_id]
        if row["answered"] and not Judge.unusable(u, dict(row)):
            outputs.append(Output(u.doc_id, row["text"], u.parent.lang or "unknown", row["created_at"]))
    return find_duplicates(lake, recipe.dedup, batch_id, outputs, earlier_outputs(lake, batch_id))


def _base_row(unit: Unit, batch_id: str, recipe_id: str, model: ModelIdentity) -> dict:
    return {
        "doc_id": unit.doc_id, "batch_id": batch_id, "task": unit.task.name, "kind": unit.task.kind,
        "output_index": unit.output_index, "parent_ids": [unit.parent.doc_id],
        "parent_urls": [unit.parent.url] if unit.parent.url else [], "parent_text_sha1": [unit.parent.passage_sha1],
        "status": None, "rule": None, "value": None, "op": None, "threshold": None, "detail": None, "guard_json": None,
        "lang": unit.parent.lang, "model_name": model.name, "model_sha256": model.sha256,
        "template_id": unit.template_id, "template_sha1": unit.template_sha1, "prompt_sha1": unit.prompt_sha1,
        "params_json": json.dumps(unit.params, sort_keys=True), "seed": unit.params["seed"],
        "cache_key": unit.cache_key, "recipe_id": recipe_id,
    }


def _from_result(unit: Unit, res: LLMResult, base: dict, ep: Endpoint, run_id: str) -> dict:
    row = dict(base)
    row.update(model_runtime=ep.runtime, server_model_id=ep.server_model_id, endpoint=ep.base_url,
               answered=res.error is None, tokens_in=res.tokens_in, tokens_out=res.tokens_out,
               latency_ms=round(res.latency_ms, 1), finish_reason=res.finish_reason, attempts=res.attempts,
               text=res.text, n_chars=len(res.text or ""), created_at=datetime.now(UTC), run_id=run_id)
    if res.error is not None:
        row.update(status=ERROR, rule=res.error, detail=res.detail)
    return row


_CACHED = ("model_runtime", "server_model_id", "endpoint", "answered", "tokens_in", "tokens_out", "latency_ms",
           "finish_reason", "attempts", "text", "n_chars", "created_at", "run_id")


def _cached_answers(lake: Lake, keys: list[str]) -> dict[str, dict]:
    if not keys or not lake.exists("synthetic_documents"):
        return {}
    sql = ("SELECT * FROM synthetic_documents WHERE answered AND cache_key IN (SELECT unnest(?::VARCHAR[])) "
           "ORDER BY created_at")
    return {r["cache_key"]: r for r in lake.iter_rows(sql, [keys], tables=["synthetic_documents"])}


def run(lake: Lake, recipe: Recipe, batch_id: str, endpoint_cfg: EndpointConfig, *,
        open_endpoint: Callable[[], contextlib.AbstractContextManager[Endpoint]],
        identify=None, run_id: str = "", commit_metadata=None) -> SynthResult:
    """Synthesize for one batch; `open_endpoint()` is entered only when some output is not cached."""
    section = recipe.synthesize
    model = model_identity(endpoint_cfg)
    units = list(build_units(lake, recipe, batch_id, model))  # bounded: tasks x max_parents x outputs
    by_key: dict[str, list[Unit]] = {}
    for u in units:
        by_key.setdefault(u.cache_key, []).append(u)
    cached = _cached_answers(lake, list(by_key))
    out = SynthResult(written=None)
    final: dict[str, dict] = {}  # doc_id -> row
    for u in units:
        if u.cache_key in cached:
            row = _base_row(u, batch_id, recipe.recipe_id, model)
            row.update({k: cached[u.cache_key][k] for k in _CACHED})
            final[u.doc_id] = row
            out.cache_hits += 1
    misses = [us[0] for key, us in by_key.items() if key not in cached]
    meta = dict(commit_metadata or {})

    def append(chunk: list[dict]) -> None:
        lake.write("synthetic_documents", rows_to_batches(chunk, SYNTHETIC_DOCUMENTS), SYNTHETIC_DOCUMENTS,
                   mode="append", partition_by=["batch_id"], commit_metadata=meta | {"chunk": "answers"})

    if misses:
        with open_endpoint() as ep:
            out.endpoint = ep.describe()
            chunk: list[dict] = []
            before = ep.client.stats.requests
            for res in ep.client.run(u.request() for u in misses):
                for u in by_key[res.key]:
                    row = _from_result(u, res, _base_row(u, batch_id, recipe.recipe_id, model), ep, run_id)
                    final[u.doc_id] = row
                    if row["answered"]:  # committed now: a killed run does not ask again
                        row["status"] = PENDING  # judged below with the whole batch; never read as kept
                        chunk.append(row)
                if len(chunk) >= section.chunk_rows:
                    append(chunk)
                    chunk = []
            if chunk:
                append(chunk)
            s = ep.client.stats
            out.requests = s.requests - before
            out.tokens_in, out.tokens_out, out.request_seconds = s.tokens_in, s.tokens_out, s.seconds
    judge = Judge(recipe, identify, _duplicates(lake, recipe, batch_id, units, final))
    counts: dict[str, Counter] = {t.name: Counter() for t in section.tasks}
    rules: Counter[str] = Counter()
    rows = []
    for u in units:
        row = final[u.doc_id]
        if row["answered"]:
            judge.judge(u, row)  # cached answers too: judged with the recipe's current thresholds
        c = counts[u.task.name]
        c["selected"] += 1
        c["outputs" if row["status"] in (KEPT, REJECTED) else "errors"] += 1
        c[row["status"]] += 1
        if row["rule"]:
            rules[row["rule"]] += 1
        rows.append(row)
    out.by_task = {k: {n: int(v.get(n, 0)) for n in ("selected", "outputs", "errors", KEPT, REJECTED)}
                   for k, v in counts.items()}
    out.rules = dict(rules)
    out.written = lake.write("synthetic_documents", rows_to_batches(rows, SYNTHETIC_DOCUMENTS), SYNTHETIC_DOCUMENTS,
                             predicate=batch_predicate("batch_id", batch_id), partition_by=["batch_id"],
                             commit_metadata=meta | {"synth_counts": json.dumps(out.by_task, sort_keys=True)})
    return out
