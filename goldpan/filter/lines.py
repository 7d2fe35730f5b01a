"""C4 and FineWeb statistics: the line-level part of the single signal pass.

Why a separate module: C4's rules are *line filters* (a line without terminal punctuation, with
fewer than 3 words, mentioning "javascript" or a cookie policy is removed) followed by document
rules on what is left (lorem ipsum, a curly bracket, fewer than 5 sentences), and FineWeb's rules
are computed on the text C4 left (datatrove runs `C4QualityFilter` before `FineWebQualityFilter`
and C4 rewrites `doc.text`). Computing FineWeb's numbers on the original text disagrees with a
datatrove pipeline for ~20% of documents (bench/datatrove_agreement.py shows it), so this module replays C4's line
filter once and derives both rule sets from it.

Line-level settings are *signal parameters* (`C4LineConfig`, part of SIGNALS_VERSION): changing
them changes which lines exist for the later statistics, so it needs a signal recomputation.
Document-level thresholds (min sentences, the FineWeb ratios) are rules and sweepable.

Two C4 variants are stored because the two published pipelines differ: the original C4 removes
lines without terminal punctuation (`c4_strict_*`); FineWeb runs C4 with
`filter_no_terminal_punct=False` (`c4_*`), and the FineWeb statistics follow that variant.

Definitions (datatrove 0.10.1 `c4_filters.py`, `fineweb_quality_filter.py`):
- lines = `text.splitlines()`, each stripped; a line with a whitespace word longer than 1000
  characters is dropped first; Wikipedia citations (`[1]`, `[edit]`, `[citation needed]`) are
  removed; terminal punctuation = ends with . ? ! " ' and not with "..." (for CJK also 。！？ and
  closing quotes 」』” ’ ）after them); words per line = whitespace words (CJK: non-punctuation
  character tokens, since a Chinese line is one whitespace "word"); lorem ipsum drops the
  document, a "javascript" line is removed, a "{" drops the document, a policy line is removed;
  sentences = spaCy sentencizer count over each kept line (`tokenize.count_token_sentences`).
- FineWeb, over `"\\n".join(kept_lines).strip()`: non-empty lines; `fw_line_punct_ratio` = lines
  ending in a sentence terminal (datatrove's TERMINAL_PUNCTUATION: Unicode sentence terminals,
  incl. 。！？, no quotes) / lines; `fw_short_line_ratio` = lines of <= 30 characters / lines;
  `fw_char_dup_ratio` = characters of lines repeating an earlier line / characters without
  newlines; `fw_newline_ratio` = newlines / tokens.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from goldpan.text.tokenize import count_token_sentences, is_word_token

CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
C4_END_PUNCT: tuple[str, ...] = (".", "?", "!", '"', "'")
# CJK sentence ends, and closing quotes/brackets that follow one (「好。」 ends a sentence).
CJK_END_PUNCT: tuple[str, ...] = ("。", "！", "？", "．", "｡", "」", "』", "”", "’", "）")
C4_ELLIPSIS = "..."
POLICY_SUBSTRINGS: tuple[str, ...] = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
# Unicode sentence terminals, the set datatrove's FineWebQualityFilter uses as line "stop chars"
# (datatrove.utils.text.TERMINAL_PUNCTUATION, 0.10.1). Quotes are not in it, unlike C4's set.
TERMINAL_PUNCTUATION: frozenset[str] = frozenset(
    "!.?\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839\u083d\u083e\u0964\u0965"
    "\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5\u17d6\u17d9\u17da\u1803\u1809\u1944"
    "\u1945\u1aa8\u1aa9\u1aaa\u1aab\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e\u1c3b\u1c3c\u1c7e\u1c7f\u203c"
    "\u203d\u2047\u2048\u2049\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e\ua60f\ua6f3\ua6f7\ua876\ua877"
    "\ua8ce\ua8cf\ua92f\ua9c8\ua9c9\uaa5d\uaa5e\uaa5f\uaaf0\uaaf1\uabeb\ufe52\ufe56\ufe57\uff01\uff0e"
    "\uff1f\uff61\U00010a56\U00010a57\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86"
    "\U00010f87\U00010f88\U00010f89\U00011047\U00011048\U000110be\U000110bf\U000110c0\U000110c1"
    "\U00011141\U00011142\U00011143\U000111c5\U000111c6\U000111cd\U000111de\U000111df\U00011238"
    "\U00011239\U0001123b\U0001123c\U000112a9\U0001144b\U0001144c\U000115c2\U000115c3\U000115c9"
    "\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce\U000115cf\U000115d0\U000115d1\U000115d2"
    "\U000115d3\U000115d4\U000115d5\U000115d6\U000115d7\U00011641\U00011642\U0001173c\U0001173d"
    "\U0001173e\U00011944\U00011946\U00011a42\U00011a43\U00011a9b\U00011a9c\U00011c41\U00011c42"
    "\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016b37\U00016b38"
    "\U00016b44\U00016e98\U0001bc9f\U0001da88"
)


@dataclass(frozen=True)
class C4LineConfig:
    """C4 line-filter settings (datatrove C4QualityFilter defaults); signal parameters, not rules."""

    max_word_length: int = 1000
    min_words_per_line: int = 3
    short_line_length: int = 30  # FineWeb: a line of at most this many characters is "short"


@dataclass
class _C4Pass:
    """What one C4 variant keeps: the kept lines, the sentence count, and a document-drop flag."""

    kept: list[str]
    kept_tokens: int
    sentences: int
    lorem_ipsum: int
    curly_bracket: int


def _ends_terminal(line: str, cjk: bool) -> bool:
    if line.endswith(C4_ELLIPSIS):
        return False
    return line.endswith(C4_END_PUNCT) or (cjk and line.endswith(CJK_END_PUNCT))


def line_stats(
    raw_lines: list[str],
    line_tokens: list[list[str]],
    tokenize: Callable[[str], list[str]],
    cjk: bool,
    cfg: C4LineConfig | None = None,
) -> dict[str, float | int]:
    """C4 and FineWeb signals of one document from its lines and each line's tokens.

    `raw_lines` = `text.splitlines()`; `line_tokens[i]` = tokens of `raw_lines[i]` (the shared
    tokeniser; tokens never span whitespace, so they are also the stripped line's tokens).
    `tokenize` re-tokenises a line only when citation removal changed it.
    """
    cfg = cfg or C4LineConfig()
    n_lines = len(raw_lines)
    long_word = no_terminal = terminal_lines = short = javascript = policy = 0
    # Two variants share the per-line work; "strict" also drops lines without terminal punctuation.
    loose = _C4Pass([], 0, 0, 0, 0)
    strict = _C4Pass([], 0, 0, 0, 0)
    loose_done = strict_done = False  # a document-level drop ends that variant's walk (datatrove returns)
    for raw, toks in zip(raw_lines, line_tokens):
        line = raw.strip()
        if not line:
            # An empty line has no terminal punctuation and no words: removed in both variants.
            no_terminal += 1
            short += 1
            continue
        ws_words = line.split()
        if cfg.max_word_length >= 0 and max(map(len, ws_words)) > cfg.max_word_length:
            long_word += 1
            continue
        if "[" in line:
            cleaned = CITATION.sub("", line)
            if cleaned != line:
                line = cleaned
                toks = tokenize(line)
        terminal = _ends_terminal(line, cjk)
        terminal_lines += terminal
        if not terminal:
            no_terminal += 1
        n_words = sum(map(is_word_token, toks)) if cjk else len(ws_words)
        if n_words < cfg.min_words_per_line:
            short += 1
            continue
        low = line.lower()
        lorem = "lorem ipsum" in low
        js = "javascript" in low
        curly = (not js) and "{" in line
        pol = (not js) and (not curly) and any(p in low for p in POLICY_SUBSTRINGS)
        javascript += js and not lorem
        policy += pol and not lorem
        keep = not (lorem or js or curly or pol)
        sents = count_token_sentences(toks) if keep else 0
        for variant, done, applies in ((loose, loose_done, True), (strict, strict_done, terminal)):
            if done or not applies:
                continue
            if lorem:
                variant.lorem_ipsum = 1
            elif curly:
                variant.curly_bracket = 1
            elif keep:
                variant.kept.append(line)
                variant.kept_tokens += len(toks)
                variant.sentences += sents
        loose_done = loose_done or bool(loose.lorem_ipsum or loose.curly_bracket)
        strict_done = strict_done or bool(strict.lorem_ipsum or strict.curly_bracket)

    out: dict[str, float | int] = {
        "c4_lines": n_lines,
        "c4_long_word_lines": long_word,
        "c4_no_terminal_punct_lines": no_terminal,
        "c4_terminal_punct_line_ratio": terminal_lines / n_lines if n_lines else 0.0,
        "c4_short_lines": short,
        "c4_javascript_lines": javascript,
        "c4_policy_lines": policy,
        "c4_lorem_ipsum": loose.lorem_ipsum,
        "c4_curly_bracket": loose.curly_bracket,
        "c4_sentences": loose.sentences,
        "c4_kept_lines": len(loose.kept),
        "c4_strict_lorem_ipsum": strict.lorem_ipsum,
        "c4_strict_curly_bracket": strict.curly_bracket,
        "c4_strict_sentences": strict.sentences,
    }
    out.update(_fineweb_stats(loose.kept, loose.kept_tokens, cfg))
    return out


def _fineweb_stats(kept: list[str], n_tokens: int, cfg: C4LineConfig) -> dict[str, float]:
    """FineWeb's four ratios over the text C4 (FineWeb setting) kept, read literally as datatrove does.

    Kept lines may carry a space where a citation was removed ("... [1]" -> "... "), so the joined
    text is rebuilt and split again rather than assuming clean lines. Its tokens are the kept
    lines' tokens (`n_tokens`): whitespace is never a token.
    """
    text = "\n".join(kept).strip()
    lines = [line for line in text.split("\n") if line.strip() != ""]
    n = len(lines)
    if n == 0:
        # datatrove rejects an empty text ("empty"); a zero punctuation ratio fails the same way.
        return {"fw_lines": 0, "fw_line_punct_ratio": 0.0, "fw_short_line_ratio": 0.0,
                "fw_char_dup_ratio": 0.0, "fw_newline_ratio": 0.0}
    punct = sum(1 for line in lines if line[-1] in TERMINAL_PUNCTUATION)
    short = sum(1 for line in lines if len(line) <= cfg.short_line_length)
    seen: set[str] = set()
    dup_chars = 0
    for line in lines:
        if line in seen:
            dup_chars += len(line)
        else:
            seen.add(line)
    chars = len(text) - text.count("\n")
    return {
        "fw_lines": n,
        "fw_line_punct_ratio": punct / n,
        "fw_short_line_ratio": short / n,
        "fw_char_dup_ratio": dup_chars / chars if chars else 0.0,
        "fw_newline_ratio": text.count("\n") / n_tokens if n_tokens else 0.0,
    }
