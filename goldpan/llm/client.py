"""A client for any OpenAI-compatible server: bounded concurrency, timeouts, retries with backoff and
a token budget that stops spending when reached.

Every request ends as one `LLMResult`, an answer or an error with its kind (`timeout`,
`server_error`, `connection`, `bad_response`, `token_budget`), never an exception that loses the
rest of the batch: the synthesize stage turns each into one row. Results stream back as they
complete, so a caller can commit them in chunks and a killed run loses only what was in flight.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

import urllib3
from pydantic import BaseModel, ConfigDict, Field

TIMEOUT, SERVER_ERROR, CONNECTION, BAD_RESPONSE, TOKEN_BUDGET = (
    "timeout", "server_error", "connection", "bad_response", "token_budget")
#: errors that say nothing about the prompt: not cached, sent again on the next run
TRANSIENT = frozenset({TIMEOUT, SERVER_ERROR, CONNECTION, BAD_RESPONSE, TOKEN_BUDGET})


class EndpointConfig(BaseModel):
    """Where and how to call a model. `base_url` None: goldpan starts llama.cpp's server on 127.0.0.1
    with `model` (a bundled model name or a .gguf path); otherwise `model` is the name sent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    model: str = "smollm2-135m-instruct"
    api_key_env: str = "GOLDPAN_LLM_API_KEY"  # the key is read from this variable, never stored
    concurrency: int = Field(2, ge=1, le=256)
    connect_timeout_s: float = Field(5.0, gt=0)
    request_timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0, le=20)
    backoff_s: float = Field(0.5, ge=0)  # wait before retry k: backoff_s * 2**k, at most max_backoff_s
    max_backoff_s: float = Field(10.0, ge=0)
    token_budget: int | None = Field(None, ge=1)  # prompt + completion tokens per batch; None = unlimited
    # embedded server only
    n_ctx: int = Field(2048, ge=256)
    n_threads: int = Field(2, ge=1)
    extra_bufts: bool = False  # llama.cpp weight repacking / AMX kernels (see goldpan.llm.serve)


@dataclass(frozen=True)
class LLMRequest:
    """One call: `chat` (messages for an instruct model) or `completion` (a prompt for a base model)."""

    key: Any
    kind: Literal["chat", "completion"]
    prompt: str
    params: dict[str, Any]  # max_tokens, temperature, top_p, seed, ...
    system: str | None = None

    def body(self, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, **self.params}
        if self.kind == "chat":
            msgs = ([{"role": "system", "content": self.system}] if self.system else [])
            body["messages"] = msgs + [{"role": "user", "content": self.prompt}]
        else:
            body["prompt"] = self.prompt
        return body


@dataclass
class LLMResult:
    key: Any
    text: str | None = None
    finish_reason: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    error: str | None = None  # None = the server answered
    detail: str | None = None
    attempts: int = 0
    raw: dict | None = field(default=None, repr=False)


@dataclass
class ClientStats:
    requests: int = 0  # HTTP requests sent, retries included
    answered: int = 0
    errors: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0

    @property
    def tokens_spent(self) -> int:
        return self.tokens_in + self.tokens_out

    def as_dict(self) -> dict[str, float]:
        tps = self.tokens_out / self.seconds if self.seconds > 0 else 0.0
        return {"requests": self.requests, "answered": self.answered, "errors": self.errors,
                "tokens_in": self.tokens_in, "tokens_out": self.tokens_out, "seconds": round(self.seconds, 3),
                "tokens_out_per_s": round(tps, 2)}


class LLMClient:
    """Sends requests to `base_url` (…/v1) with at most `concurrency` in flight."""

    def __init__(self, base_url: str, model: str, cfg: EndpointConfig):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.cfg = cfg
        key = os.environ.get(cfg.api_key_env)
        self._headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        self._http = urllib3.PoolManager(maxsize=cfg.concurrency, retries=False)
        self._timeout = urllib3.Timeout(connect=cfg.connect_timeout_s, read=cfg.request_timeout_s)
        self._lock = threading.Lock()
        self.stats = ClientStats()

    # -- one request -------------------------------------------------------------------------
    def _budget_left(self) -> bool:
        with self._lock:
            return self.cfg.token_budget is None or self.stats.tokens_spent < self.cfg.token_budget

    def call(self, req: LLMRequest) -> LLMResult:
        """One request with retries; never raises for server or network trouble."""
        if not self._budget_left():
            return self._count(LLMResult(req.key, error=TOKEN_BUDGET,
                                         detail=f"token budget {self.cfg.token_budget} spent"))
        path = "/chat/completions" if req.kind == "chat" else "/completions"
        payload = json.dumps(req.body(self.model)).encode()
        result = LLMResult(req.key)
        for attempt in range(self.cfg.max_retries + 1):
            if attempt:
                time.sleep(min(self.cfg.max_backoff_s, self.cfg.backoff_s * 2 ** (attempt - 1)))
            result.attempts = attempt + 1
            with self._lock:
                self.stats.requests += 1
            t0 = time.perf_counter()
            try:
                resp = self._http.request("POST", self.base_url + path, body=payload, headers=self._headers,
                                          timeout=self._timeout)
            except urllib3.exceptions.NewConnectionError as exc:  # refused: urllib3 files it under timeouts
                result.error, result.detail = CONNECTION, str(exc)[:300]
                result.latency_ms = (time.perf_counter() - t0) * 1000
                continue
            except urllib3.exceptions.TimeoutError as exc:
                result.error, result.detail = TIMEOUT, f"no answer within {self.cfg.request_timeout_s} s ({exc.__class__.__name__})"
                result.latency_ms = (time.perf_counter() - t0) * 1000
                continue
            except urllib3.exceptions.HTTPError as exc:
                result.error, result.detail = CONNECTION, str(exc)[:300]
                result.latency_ms = (time.perf_counter() - t0) * 1000
                continue
            result.latency_ms = (time.perf_counter() - t0) * 1000
            if resp.status == 429 or resp.status >= 500:
                result.error, result.detail = SERVER_ERROR, f"HTTP {resp.status}: {resp.data[:300]!r}"
                continue
            if resp.status != 200:  # a client error will not get better by retrying
                result.error, result.detail = BAD_RESPONSE, f"HTTP {resp.status}: {resp.data[:300]!r}"
                break
            try:
                self._parse(req, json.loads(resp.data), result)
                result.error = result.detail = None
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                result.error, result.detail = BAD_RESPONSE, f"unparsable answer: {exc}"[:300]
            break
        return self._count(result)

    @staticmethod
    def _parse(req: LLMRequest, data: dict, result: LLMResult) -> None:
        choice = data["choices"][0]
        result.text = choice["message"]["content"] if req.kind == "chat" else choice["text"]
        result.finish_reason = choice.get("finish_reason")
        usage = data.get("usage") or {}
        result.tokens_in = int(usage.get("prompt_tokens") or 0)
        result.tokens_out = int(usage.get("completion_tokens") or 0)
        result.raw = data

    def _count(self, r: LLMResult) -> LLMResult:
        with self._lock:
            if r.error is None:
                self.stats.answered += 1
                self.stats.tokens_in += r.tokens_in
                self.stats.tokens_out += r.tokens_out
            else:
                self.stats.errors += 1
        return r

    # -- many requests -----------------------------------------------------------------------
    def run(self, requests: Iterable[LLMRequest]) -> Iterator[LLMResult]:
        """Results in completion order, at most `concurrency` requests in flight; the input is consumed
        lazily, so a generator of millions of prompts never sits in memory."""
        t0 = time.perf_counter()
        it = iter(requests)
        pending: set[Future] = set()
        with ThreadPoolExecutor(max_workers=self.cfg.concurrency, thread_name_prefix="llm") as pool:
            try:
                for req in it:
                    pending.add(pool.submit(self.call, req))
                    if len(pending) >= self.cfg.concurrency:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            yield f.result()
                for f in _as_done(pending):
                    yield f
            finally:
                for f in pending:
                    f.cancel()
                self.stats.seconds += time.perf_counter() - t0

    def server_model_id(self) -> str | None:
        """The id the server reports for its (first) model, or None when it does not answer."""
        try:
            resp = self._http.request("GET", self.base_url + "/models", headers=self._headers, timeout=self._timeout)
            data = json.loads(resp.data)
            return str(data["data"][0]["id"])
        except (urllib3.exceptions.HTTPError, ValueError, KeyError, IndexError, TypeError):
            return None

    def close(self) -> None:
        self._http.clear()


def _as_done(pending: set[Future]) -> Iterator[LLMResult]:
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for f in done:
            yield f.result()
