"""spaCy's tokenizer for one whitespace-free chunk, in pure Python, exact or it declines.

Why: on real, diverse text most chunks are cache misses, and `nlp.tokenizer(chunk)` costs a Doc
allocation, lexeme lookups and a PhraseMatcher pass per chunk: more than half of extract's and
the filter's time. This module replays spaCy 3.8's own algorithm (`Tokenizer._split_affixes` and
`Tokenizer._attach_tokens` in spacy/tokenizer.pyx) with the *same* compiled rules taken from the
live tokenizer (prefix_search, suffix_search, infix_finditer, token_match, url_match), so it is
language-generic and follows whatever rules the installed spaCy ships.

It returns None (caller falls back to spaCy) whenever the exact result would depend on a part of
spaCy it does not replay:
- special cases (`tokenizer.rules`: "don't", "U.S.", ":)", "p.m." ...): if any string the affix
  loop checks against the specials table, or any run of produced tokens (what the special-case
  PhraseMatcher could merge), equals a rule key, it declines;
- `token_match` hits (English has none; other languages may).
Everything else (prefix/suffix peeling, url_match, infix splitting) is replayed step by step, so a
chunk it accepts gets spaCy's tokens by construction; tests/unit/test_text_tokenize_fast.py checks
that on real corpora and adversarial strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable


# The commonest chunk shapes, answered without running the affix regexes (English rules only):
# an ASCII word or a digit string, optionally with one opening bracket/quote before and one
# closing punctuation mark after. Derived from spaCy 3.8's English patterns:
# - no prefix, suffix or infix alternative can match inside `[A-Za-z]+` or `[0-9]+` alone: every
#   alternative consumes a non-alphanumeric character, except the units (`km`, `m`, `T`, ...) whose
#   lookbehind needs a digit right before letters, which these cores never have;
# - `( [ " “` are unconditional one-character prefixes (`^\(`, `^\[`, `^"`, `^“`);
# - `, ; : ! ? ) ] " ”` are unconditional one-character suffixes (`,$`, `\)$`, ...);
# - `.` is a suffix only after a lowercase letter or digit here (`(?<=[0-9a-z...])\.$`; after one
#   capital it is not, after two it is), so it is accepted only after `[a-z0-9]`.
# With one prefix and one suffix spaCy strips both in the first round (2 <= len); rule keys
# ("Dr.", "cannot", "a.", ...) are vetoed by `_check_special_runs`.
_EN_SIMPLE = re.compile(
    r"([(\[\"“]?)([A-Za-z]+|[0-9]+)([,;:!?)\]\"”]|(?<=[a-z0-9])\.|)\Z"
)


_SURROGATE = re.compile("[\ud800-\udfff]").search


class FastChunkTokenizer:
    """Exact replay of a spaCy `Tokenizer` on one chunk; `__call__` returns None to decline."""

    def __init__(self, tokenizer, english_shortcut: bool = False) -> None:
        """`english_shortcut`: also answer the commonest shapes with one regex (see `_EN_SIMPLE`).

        Only for spaCy 3.8's English rules, whose prefix/suffix/infix patterns were read to derive
        it; the replay below is used for every other chunk and every other language.
        """
        self._simple = _EN_SIMPLE.match if english_shortcut else None
        self._prefix = _anchored_match(tokenizer.prefix_search)
        self._suffix = tokenizer.suffix_search
        self._infix = tokenizer.infix_finditer
        self._token_match = tokenizer.token_match
        self._url_match = tokenizer.url_match
        # `Tokenizer._specials` is keyed by exactly the keys of `rules` (add_special_case sets both).
        self._rules = frozenset(tokenizer.rules)
        self._max_rule_len = max((len(k) for k in self._rules), default=0)

    def __call__(self, chunk: str) -> list[str] | None:
        rules = self._rules
        if self._simple is not None:
            m = self._simple(chunk)
            if m is not None:
                pre, core, suf = m.groups()
                if not pre and not suf:
                    return None if chunk in rules else [chunk]
                out = [pre, core, suf] if pre and suf else [pre, core] if pre else [core, suf]
                return self._check_special_runs(out)
        if _SURROGATE(chunk) is not None:
            return None  # spaCy raises UnicodeEncodeError on lone surrogates; let it, callers repair
        prefix_m = self._prefix
        suffix_s = self._suffix
        token_match = self._token_match
        prefixes: list[str] = []
        suffixes: list[str] = []
        string = chunk
        last_size = 0
        # Tokenizer._split_affixes, with "declines" where spaCy would consult its specials.
        while string and len(string) != last_size:
            if token_match is not None and token_match(string):
                return None
            if string in rules:
                return None
            last_size = len(string)
            m = prefix_m(string) if prefix_m is not None else None
            pre_len = (m.end() - m.start()) if m is not None else 0
            if pre_len:
                prefix = string[:pre_len]
                minus_pre = string[pre_len:]
                if minus_pre in rules:
                    return None
            m = suffix_s(string[pre_len:]) if suffix_s is not None else None
            suf_len = (m.end() - m.start()) if m is not None else 0
            if suf_len:
                suffix = string[-suf_len:]
                minus_suf = string[:-suf_len]
                if minus_suf in rules:
                    return None
            if pre_len and suf_len and (pre_len + suf_len) <= len(string):
                string = string[pre_len:-suf_len]
                prefixes.append(prefix)
                suffixes.append(suffix)
            elif pre_len:
                string = minus_pre
                prefixes.append(prefix)
            elif suf_len:
                string = minus_suf
                suffixes.append(suffix)
        # Tokenizer._attach_tokens.
        out = prefixes
        if string:
            if string in rules:
                return None
            if token_match is not None and token_match(string):
                return None  # declined above already for the same string; kept for clarity
            matches = list(self._infix(string)) if self._infix is not None else []
            if not matches or (self._url_match is not None and self._url_match(string)):
                out.append(string)
            else:
                start = 0
                for match in matches:
                    infix_start = match.start()
                    infix_end = match.end()
                    if infix_start == 0:  # start_before_infixes is always 0 in spaCy 3.8
                        continue
                    if infix_start != start:
                        out.append(string[start:infix_start])
                    if infix_start != infix_end:
                        out.append(string[infix_start:infix_end])
                    start = infix_end
                if string[start:]:
                    out.append(string[start:])
        if suffixes:
            out.extend(reversed(suffixes))
        if len(out) > 1:
            return self._check_special_runs(out)
        return out

    def _check_special_runs(self, out: list[str]) -> list[str] | None:
        """Tokenizer._apply_special_cases, as a veto: decline if any run of tokens is a rule key.

        spaCy's special-case PhraseMatcher can only match a run of tokens whose concatenation is a
        rule key. The runs include the whole chunk and the chunk minus its outer prefix or suffix,
        i.e. every string the affix loop would look up in the specials table for these tokens.
        """
        rules = self._rules
        max_len = self._max_rule_len
        n = len(out)
        for i in range(n):
            s = ""
            for j in range(i, n):
                s += out[j]
                if len(s) > max_len:
                    break
                if s in rules:
                    return None
        return out


def _anchored_match(search: Callable | None) -> Callable | None:
    """`prefix_search` as a `match`: every alternative of spaCy's prefix regex starts with `^`.

    Why: `Pattern.search` with `^`-anchored alternatives still tries every position of the string,
    `match` tries only position 0, which is the only place `^` (without MULTILINE) can match.
    Falls back to the original callable when the pattern is not of that shape.
    """
    pattern = getattr(getattr(search, "__self__", None), "pattern", None)
    if search is None or not isinstance(pattern, str):
        return search
    compiled = search.__self__
    if compiled.flags & re.MULTILINE or not _all_alternatives_anchored(pattern):
        return search
    return compiled.match


def _all_alternatives_anchored(pattern: str) -> bool:
    """True when every top-level `|` alternative of `pattern` begins with `^`."""
    depth = 0
    in_class = False
    escaped = False
    starts = [0]
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            starts.append(i + 1)
    return all(pattern.startswith("^", s) for s in starts)
