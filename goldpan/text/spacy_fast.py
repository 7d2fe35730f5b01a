"""spaCy's tokenizer for one whitespace-free chunk, in pure Python, exact or it declines.

Why: on real, diverse text most chunks are cache misses, and `nlp.tokenizer(chunk)` costs a Doc
allocation, lexeme lookups and a PhraseMatcher pass per chunk: more than half of extract's and
the filter's time. This module replays spaCy 3.8's own algorithm (`Tokenizer._split_affixes` and
`Tokenizer._attach_tokens` in spacy/tokenizer.pyx) with the *same* compiled rules taken from the
live tokenizer (prefix_search, suffix_search, infix_finditer, token_match, url_match), so it is
language-generic and follows whatever rules the installed spaCy ships.

Special cases (`tokenizer.rules`: "don't", "p.m.", ":)" ...) met by the affix loop are replayed too
(the loop stops there and emits the rule's tokens, as spaCy does). It returns None (the caller
falls back to spaCy) when the exact result would depend on a part it does not replay:
- spaCy's special-case PhraseMatcher pass could change the tokens: some run of produced tokens
  concatenates to a rule key without already being that rule's tokens ("f(x):" ends in the
  emoticon "):");
- a lone surrogate (spaCy raises; the caller repairs the chunk).
Everything else (prefix/suffix peeling, token_match, url_match, infix splitting) follows spaCy step
by step, so an answer is spaCy's tokens by construction; the speed comes from exact pre-checks
derived from the parsed patterns (which suffix alternatives can end in a given character, which
characters can start an infix) and an English shortcut for the commonest shapes.
tests/unit/test_text_tokenize_fast.py checks it on real corpora and adversarial strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable

try:  # Python 3.11+: the parser behind `re` (the old name `sre_parse` is deprecated)
    from re import _constants as _re_constants
    from re import _parser as _re_parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _re_constants  # type: ignore[no-redef]
    import sre_parse as _re_parser  # type: ignore[no-redef]


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
# ("Dr.", "cannot", "a.", ...) send the chunk to the general replay (`_any_rule_run`).
_EN_SIMPLE = re.compile(r"([(\[\"“]?)([A-Za-z]+|[0-9]+)([,;:!?)\]\"”]|(?<=[a-z0-9])\.|)\Z")


_SURROGATE = re.compile("[\ud800-\udfff]").search


class FastChunkTokenizer:
    """Exact replay of a spaCy `Tokenizer` on one chunk; `__call__` returns None to decline."""

    def __init__(self, tokenizer, english_shortcut: bool = False) -> None:
        """`english_shortcut`: also answer the commonest shapes with one regex (see `_EN_SIMPLE`).

        Only for spaCy 3.8's English rules, whose prefix/suffix/infix patterns were read to derive
        it; the replay below is used for every other chunk and every other language.
        """
        # spaCy only here: importing this module must not import spaCy (~0.5 s and its memory in every
        # process that loads the code location: the UI, the daemon, a run's driver)
        from spacy.attrs import ORTH

        self._simple = _EN_SIMPLE.match if english_shortcut else None
        self._prefix = _anchored_match(tokenizer.prefix_search)
        self._suffix = tokenizer.suffix_search
        self._infix = tokenizer.infix_finditer
        self._token_match = tokenizer.token_match
        self._url_match = tokenizer.url_match
        # Exact, cheap pre-checks derived from the patterns themselves (None: no pre-check).
        self._suffix_for_last = _SuffixDispatch(tokenizer.suffix_search)
        self._infix_guard = _char_class_search(_edge_chars(tokenizer.infix_finditer, last=False))
        # `Tokenizer._specials` is keyed by exactly the keys of `rules` (add_special_case sets both).
        self._rules: dict[str, tuple[str, ...]] = {
            key: tuple(_orth(spec, ORTH) for spec in specs) for key, specs in tokenizer.rules.items()
        }
        # Every prefix of every rule key: a run whose text is not one cannot grow into a key.
        self._rule_prefixes = frozenset(k[:i] for k in self._rules for i in range(1, len(k) + 1))

    def __call__(self, chunk: str) -> list[str] | None:
        rules = self._rules
        if self._simple is not None:
            m = self._simple(chunk)
            if m is not None:
                pre, core, suf = m.groups()
                if not pre and not suf:
                    if chunk not in rules:
                        return [chunk]
                else:
                    out = [pre, core, suf] if pre and suf else [pre, core] if pre else [core, suf]
                    if not self._any_rule_run(out):
                        return out
                # A rule key is involved: the general replay below handles it.
        if _SURROGATE(chunk) is not None:
            return None  # spaCy raises UnicodeEncodeError on lone surrogates; let it, callers repair
        prefix_m = self._prefix
        suffix_for_last = self._suffix_for_last
        token_match = self._token_match
        prefixes: list[str] = []
        suffixes: list[str] = []
        string = chunk
        last_size = 0
        # Tokenizer._split_affixes (with_special_cases=True).
        while string and len(string) != last_size:
            if token_match is not None and token_match(string):
                break
            if string in rules:
                break
            last_size = len(string)
            m = prefix_m(string) if prefix_m is not None else None
            pre_len = (m.end() - m.start()) if m is not None else 0
            if pre_len:
                prefix = string[:pre_len]
                minus_pre = string[pre_len:]
                if minus_pre and minus_pre in rules:
                    string = minus_pre
                    prefixes.append(prefix)
                    break
            rest = string[pre_len:]
            search = suffix_for_last(rest[-1]) if rest else None
            if search is None:
                suf_len = 0  # no non-empty suffix match can end in this character
            else:
                m = search(rest)
                suf_len = (m.end() - m.start()) if m is not None else 0
            if suf_len:
                suffix = string[-suf_len:]
                minus_suf = string[:-suf_len]
                if minus_suf and minus_suf in rules:
                    string = minus_suf
                    suffixes.append(suffix)
                    break
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
            special = rules.get(string)
            if special is not None:
                out.extend(special)
            elif (
                (token_match is not None and token_match(string))
                or self._infix is None
                or (self._infix_guard is not None and self._infix_guard(string) is None)
            ):
                out.append(string)
            else:
                matches = list(self._infix(string))
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
        # Tokenizer._apply_special_cases.
        if self._any_rule_run(out, allow_identity=True):
            return None
        return out

    def _any_rule_run(self, out: list[str], allow_identity: bool = False) -> bool:
        """True if a run of tokens could be re-tokenised by spaCy's special-case matcher.

        `Tokenizer._apply_special_cases` runs a PhraseMatcher of rule keys over the token texts; it
        can only match a run of tokens whose concatenation is a rule key. A run that already *is*
        that rule's tokenisation is left as it is whatever the matcher does (`allow_identity`);
        any other such run makes the caller decline. With `allow_identity=False` every key hit
        counts (used by the shortcut, whose tokens never came from a rule).
        """
        rules = self._rules
        prefixes = self._rule_prefixes
        n = len(out)
        for i in range(n):
            s = ""
            for j in range(i, n):
                s += out[j]
                if s not in prefixes:
                    break
                special = rules.get(s)
                if special is not None and not (allow_identity and special == tuple(out[i : j + 1])):
                    return True
        return False


def _orth(spec: dict, orth_id: int) -> str:
    for key, value in spec.items():
        if key == orth_id or key == "ORTH":
            return value
    raise ValueError(f"special case without ORTH: {spec!r}")


# ---------------------------------------------------------------- exact pre-checks from the patterns


def _edge_chars(bound: Callable | None, last: bool) -> frozenset[str] | None:
    """Every character a non-empty match of the pattern can end with (`last`) or start with.

    Why: spaCy's suffix regex is ~200 `...$` alternatives that `search` tries at every position,
    and the infix regex is scanned over the whole string; most chunks end in (or contain) no
    character any alternative can consume there, which a set lookup tells at once. Computed
    from the parsed pattern (re._parser), so it follows the installed rules. Returns None (no
    pre-check) when the pattern uses anything the analysis does not model (categories like \\w,
    negated classes, `.`, back-references, case-insensitive flags) or can match the empty string.
    """
    compiled = getattr(bound, "__self__", None)
    if not isinstance(compiled, re.Pattern) or not isinstance(compiled.pattern, str):
        return None
    if compiled.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        parsed = _re_parser.parse(compiled.pattern, compiled.flags)
        chars, nullable = _seq_edge(list(parsed), last)
    except _Unmodelled:
        return None
    if nullable:
        return None
    return frozenset(chars)


class _Unmodelled(Exception):
    pass


def _seq_edge(items: list, last: bool) -> tuple[set[str], bool]:
    chars: set[str] = set()
    for op, av in reversed(items) if last else items:
        c, nullable = _item_edge(op, av, last)
        chars |= c
        if not nullable:
            return chars, False
    return chars, True


def _item_edge(op, av, last: bool) -> tuple[set[str], bool]:
    C = _re_constants
    if op is C.LITERAL:
        return {chr(av)}, False
    if op is C.IN:
        return _class_chars(av), False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return set(), True  # zero-width: the edge character comes from the neighbouring item
    if op is C.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _Unmodelled
        return _seq_edge(list(sub), last)
    if op is C.BRANCH:
        chars: set[str] = set()
        nullable = False
        for seq in av[1]:
            c, n = _seq_edge(list(seq), last)
            chars |= c
            nullable = nullable or n
        return chars, nullable
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)):
        lo, _hi, sub = av
        c, n = _seq_edge(list(sub), last)
        return c, n or lo == 0
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _seq_edge(list(av), last)
    raise _Unmodelled


def _class_chars(items) -> set[str]:
    C = _re_constants
    chars: set[str] = set()
    for op, av in items:
        if op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE:
            lo, hi = av
            chars.update(chr(i) for i in range(lo, hi + 1))
        else:  # NEGATE, CATEGORY, ...: not modelled
            raise _Unmodelled
    return chars


def _char_class_search(chars: frozenset[str] | None) -> Callable | None:
    """`search` of a regex matching any one character of `chars` (a C-speed "contains any")."""
    if chars is None:
        return None
    points = sorted(ord(c) for c in chars)
    parts = []
    i = 0
    while i < len(points):  # as ranges: a class of thousands of single characters is slow in `re`
        j = i
        while j + 1 < len(points) and points[j + 1] == points[j] + 1:
            j += 1
        lo, hi = re.escape(chr(points[i])), re.escape(chr(points[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return re.compile("[" + "".join(parts) + "]").search


class _SuffixDispatch:
    """`suffix_search`, restricted to the alternatives that can end in the string's last character.

    Why: spaCy's suffix regex is ~200 `...$` alternatives that `search` tries at every position of
    the string. A suffix match ends at the last character, so an alternative whose pattern cannot
    consume that character as its last one can never match; dropping it changes nothing (the
    leftmost match, and among equal starts the first alternative, are the same), and most
    characters leave no alternative at all or a handful. The per-character sets come from the parsed
    pattern (`_edge_chars`); any alternative the analysis cannot model is kept for every character.
    Called with the last character, returns the `search` to use or None (no match possible).
    """

    def __init__(self, search: Callable | None) -> None:
        self._full = search
        self._flags = 0
        self._by_char: dict[str, Callable | None] = {}
        self._alts: list[tuple[str, frozenset[str] | None]] | None = None
        compiled = getattr(search, "__self__", None)
        if (
            isinstance(compiled, re.Pattern)
            and isinstance(compiled.pattern, str)
            # Inline global flags would apply to every alternative of the whole pattern only.
            and not compiled.flags & (re.IGNORECASE | re.VERBOSE | re.MULTILINE)
        ):
            alts = _top_level_alternatives(compiled.pattern)
            if alts is not None and len(alts) > 1:
                self._flags = compiled.flags
                try:
                    self._alts = [
                        (a, _edge_chars(re.compile(a, compiled.flags).search, last=True)) for a in alts
                    ]
                except re.error:  # a split the analysis got wrong: use the full pattern
                    self._alts = None

        self._compiled: dict[tuple[str, ...], Callable | None] = {}

    def __call__(self, last_char: str) -> Callable | None:
        try:
            return self._by_char[last_char]
        except KeyError:
            pass
        if self._alts is None:
            search = self._full
        else:
            keep = tuple(a for a, chars in self._alts if chars is None or last_char in chars)
            # Most characters share a handful of alternative sets: compile each set once.
            if keep not in self._compiled:
                if len(keep) == len(self._alts):
                    self._compiled[keep] = self._full
                else:
                    self._compiled[keep] = re.compile("|".join(keep), self._flags).search if keep else None
            search = self._compiled[keep]
        if len(self._by_char) < 65_536:
            self._by_char[last_char] = search
        return search


def _top_level_alternatives(pattern: str) -> list[str] | None:
    """`pattern` split at its top-level `|` (outside groups and character classes); None if unsure."""
    depth = 0
    in_class = False
    escaped = False
    parts = []
    start = 0
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
            if pattern.startswith("]", i + 1) or pattern.startswith("^]", i + 1):
                return None  # a literal "]" first in a class: not modelled
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


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
    alts = _top_level_alternatives(pattern)
    return alts is not None and all(a.startswith("^") for a in alts)
