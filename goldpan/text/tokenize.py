"""Words and sentences, language-aware, computed the same way by every stage.

Why one module: the reference tools re-tokenise in every filter, which dominates their cost and
lets stages disagree on what a "word" is. Here extract stores the counts, filter and dedup call
the same functions, so a word count in `documents` means the same as in `doc_signals`.

- Space-separated languages use spaCy's blank tokenizer (rules only, no model download), with a
  cache of whitespace chunk -> tokens, because spaCy tokenises each chunk independently.
- Chinese, Japanese (and other scripts written without spaces) use characters: every Han, kana or
  Hangul character is a token, while runs of Latin letters or digits inside such text stay words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

CJK_LANGS = frozenset({"zh", "ja", "ko", "yue", "wuu", "th", "lo", "km", "my", "bo"})

_CJK_CHAR = (
    r"\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
)
_CJK_TOKEN = re.compile(rf"[{_CJK_CHAR}]|[^\s{_CJK_CHAR}\W]+|[^\s\w]", re.UNICODE)
_CJK_RE = re.compile(rf"[{_CJK_CHAR}]")
# Sentence ends for text written without spaces: CJK full stops plus ASCII ones.
_CJK_SENT_END = re.compile(r"[。！？!?；]+[」』”’)）]*|\.(?=\s|$)")


def is_cjk_lang(lang: str | None) -> bool:
    """True for languages whose text is segmented by characters rather than spaces."""
    return bool(lang) and lang.split("-")[0].split("_")[0].lower() in CJK_LANGS


def cjk_ratio(text: str) -> float:
    """Share of non-space characters that are CJK; used when the language is unknown."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK_RE.match(c)) / len(chars)


def is_cjk_char(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


@lru_cache(maxsize=16)
def _spacy_tokenizer(lang: str):
    import spacy  # imported lazily: ~0.7 s, and not every caller needs it

    try:
        nlp = spacy.blank(lang)
    except Exception:  # an unknown language code falls back to the multi-language rules
        nlp = spacy.blank("xx")
    return nlp.tokenizer


@lru_cache(maxsize=16)
def _chunk_cache(lang: str):
    tok = _spacy_tokenizer(lang)

    @lru_cache(maxsize=200_000)
    def split_chunk(chunk: str) -> tuple[str, ...]:
        return tuple(t.text for t in tok(chunk))

    return split_chunk


def tokens(text: str, lang: str | None) -> list[str]:
    """All tokens of `text` (words and punctuation), never whitespace."""
    if is_cjk_lang(lang) or (lang in (None, "", "unknown") and cjk_ratio(text) > 0.3):
        return _CJK_TOKEN.findall(text)
    split_chunk = _chunk_cache((lang or "xx").split("-")[0].lower())
    out: list[str] = []
    for chunk in text.split():
        try:
            out.extend(split_chunk(chunk))
        except UnicodeEncodeError:  # a lone surrogate from a lossy decode: tokenise a repaired copy
            out.extend(split_chunk(chunk.encode("utf-8", "replace").decode("utf-8")))
    return out


def is_punct_token(tok: str) -> bool:
    """A token made only of punctuation or symbols (Unicode categories P* and S*)."""
    return all(unicodedata.category(c)[0] in "PS" for c in tok)


def words(text: str, lang: str | None) -> list[str]:
    """Tokens that are not pure punctuation or symbols: what Gopher calls words."""
    return [t for t in tokens(text, lang) if not is_punct_token(t)]


def count_sentences(text: str, lang: str | None) -> int:
    """Sentence count: spaCy's rule-based sentencizer for space-separated text, CJK stops otherwise."""
    if not text.strip():
        return 0
    if is_cjk_lang(lang):
        n = 0
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            parts = [p for p in _CJK_SENT_END.split(line) if p.strip()]
            n += max(1, len(parts))
        return n
    nlp = _sentencizer((lang or "xx").split("-")[0].lower())
    n = 0
    # One paragraph at a time keeps spaCy's memory bounded on very long pages, and a line break
    # between paragraphs is always a sentence boundary in extracted text.
    for para in text.split("\n"):
        if para.strip():
            n += sum(1 for _ in nlp(para).sents)
    return n


@lru_cache(maxsize=16)
def _sentencizer(lang: str):
    import spacy

    try:
        nlp = spacy.blank(lang)
    except Exception:
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp
