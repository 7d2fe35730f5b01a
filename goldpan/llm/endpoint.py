"""An opened endpoint: the client plus what every output row records about the model behind it.

`open_endpoint` is the one entry point: with no base URL it starts llama.cpp's server on 127.0.0.1
with a bundled model and stops it on exit; with one it talks to that server (vLLM, SGLang, a hosted
API) and records the model name and the id the server reports (no file, so no sha256).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from goldpan.llm.client import EndpointConfig, LLMClient
from goldpan.llm.models import resolve_model
from goldpan.llm.server import EmbeddedServer, runtime_version


@dataclass
class Endpoint:
    base_url: str
    model_name: str  # what we asked for (bundled name, file stem, or the remote model name)
    model_sha256: str | None  # of the weights file, for a local model
    runtime: str  # e.g. "llama-cpp-python 0.3.36 (embedded)" or "openai-compatible"
    server_model_id: str | None
    client: LLMClient
    server: EmbeddedServer | None = None

    @property
    def model_key(self) -> str:
        """What identifies the weights in cache keys: the file digest, else the server's id / name."""
        return self.model_sha256 or f"remote:{self.server_model_id or self.model_name}"

    def describe(self) -> dict[str, str | None]:
        return {"base_url": self.base_url, "model": self.model_name, "model_sha256": self.model_sha256,
                "runtime": self.runtime, "server_model_id": self.server_model_id}


@contextlib.contextmanager
def open_endpoint(cfg: EndpointConfig, *, logits_all: bool = False) -> Iterator[Endpoint]:
    """Yield a ready endpoint; an embedded server is started here and stopped when the block ends."""
    if cfg.base_url:
        client = LLMClient(cfg.base_url, cfg.model, cfg)
        try:
            yield Endpoint(cfg.base_url, cfg.model, None, "openai-compatible", client.server_model_id(), client)
        finally:
            client.close()
        return
    model = resolve_model(cfg.model)
    sha = model.sha256
    with EmbeddedServer(model, n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, logits_all=logits_all,
                        extra_bufts=cfg.extra_bufts) as server:
        # llama-cpp-python's server decodes one request at a time: a second request in flight only
        # queues there while its read timeout runs, and on a slow machine it times out and is retried
        # (the demo-synth run stalled so). One in flight; the server is the bottleneck either way.
        client = LLMClient(server.base_url, model.name, cfg.model_copy(update={"concurrency": 1}))
        try:
            yield Endpoint(server.base_url, model.name, sha, f"{runtime_version()} (embedded)",
                           client.server_model_id(), client, server)
        finally:
            client.close()
