"""Technical text in documentation: which lines are code, shell commands or paths rather than prose.

Why: Gopher's word rules were made for prose. On a documentation page the code listings, shell sessions,
file paths and configuration snippets are words without letters (`0644`, `-->`, `{`), repeated lines
(`}`, `fi`, `end`) and lines without terminal punctuation, so a good manual page fails "80 % of words
contain a letter", FineWeb's 1 % duplicate-character rule and C4's "{" rule for the part that is not
prose at all. The filter therefore computes its prose statistics over the prose lines only and reports
the share of code separately (`code_char_frac`); a page that is mostly code is judged by the code rules.

Extraction gives plain text (the `<pre>` markup is gone), so the detection is line-level: each line gets
a score from what code looks like in documentation, and lines with weak evidence count as code when a
neighbour is code (listings are contiguous blocks). The rules, in order of weight:
- a shell or REPL prompt (`$ `, `# ` + command, `>>> `, `mysql> `, `postgres=# `, `C:\\>`);
- the whole line is a path, an option list or a URL;
- a line opened by a programming keyword (`import`, `def`, `#include`, `return`, `SELECT`...) or a command
  name followed by options (`apt-get install`, `git commit -m`);
- a line made mostly of symbols, or that ends like code (`;`, `{`, `}`, `)` without prose before it), or
  holds operators (`==`, `->`, `::`, `&&`, `:=`, `+=`);
- a line indented by 4+ spaces or a tab with code punctuation;
- a numbered listing: three or more lines in a row that start with consecutive line numbers
  (`1 Source: gentoo`, `2 Section: unknown`, ... as DocBook renders program listings).
A line with many letters and a sentence ending (". " words) is prose whatever else it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_PROMPT = re.compile(
    r"^\s*(?:\$|%|#|>>>|\.\.\.|>|[\w.-]+@[\w.-]+(?::[~/\w.-]*)?[$#]|[\w-]+=[#>]|mysql>|sqlite>|postgres[=-]?#|"
    r"In \[\d+\]:|Out\[\d+\]:|irb\(main\)[:\d]*>|PS [A-Z]:\\[^>]*>|[A-Z]:\\[^>]*>)\s+\S"
)
_PATH_OR_URL = re.compile(r"^\s*(?:(?:[~.]{0,2}/[\w.@+%~:-]*)+/?|[A-Za-z]:\\[\w\\. -]+|\w+://\S+)\s*$")
_OPTIONS = re.compile(r"^\s*(?:-{1,2}[\w][\w-]*(?:[= ]\S+)?[,\s]*)+$")
_KEYWORD_START = re.compile(
    r"^\s*(?:import\s+[\w.]+|from\s+[\w.]+\s+import\b|def\s+\w+\s*\(|class\s+\w+\s*[(:{]|return\b|"
    r"#\s*(?:include|define|ifn?def|endif|if|else|pragma)\b|#!|using\s+[\w.]+;|package\s+[\w.]+;?|"
    r"(?:public|private|protected|static|final|const|let|var|func|fn|function|void|int|char|bool|"
    r"struct|enum|typedef|unsigned|long|double|float)\s+[\w*&<>\[\]]+|"
    r"(?:if|elif|while|for|foreach|switch|catch|except)\s*\(|(?:else|try|finally|do|then|fi|done|esac|end)\s*[:{;]?\s*$|"
    r"(?:SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|GRANT|REVOKE|BEGIN|COMMIT)\s+[A-Z*(\w]|"
    r"(?:sudo|apt|apt-get|aptitude|dpkg|dpkg-\w+|debuild|dch|git|make|cmake|cd|ls|cp|mv|rm|mkdir|chmod|chown|"
    r"cat|echo|export|pip3?|python3?|perl|ruby|gcc|cc|ld|tar|gzip|wget|curl|ssh|scp|systemctl|service|"
    r"mount|umount|grep|sed|awk|find|ln|su|psql|pg_\w+|initdb|createdb|mysql|npm|cargo|go|java|javac|"
    r"docker|kubectl|lintian|quilt|uscan|gbp|reportbug|update-\w+|modprobe|ifconfig|ip|iptables|"
    r"debconf-\w+|dh_\w+|dh)\s+[-\w./$~\"'`<>|*]+)"
)
_OPERATORS = re.compile(r"==|!=|->|=>|::|&&|\|\||:=|\+=|-=|<<|>>|\+\+|\$\(|\$\{|\w\(\)|\[\]|\b\w+\[\w*\]|[;{}]\s*$")
# Two letters then a sentence end (a fixed-width match: `{2,}` backtracks quadratically on long lines).
# Written from the punctuation mark, with the two letters as a look-behind: `re` then skips to the next
# mark instead of trying the letters at every position (5x faster on real documentation lines; the
# same lines match: `sentence_like` only asks whether there is a match).
_SENTENCE = re.compile(r"[.!?。！？](?<=[^\W\d_]{2}[.!?。！？])(?:\s|$)")
_MAX_LINE = 2000  # characters of a line that are scored: code lines are shorter, prose decides early
_LETTER = re.compile(r"[^\W\d_]")
_CODE_PUNCT = set("{}[]()<>;=$\\|&*/_#@%^~`'\"+:-")
# Counting characters by deleting them with bytes.translate (C, one table lookup per byte) instead of a
# Python loop or a regex per character: every character counted here is ASCII, and in UTF-8 an ASCII
# byte never occurs inside a multi-byte sequence, so deleting those bytes from the UTF-8 form is exact.
_CODE_PUNCT_BYTES = "".join(sorted(_CODE_PUNCT)).encode("ascii")
_ASCII_LETTER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# A line without any of these characters cannot match `_OPERATORS` (each alternative needs one).
_OPERATOR_BYTES = b"=!-<>:&|+$()[];{}"
_INDENT = re.compile(r"^(?: {4,}|\t)")
_LINE_NUMBER = re.compile(r"^\s*(\d{1,4})(?:\s|$)")


@dataclass(frozen=True)
class CodeConfig:
    """How strong the evidence of one line must be (`min_score`), and how a neighbour helps."""

    min_score: int = 2
    neighbour_score: int = 1


def line_code_score(line: str) -> int:
    """0 = prose, 1 = weak evidence of code, 2+ = code.

    Cached for lines up to `_CACHED_LINE` characters: two thirds of the lines of a documentation site
    recur (navigation, headings, listings' braces; long lines rarely do), and the score is a pure
    function of the line. The bound keeps the cache under ~16M characters whatever the input.
    """
    if len(line) <= _CACHED_LINE:
        return _cached_line_code_score(line)
    return _line_code_score(line[:_MAX_LINE])


_CACHED_LINE = 256


@lru_cache(maxsize=1 << 16)
def _cached_line_code_score(line: str) -> int:
    return _line_code_score(line)


def _line_code_score(line: str) -> int:
    s = line.strip()
    if not s:
        return 0
    b = s.encode("utf-8", "surrogatepass")
    # for ASCII text `[^\W\d_]` is exactly [A-Za-z]; other text takes the regex
    letters = len(b) - len(b.translate(None, _ASCII_LETTER_BYTES)) if s.isascii() else len(_LETTER.findall(s))
    # the cheap tests first: most lines fail the word count or the letter share before the regex
    sentence_like = letters >= 0.6 * len(s) and len(s.split()) >= 6 and _SENTENCE.search(s) is not None
    if _PROMPT.match(line) and not sentence_like:
        return 3
    if _PATH_OR_URL.match(s) or _OPTIONS.match(s):
        return 3
    score = 0
    if _KEYWORD_START.match(line) and not sentence_like:
        score += 2
    punct = len(b) - len(b.translate(None, _CODE_PUNCT_BYTES))
    if len(s) >= 1 and punct / len(s) > 0.25 and letters < 0.6 * len(s):
        score += 2
    elif punct / len(s) > 0.12:
        score += 1
    if len(b.translate(None, _OPERATOR_BYTES)) < len(b) and _OPERATORS.search(s):
        score += 1
    if _INDENT.match(line) and punct:
        score += 1
    if sentence_like:
        score -= 2
    return max(score, 0)


def code_lines(lines: list[str], cfg: CodeConfig | None = None, needed: list[bool] | None = None) -> list[bool]:
    """Which lines are code: strong evidence, or weak evidence next to a code line (blocks are contiguous).

    `needed` (optional, one flag per line): the caller reads only those lines' answers (language ID
    skips short lines anyway); the others come back False, and a line is scored only when its own
    answer or a needed neighbour's depends on it. The needed answers are the same as without it.
    """
    cfg = cfg or CodeConfig()
    if needed is not None:
        return _code_lines_needed(lines, cfg, needed)
    scores = [line_code_score(ln) for ln in lines]
    strong = [sc >= cfg.min_score for sc in scores]
    _mark_numbered_listings(lines, strong)
    out = list(strong)
    n = len(lines)
    for i, sc in enumerate(scores):
        if out[i] or sc < cfg.neighbour_score:
            continue
        # weak evidence joins a code block when the nearest non-empty line on either side is code
        for step in (-1, 1):
            j = i + step
            while 0 <= j < n and not lines[j].strip():
                j += step
            if 0 <= j < n and strong[j]:
                out[i] = True
                break
    return out


def _code_lines_needed(lines: list[str], cfg: CodeConfig, needed: list[bool]) -> list[bool]:
    """`code_lines` for the needed lines only, scoring other lines lazily (as their neighbours)."""
    n = len(lines)
    numbered = [False] * n
    _mark_numbered_listings(lines, numbered)
    scores: list[int | None] = [line_code_score(ln) if need else None for ln, need in zip(lines, needed)]

    def strong(j: int) -> bool:
        if numbered[j]:
            return True
        sc = scores[j]
        if sc is None:
            sc = scores[j] = line_code_score(lines[j])
        return sc >= cfg.min_score

    out = [False] * n
    for i in range(n):
        if not needed[i]:
            continue
        if strong(i):
            out[i] = True
            continue
        if scores[i] < cfg.neighbour_score:  # type: ignore[operator]  # scored: needed
            continue
        for step in (-1, 1):
            j = i + step
            while 0 <= j < n and not lines[j].strip():
                j += step
            if 0 <= j < n and strong(j):
                out[i] = True
                break
    return out


def _mark_numbered_listings(lines: list[str], flags: list[bool]) -> None:
    """Runs of >= 3 non-empty lines numbered n, n+1, n+2, ... are a program listing."""
    run: list[int] = []
    prev = None
    for i, ln in enumerate(lines):
        if not ln.strip():
            continue
        m = _LINE_NUMBER.match(ln)
        num = int(m.group(1)) if m else None
        if num is not None and prev is not None and num == prev + 1:
            run.append(i)
        else:
            if len(run) >= 3:
                for j in run:
                    flags[j] = True
            run = [i] if num is not None else []
        prev = num
    if len(run) >= 3:
        for j in run:
            flags[j] = True


def split_prose(text: str, cfg: CodeConfig | None = None) -> tuple[str, int, int]:
    """(the prose lines of `text` joined by newlines, code lines, characters in code lines).

    Empty lines are kept where they are so paragraph breaks survive for the repetition statistics.
    """
    lines = text.split("\n")
    flags = code_lines(lines, cfg)
    n_code = sum(flags)
    if not n_code:
        return text, 0, 0
    code_chars = sum(len(ln) for ln, f in zip(lines, flags) if f)
    prose = "\n".join(ln for ln, f in zip(lines, flags) if not f)
    return prose, n_code, code_chars
