"""Chinese word segmentation with jieba, for recipes that want word counts rather than characters.

Why optional: goldpan's default for Chinese is one token per Han character (spaCy's blank `zh`
default, and what the Gopher-style filters assume). Some recipes budget or filter on words;
jieba works offline (its dictionary ships in the wheel) and is what spaCy's `zh` tokenizer calls
when configured with `segmenter: jieba`, with the same `cut(text, cut_all=False)` call.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from goldpan.text.tokenize import is_punct_token


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it logs the dictionary load at INFO
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def jieba_tokens(text: str) -> list[str]:
    """jieba's precise-mode segmentation, whitespace dropped (what spaCy's jieba segmenter yields)."""
    return [t for t in _jieba().cut(text, cut_all=False) if t.strip()]


def jieba_words(text: str) -> list[str]:
    """jieba tokens that are not pure punctuation or symbols."""
    return [t for t in jieba_tokens(text) if not is_punct_token(t)]
