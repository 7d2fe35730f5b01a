"""Checkable facts of a text: numbers, dates, URLs and named entities, English and Chinese.

The guard compares an output's facts with its parents' (goldpan.synthesize.guard). No trained NER
runs offline here, so entities are found by language: English by capitalised token runs (spaCy's
blank tokenizer, the project's tokens) that are not sentence-initial; Chinese by jieba's part-of-speech
tags for person, place, organisation and other proper names (its dictionary ships in the wheel), plus
Latin-script words inside Chinese text. Every fact is normalised so a reformatting (`1,000` vs
`1000`, `March 5, 2021` vs `2021-03-05`, `2021年3月5日`) is the same fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from goldpan.text.tokenize import is_cjk_lang, tokens

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MON = r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATE_PATTERNS = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?"),
    re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(rf"\b{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?\b", re.IGNORECASE),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MON}(?:,?\s+(?P<y>\d{{4}}))?\b", re.IGNORECASE),
    re.compile(rf"\b{_MON}\s+(?P<y>\d{{4}})\b", re.IGNORECASE),
]
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'）)\]，。]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Digits not glued to Latin letters (v2, x86, sha1): Chinese characters around a number are fine.
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[-+]?\d+(?:[,，]\d{3})*(?:\.\d+)?(?:\s?%)?(?![A-Za-z0-9_])")
_LIST_MARKER = re.compile(r"(?m)^\s*(?:[(（]?\d{1,2}[.)）、:]|Q\d{1,2}[.:]|A\d{1,2}[.:])\s*")
_SENT_END = frozenset(".!?:;。！？；\n\"'“”‘’()[]{}#*-•")
# Capitalised words that are not names when they start a clause (and are in no stop list of the
# tokenizer): questions and answers from a QA prompt, markdown headings.
_EN_COMMON = frozenset(["a", "an", "the", "this", "that", "these", "those", "it", "its", "in", "on", "at", "of", "for", "to", "from", "by", "with", "and", "or", "but", "not", "no", "yes", "is", "are", "was", "were", "be", "been", "i", "you", "he", "she", "we", "they", "his", "her", "our", "their", "my", "your", "q", "a", "question", "answer", "what", "which", "who", "why", "how", "when", "where", "there", "here", "however", "also", "then", "thus", "therefore", "so", "as", "if", "because", "while", "although", "note", "example", "summary", "introduction", "conclusion", "overview", "first", "second", "third", "finally", "step"])
_ZH_ENTITY_TAGS = ("nr", "ns", "nt", "nz")


@dataclass
class Facts:
    numbers: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    text_lower: str = ""  # for entity containment: a name the parent mentions in any case is not new


def _norm_number(s: str) -> str:
    s = s.replace(",", "").replace("，", "").replace(" ", "").lstrip("+")
    if "." in s.rstrip("%"):
        s = s.rstrip("0").rstrip(".") if "%" not in s else s
    return s


def _date_key(m: re.Match) -> str:
    g = m.groupdict()
    mon = g.get("m") or (_MONTHS.get((g.get("mon") or "").lower().rstrip(".")) if g.get("mon") else None)
    return f"{g.get('y') or '?'}-{int(mon) if mon else '?'}-{int(g['d']) if g.get('d') else '?'}"


def _dates(text: str) -> tuple[set[str], str]:
    """Normalised dates and the text with their spans blanked (so their digits are not numbers too)."""
    found: set[str] = set()
    chars = list(text)
    for pat in _DATE_PATTERNS:
        for m in pat.finditer(text):
            if any(c == "\0" for c in chars[m.start():m.end()]):
                continue
            found.add(_date_key(m))
            chars[m.start():m.end()] = ["\0"] * (m.end() - m.start())
    return found, "".join(chars).replace("\0", " ")


def _urls(text: str) -> tuple[set[str], str]:
    found = set()
    for m in _URL.finditer(text):
        u = m.group(0).rstrip(".,;:!?")
        u = re.sub(r"^https?://", "", u, flags=re.IGNORECASE).removeprefix("www.").rstrip("/").lower()
        found.add(u)
    for m in _EMAIL.finditer(text):
        found.add(m.group(0).lower())
    blank = _EMAIL.sub(" ", _URL.sub(" ", text))
    return found, blank


def _en_entities(text: str) -> set[str]:
    """Runs of capitalised tokens, common words dropped. A sentence-initial capital is ambiguous (any
    word starts a sentence): there a single word counts only when it is not a stop word."""
    from goldpan.filter.stopwords import stop_words_for

    stop = (stop_words_for("en") or frozenset()) | _EN_COMMON
    out: set[str] = set()
    run: list[str] = []
    run_initial = False
    boundary = True
    for tok in [*tokens(text, "en"), "."]:
        if tok[:1].isupper() and any(c.isalpha() for c in tok):
            if not run:
                run_initial = boundary
            run.append(tok)
        else:
            words = [w for w in run if w.lower() not in stop]
            if words and not (run_initial and len(run) == 1 and len(words[0]) < 3):
                out.add(" ".join(words))
            run = []
        boundary = tok[-1:] in _SENT_END or tok.isspace()
    return out


@lru_cache(maxsize=1)
def _posseg():
    import logging

    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(logging.WARNING)
    return pseg


def _zh_entities(text: str) -> set[str]:
    out = {w.word for w in _posseg().cut(text) if w.flag.startswith(_ZH_ENTITY_TAGS) and len(w.word) >= 2}
    out |= {m.group(0) for m in re.finditer(r"[A-Za-z][A-Za-z0-9+#.\-]*[A-Za-z0-9+#]", text) if len(m.group(0)) >= 2}
    return out


def extract_facts(text: str, lang: str | None, list_markers: bool = False) -> Facts:
    """Facts of `text`; list markers ("1.", "Q2:") are not numbers unless `list_markers` (a parent's
    numbered item may become a plain number in a rewrite, so parents count them)."""
    text = text or ""
    urls, rest = _urls(text)
    dates, rest = _dates(rest)
    rest = rest if list_markers else _LIST_MARKER.sub(" ", rest)
    numbers = {_norm_number(m.group(0)) for m in _NUMBER.finditer(rest)}
    entities = _zh_entities(rest) if is_cjk_lang(lang) else _en_entities(rest)
    return Facts(numbers, dates, urls, entities, text.lower())
