"""Signals of machine-made pages that the Gopher, C4 and FineWeb statistics do not see, in any language.

Why: the published rules catch repetition (n-gram and line duplicates), missing function words and
list-like layout. Spam generators get past them by never repeating themselves: word salad drawn from a
vocabulary, lorem-ipsum template filler that only sometimes opens with "Lorem ipsum", link-exchange pages
whose lines are anchor text plus a URL, and menus or boilerplate made of short unrelated lines. Each
signal below measures one of these, with a definition that works for space-separated and CJK text:

- `distinct_word_ratio`: mean type/token ratio of the words over consecutive windows of
  `WINDOW_WORDS` words (the mean segmental TTR; lowercased; one window over the whole text when it is
  shorter). Real prose repeats its words (Zipf: function words, the topic's terms), so ~0.45-0.8 of a
  window is distinct; words drawn uniformly from a vocabulary, or random letter strings, are ~0.95-1.
  Windows make it independent of the page length, which raw TTR is not.
- `lorem_word_ratio`: share of words from the lorem-ipsum generators' vocabulary (words of >= 4 letters
  of `spam.LOREM_WORDS`; short ones such as "in", "et", "a" are real words of many languages).
- `url_lines_ratio`: share of non-empty lines that hold a URL (`scheme://` or `www.`): link farms
  and doorway pages are lists of links; documentation cites a URL on a few lines.
- `long_line_char_frac`: share of the text's characters (without whitespace) in lines of at least
  `LONG_LINE_WORDS` words (`LONG_LINE_CJK_CHARS` characters of words where words are written without
  spaces, as in Chinese and Japanese): the running sentences a page has. A menu, a breadcrumb trail
  or a footer is short lines only; documentation with tables and headings still has paragraphs.
  Why characters for CJK: a Chinese word token is one character and a Japanese (Sudachi) word 1-3, so
  a token count means different lengths in the two; 24 characters is a sentence in both (~12-15
  English words), where a menu entry or heading is rarely longer than 20.
- `keyword_dominance`: how many times more often the page's most frequent *content-word* bigram
  (both words with a letter, not stop words of the language) occurs than its second most frequent,
  when it occurs at least `KEYWORD_MIN_COUNT` times (else 0). Real text spreads its repetition over
  the topic's several terms (Zipf: the top term is ~1-3x the next); a page built around one pushed
  keyphrase (SEO keyword injection) has one bigram far above all others. Bigrams of stop words are
  left out so "of the" never dominates; a ratio, not a density, so long and short pages compare.
- `recurring_bigram_share`: share of the adjacent word pairs (both words with a letter; lowercased)
  that occur at least twice in the text, when it has at least `RECURRING_MIN_PAIRS` pairs (else null).
  Real text reuses its phrases (in Chinese, where a token is a character, a pair is mostly a word:
  the topic's words recur); characters or words drawn independently of each other almost never
  form the same pair twice. Real Chinese documentation >= 0.23, Chinese narrative prose 0.11,
  frequency-drawn Chinese characters <= 0.025.
- `unbalanced_bracket_ratio`: share of the brackets ((), [], fullwidth （）, 「」, 『』, «») of the
  lines that have no partner on their line, when the text has at least `BRACKET_MIN` brackets (else
  0). Writers close what they open; text assembled from real tokens without long-range structure
  (word salad, chains of word pairs, shuffled fragments) leaves brackets open or closes unopened ones.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import compress, pairwise
from operator import and_, itemgetter

from goldpan.text.scripts import has_letter

WINDOW_WORDS = 100
LONG_LINE_WORDS = 8
LONG_LINE_CJK_CHARS = 24
KEYWORD_MIN_COUNT = 5
KEYWORD_SPAN = 3
KEYWORD_CJK_TOKENS = 4
BRACKET_MIN = 8
RECURRING_MIN_PAIRS = 200
_CLOSERS = {")": "(", "]": "[", "）": "（", "」": "「", "』": "『", "»": "«"}
_OPENERS = frozenset(_CLOSERS.values())
_BRACKET = re.compile("[" + re.escape("".join(_CLOSERS) + "".join(_OPENERS)) + "]")
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|\bwww\.)\S", re.IGNORECASE)
# Every `_URL` match contains "://" or "www." in any case (only "w" and "W" match "w" ignoring case).
_URL_HINT = re.compile(r"://|www\.", re.IGNORECASE)

JUNK_SIGNALS: tuple[str, ...] = (
    "distinct_word_ratio", "lorem_word_ratio", "url_lines_ratio", "long_line_char_frac", "keyword_dominance",
    "unbalanced_bracket_ratio", "recurring_bigram_share",
)


@lru_cache(maxsize=1)
def lorem_markers() -> frozenset[str]:
    from goldpan.filter.spam import LOREM_WORDS

    return frozenset(w for w in LOREM_WORDS if len(w) >= 4)


def distinct_word_ratio(words: list[str], window: int = WINDOW_WORDS) -> float:
    """Mean type/token ratio over consecutive windows of `window` words (a short text: one window).

    The last, partial window is dropped when there is at least one full window, so every ratio
    is over the same number of words.
    """
    return distinct_lower_ratio(list(map(str.lower, words)), window)


def distinct_lower_ratio(low: list[str], window: int = WINDOW_WORDS) -> float:
    """`distinct_word_ratio` of words already lowercased (the signal pass lowercases once for all)."""
    if not low:
        return 0.0
    if len(low) < window:
        return len(set(low)) / len(low)
    ratios = [len(set(low[i : i + window])) / window for i in range(0, len(low) - window + 1, window)]
    return sum(ratios) / len(ratios)


def lorem_word_ratio(words: list[str]) -> float:
    return lorem_lower_ratio(list(map(str.lower, words)))


def lorem_lower_ratio(low: list[str]) -> float:
    """`lorem_word_ratio` of words already lowercased."""
    if not low:
        return 0.0
    return sum(map(lorem_markers().__contains__, low)) / len(low)


def url_lines_ratio(lines: list[str], text: str | None = None) -> float:
    """Non-empty lines holding a URL / non-empty lines. `text` (the lines' text, optional) lets a page
    without "://" and without "www." (any case) skip the per-line search: every match of `_URL`
    contains one of the two (only "w" and "W" match "w" case-insensitively)."""
    non_empty = len(list(filter(None, map(str.strip, lines))))
    if not non_empty:
        return 0.0
    if text is not None and "://" not in text and "www." not in text.lower():
        return 0 / non_empty
    # `_URL_HINT` (literals, fast) first: `_URL` tries its scheme pattern at every letter of the line
    return sum(1 for ln in lines if ln.strip() and _URL_HINT.search(ln) and _URL.search(ln)) / non_empty


def long_line_char_frac(lines: list[str], line_words: list[int], char_tokens: bool) -> float:
    """Characters (whitespace left out) in long lines / all characters.

    `line_words[i]` = words (non-punctuation tokens) of `lines[i]`, or for text written without spaces
    (`char_tokens`) the characters of those words; a long line has LONG_LINE_WORDS words or
    LONG_LINE_CJK_CHARS word characters.
    """
    need = LONG_LINE_CJK_CHARS if char_tokens else LONG_LINE_WORDS
    total = long = 0
    for line, n in zip(lines, line_words):
        # non-whitespace characters: str.split() splits on exactly the characters str.isspace() accepts
        chars = sum(map(len, line.split()))
        total += chars
        if n >= need:
            long += chars
    return long / total if total else 0.0


def keyword_dominance(words: list[str], stop_words: frozenset[str], char_tokens: bool) -> float:
    """Count of the most frequent content-word n-gram / count of the most frequent *independent* one (0
    when the top one occurs fewer than KEYWORD_MIN_COUNT times; 1 stands in for a missing second).

    n-gram: 2 words, or KEYWORD_CJK_TOKENS tokens when `char_tokens` (the tokens are single characters,
    as goldpan tokenises Chinese; a Chinese token is one character, so a bigram is one word, and every frequent word of the topic would
    compete with the keyphrase; 4 characters is the usual two-word keyphrase). Content words:
    lowercased, hold a letter, not in `stop_words`, and (space-separated text) longer than one
    character; every word of the n-gram must be one. Independent: an occurrence within KEYWORD_SPAN
    words of an occurrence of the top n-gram does not count, because it is the same phrase continued
    ("cheap flights online" is "cheap flights" + "flights online").
    """
    return keyword_dominance_lower(list(map(str.lower, words)), stop_words, char_tokens)


def keyword_dominance_lower(low: list[str], stop_words: frozenset[str], char_tokens: bool) -> float:
    """`keyword_dominance` of words already lowercased."""
    n = KEYWORD_CJK_TOKENS if char_tokens else 2
    # decided once per distinct word, then looked up for every occurrence
    is_content = {w: w not in stop_words and (char_tokens or len(w) > 1) and has_letter(w) for w in set(low)}
    content = list(map(is_content.__getitem__, low))
    flags = list(map(and_, content, content[1:]) if n == 2 else map(all, zip(*(content[k:] for k in range(n)))))
    keys = list(compress(zip(*(low[k:] for k in range(n))), flags))
    if not keys:
        return 0.0
    # Counter keeps first-occurrence order and max() returns the first maximum: the n-gram whose
    # position list is the first longest one in the definition.
    counts = Counter(keys)
    top_key, top_count = max(counts.items(), key=itemgetter(1))
    if top_count < KEYWORD_MIN_COUNT:
        return 0.0
    positions = list(compress(range(len(flags)), flags))
    span = KEYWORD_SPAN + n - 1
    near = {p + d for p in compress(positions, map(top_key.__eq__, keys)) for d in range(-span, span + 1)}
    # occurrences of each n-gram near the top one: looked up from the (few) near positions
    key_at = dict(zip(positions, keys))
    near_counts = Counter(key_at[p] for p in near if p in key_at)
    second = 0
    for key, count in counts.most_common():  # an n-gram's independent count is at most its count
        if count <= second:
            break
        if key != top_key:
            second = max(second, count - near_counts.get(key, 0))
    return top_count / max(second, 1)


def unbalanced_bracket_ratio(lines: list[str]) -> float:
    """Brackets without a partner on their line / all brackets (0 below BRACKET_MIN brackets)."""
    total = unmatched = 0
    for line in lines:
        brackets = _BRACKET.findall(line)  # the line's brackets in order: the only characters that count
        if not brackets:
            continue
        stack: list[str] = []
        for ch in brackets:
            if ch in _OPENERS:
                stack.append(ch)
                total += 1
            else:
                total += 1
                if stack and stack[-1] == _CLOSERS[ch]:
                    stack.pop()
                else:
                    unmatched += 1
        unmatched += len(stack)
    return unmatched / total if total >= BRACKET_MIN else 0.0


def recurring_bigram_share(words: list[str]) -> float | None:
    """Adjacent word pairs (both with a letter) occurring >= 2 times / all such pairs; None below
    RECURRING_MIN_PAIRS pairs (too short to judge: the rule then passes)."""
    return recurring_bigram_share_lower(list(map(str.lower, words)))


def recurring_bigram_share_lower(low: list[str]) -> float | None:
    """`recurring_bigram_share` of words already lowercased."""
    letter = list(map(has_letter, low))
    pairs = list(compress(pairwise(low), map(and_, letter, letter[1:])))
    if len(pairs) < RECURRING_MIN_PAIRS:
        return None
    # pairs occurring >= 2 times, counted with their multiplicity
    return sum(c for c in Counter(pairs).values() if c >= 2) / len(pairs)
