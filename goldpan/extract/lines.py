"""Per-line features of a first-pass main text, for the learned boilerplate line classifier.

Why lines of resiliparse's output, not DOM blocks: resiliparse's main-content pass runs in C++ at
hundreds of pages per second and already drops most navigation; what it keeps wrongly (bylines,
"Advertisement", captions, share bars, newsletter promos, related-article headlines, copyright
footers) sits on lines of their own. Judging each line with a few cheap features keeps the whole
extractor within a fraction of a millisecond of resiliparse alone, where a Python walk over the DOM
would cost more than resiliparse itself (measured: bench/extract_quality.py).

Features are language-neutral where possible (lengths, punctuation, link coverage, position,
context) plus small multilingual keyword lists for the usual boilerplate words. Link coverage comes
from the page's anchor texts (a linear regex over the HTML, no DOM walk).
"""

from __future__ import annotations

import html as _html
import math
import re
from collections import Counter

import numpy as np

# Anchors whose text is plain (optionally inside one inline wrapper): enough to recognise link
# lines, at a tenth of the cost of a full anchor parse.
_ANCHOR = re.compile(
    r"<a\b[^>]*>\s*(?:<(?:span|strong|b|em|i|h[1-6]|div)\b[^>]*>\s*)?([^<]{1,300})<", re.IGNORECASE
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PUNCT = re.compile(r"[,.;:!?，。；：！？、]")
_DIGIT = re.compile(r"\d")
_UPPER = re.compile(r"[A-ZÀ-ÖØ-ÞА-Я]")
_LETTER = re.compile(r"[^\W\d_]")
_CODE = re.compile(r"[{}()\[\];=<>_/\\$#@*|~^`]")
_END = re.compile(r"[.!?。！？\"”’»)…]\s*$")
_BULLET = re.compile(r"^\s*(?:[•·▪◦\-*–]|\d+[.)])\s+")
_SEPARATORS = re.compile(r"\s+[|·•/»›]\s+|\s{2,}|\t")
_DATE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|"
    r"\d{1,2}\.? (?:jan|feb|mär|mar|apr|mai|may|jun|jul|aug|sep|okt|oct|nov|dez|dec)[a-zä]*\.? \d{4}|"
    r"\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}:\d{2})",
    re.IGNORECASE,
)
# Words that mark boilerplate in short lines (English, German, French, Spanish, Italian,
# Portuguese, Russian, Polish, Chinese): sharing, accounts, promos, navigation, comments, legal.
_BOILER_WORDS = re.compile(
    r"\b(?:share|shares|shared|tweet|facebook|twitter|pinterest|whatsapp|linkedin|reddit|email|e-mail|print|"
    r"cookies?|subscribe|subscription|newsletter|sign ?up|sign ?in|log ?in|login|register|follow|"
    r"comments?|reply|replies|related|recommended|trending|popular|read more|more from|see also|"
    r"advertisement|advertising|sponsored|promoted|ad choices|menu|search|skip to|home|back to top|"
    r"previous|next|tags?|categor(?:y|ies)|posted in|filed under|photo|image|credit|getty|reuters|"
    r"teilen|kommentare?|impressum|datenschutz|anzeige|weiterlesen|mehr zum thema|abonnieren|anmelden|"
    r"partager|commentaires?|lire aussi|publicité|connexion|compartir|comentarios?|leer más|condividi|"
    r"commenti|leggi anche|compartilhar|поделиться|комментари\w*|udostępnij|komentarze?)\b"
    r"|分享|评论|相关|登录|注册|广告|上一篇|下一篇|返回|首页",
    re.IGNORECASE,
)
_LEGAL = re.compile(
    r"©|\(c\)|copyright|all rights reserved|alle rechte|tous droits|todos los derechos|privacy|"
    r"terms of (?:use|service)|版权|版權",
    re.IGNORECASE,
)

LINE_FEATURES: tuple[str, ...] = (
    "log_chars", "log_words", "cjk_share", "link_cov", "end_punct", "ends_colon", "punct_per_word",
    "digit_share", "upper_share", "title_words", "bullet", "rel_pos", "chars_before", "log_from_start",
    "log_to_end", "boiler_words", "legal", "date_like", "code_share", "indented", "tabs", "separators",
    "repeated", "in_title", "blank_before", "blank_after",
    "doc_log_chars", "doc_link_share", "doc_log_lines",
    "prev_log_chars", "prev_link_cov", "prev_end_punct", "next_log_chars", "next_link_cov", "next_end_punct",
    "win_log_chars", "win_link_cov", "win_end_punct", "win_code_share",
)
N_FEATURES = len(LINE_FEATURES)
_WINDOW = 3


def anchor_texts(html: str) -> frozenset[str]:
    """Whitespace-normalised texts of the page's links (plain-text anchors), by a linear regex."""
    out = set()
    for m in _ANCHOR.findall(html):
        t = " ".join(_html.unescape(m).split())
        if t:
            out.add(t)
    return frozenset(out)


def split_lines(text: str) -> tuple[list[str], list[bool], list[bool]]:
    """Non-blank lines of `text`, and whether each had a blank line before / after it."""
    raw = text.split("\n")
    lines: list[str] = []
    blank_before: list[bool] = []
    prev_blank = True
    for line in raw:
        if line.strip():
            lines.append(line)
            blank_before.append(prev_blank)
            prev_blank = False
        else:
            prev_blank = True
    blank_after = [*blank_before[1:], True]
    return lines, blank_before, blank_after


def _link_coverage(core: str, n_words: int, anchors: frozenset[str]) -> float:
    if not anchors:
        return 0.0
    if core in anchors:
        return 1.0
    if n_words > 40:
        return 0.0
    pieces = [p for p in _SEPARATORS.split(core) if p]
    if len(pieces) <= 1:
        return 0.0
    linked = sum(len(p) for p in pieces if p.strip(" ,;") in anchors)
    return linked / max(1, sum(len(p) for p in pieces))


def line_features(
    lines: list[str],
    blank_before: list[bool],
    blank_after: list[bool],
    anchors: frozenset[str],
    title: str | None,
) -> np.ndarray:
    """(n_lines, N_FEATURES) float32 matrix, one row per non-blank line, columns as LINE_FEATURES."""
    n = len(lines)
    out = np.zeros((n, N_FEATURES), dtype=np.float32)
    if n == 0:
        return out
    title_norm = " ".join((title or "").split()).lower()
    cores = [" ".join(_BULLET.sub("", line).split()) for line in lines]
    counts = Counter(cores)
    lens = [len(c) for c in cores]
    total = sum(lens) or 1
    before = 0
    rows = []
    for i, (line, core) in enumerate(zip(lines, cores)):
        words = core.split()
        nw = len(words)
        nc = len(core) or 1
        head = core[:300]
        letters = len(_LETTER.findall(head)) or 1
        low = core.lower()
        short = nw <= 15
        rows.append((
            math.log1p(len(core)),
            math.log1p(nw),
            len(_CJK.findall(head)) / min(nc, 300),
            _link_coverage(core, nw, anchors),
            1.0 if _END.search(core) else 0.0,
            1.0 if core.endswith(":") else 0.0,
            len(_PUNCT.findall(head)) / max(1, min(nw, 60)),
            len(_DIGIT.findall(head)) / min(nc, 300),
            len(_UPPER.findall(head)) / letters,
            sum(1 for w in words[:30] if w[:1].isupper()) / max(1, min(nw, 30)),
            1.0 if _BULLET.match(line) else 0.0,
            i / (n - 1) if n > 1 else 0.0,
            before / total,
            math.log1p(i),
            math.log1p(n - 1 - i),
            float(len(_BOILER_WORDS.findall(low))) if short else 0.0,
            1.0 if short and _LEGAL.search(low) else 0.0,
            1.0 if short and _DATE.search(low) else 0.0,
            len(_CODE.findall(head)) / min(nc, 300),
            1.0 if line[:1] in (" ", "\t") and not _BULLET.match(line) else 0.0,
            min(line.count("\t"), 10) / 10.0,
            min(len(_SEPARATORS.findall(core)), 10) / 10.0,
            1.0 if counts[core] > 1 else 0.0,
            1.0 if title_norm and len(low) >= 8 and (low in title_norm or title_norm in low) else 0.0,
            1.0 if blank_before[i] else 0.0,
            1.0 if blank_after[i] else 0.0,
        ))
        before += lens[i]
    base = np.asarray(rows, dtype=np.float32)
    k = base.shape[1]
    out[:, :k] = base
    log_chars, link_cov, end_punct, code_share = base[:, 0], base[:, 3], base[:, 4], base[:, 18]
    out[:, k] = math.log1p(total)
    out[:, k + 1] = float((link_cov * np.asarray(lens, dtype=np.float32)).sum() / total)
    out[:, k + 2] = math.log1p(n)
    # Neighbours (zeros past the edges) and a +-3 line window mean: boilerplate comes in runs.
    for j, col in enumerate((log_chars, link_cov, end_punct)):
        out[1:, k + 3 + j] = col[:-1]
        out[:-1, k + 6 + j] = col[1:]
    for j, col in enumerate((log_chars, link_cov, end_punct, code_share)):
        csum = np.concatenate(([0.0], np.cumsum(col, dtype=np.float64)))
        lo = np.clip(np.arange(n) - _WINDOW, 0, n)
        hi = np.clip(np.arange(n) + _WINDOW + 1, 0, n)
        out[:, k + 9 + j] = (csum[hi] - csum[lo]) / (hi - lo)
    return out


__all__ = ["LINE_FEATURES", "N_FEATURES", "anchor_texts", "line_features", "split_lines"]
