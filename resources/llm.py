"""The LLM endpoint resource: any OpenAI-compatible server, or llama.cpp's started on 127.0.0.1.

Settings come from the resource config, defaulted from the environment (GOLDPAN_LLM_BASE_URL,
GOLDPAN_LLM_MODEL) so one deployment can point every run at its own vLLM/SGLang server. The API key
is never part of the config: only the name of the variable that holds it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from goldpan.llm.client import EndpointConfig
from goldpan.llm.endpoint import Endpoint, open_endpoint


class LLMEndpointResource(dg.ConfigurableResource):
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL (…/v1); unset: embedded llama.cpp.")
    model: str = Field(default="smollm2-135m-instruct",
                       description="Embedded: bundled model name or .gguf path; remote: the model name sent.")
    api_key_env: str = Field(default="GOLDPAN_LLM_API_KEY", description="Environment variable holding the API key.")
    concurrency: int = Field(default=2, description="Requests in flight at most.")
    connect_timeout_s: float = 5.0
    request_timeout_s: float = Field(default=120.0, description="Seconds to wait for one answer.")
    max_retries: int = Field(default=2, description="Retries of a timeout, 5xx, 429 or connection failure.")
    backoff_s: float = Field(default=0.5, description="First retry wait; doubles per retry.")
    token_budget: int | None = Field(default=None, description="Prompt+completion tokens per batch; then stop.")
    n_threads: int = Field(default=2, description="Embedded server threads.")

    def config(self) -> EndpointConfig:
        return EndpointConfig(base_url=self.base_url or None, model=self.model, api_key_env=self.api_key_env,
                              concurrency=self.concurrency, connect_timeout_s=self.connect_timeout_s,
                              request_timeout_s=self.request_timeout_s, max_retries=self.max_retries,
                              backoff_s=self.backoff_s, token_budget=self.token_budget, n_threads=self.n_threads)

    @contextlib.contextmanager
    def open(self) -> Iterator[Endpoint]:
        with open_endpoint(self.config()) as ep:
            yield ep
