"""Quality signals: every heuristic statistic of a document, computed once and stored as a row.

Columns: the Gopher quality and repetition statistics (below), the C4 and FineWeb statistics
(`goldpan.filter.lines`: C4's line filter replayed once, FineWeb's ratios over the lines it kept),
signals of machine-made pages (`goldpan.filter.junk`: word salad, lorem ipsum, link farms, menus)
and PII counts (`goldpan.filter.pii`). The document is tokenised once, line by line.

Why signals apart from decisions (the Dolma / RedPajama-v2 model): tokenisation dominates the cost of
heuristic filtering, and the reference tools re-tokenise in every filter and throw the numbers away
after comparing them with a threshold. Here one pass produces all numbers; `rules.py` compares them
with thresholds later, so a threshold sweep or a new per-language recipe never recomputes anything.

Definitions follow datatrove 0.10's `GopherQualityFilter` and `GopherRepetitionFilter` so that
decisions agree with FineWeb's. Where we deliberately differ, the reason is given:

Tokens and words
- `tokens` are all tokens of the shared tokeniser (`goldpan.text.tokenize.tokens`): spaCy's blank
  tokenizer for space-separated languages (datatrove also uses spaCy), one token per character for
  CJK (datatrove uses jieba words for zh; we use characters so that extract, filter and dedup agree
  on what a Chinese "word" is, without a segmentation dependency).
- `n_words` counts the tokens that are not pure punctuation/symbols (`tokenize.is_punct_token`,
  Unicode categories P* and S*). datatrove uses an ad-hoc PUNCTUATION_SET instead, which misses
  symbols such as "•", "©" or "€"; using the shared definition keeps `n_words` identical to the
  word count stored by extract.

Quality statistics (datatrove's denominators kept on purpose)
- `mean_word_length`: mean character length of the words (non-symbol tokens).
- `hash_word_ratio` = text.count("#") / n_tokens and `ellipsis_word_ratio` =
  (text.count("...") + text.count("…")) / n_tokens: datatrove divides by *all* tokens, not words.
  They are two signals because datatrove checks them as two rules against the same threshold.
- `bullet_lines_ratio` / `ellipsis_lines_ratio`: share of `text.splitlines()` lines whose stripped
  start is "•" or "-" / whose stripped end is "..." or "…" (empty lines count in the denominator).
- `alpha_words_ratio`: share of *tokens* (punctuation included, as in datatrove) that contain an
  alphabetic character. For CJK text a token counts when it is a CJK letter (Han, kana, Hangul) or
  contains an ASCII/fullwidth Latin letter (English words, pinyin, brand names). Why not
  `str.isalpha`: it is true for every letter of every script, so on a Chinese page mojibake
  (UTF-8 Chinese read as Latin-1 gives runs like "ä¸­æ–‡") and stray other-script runs would count
  as words (datatrove issue #202 is about isalpha and CJK). Digits, fullwidth digits,
  punctuation and symbols never count, whatever the language. Pinyin with tone marks still counts
  because its tokens carry ASCII letters; a lone "é" on a Chinese page does not.
- `letter_words_ratio`: share of *words* (punctuation and symbol tokens left out) that contain a
  letter of any script: the Gopher paper's own definition ("80% of words ... contain at least one
  alphabetic character"), which punctuation-dense documentation prose passes and datatrove's
  token-based ratio does not.
- `stop_words_ratio`: stop-word tokens / words (Korean: eojeol ending in a listed particle). Running
  prose in any language is built on function words; dictionary-word salad is not.
- `stop_words_count`: number of *distinct* stop words present (datatrove's set intersection,
  case-sensitive), using `stopwords.stop_words_for(lang)`; null when no list exists for the language.

Repetition statistics (datatrove's exact splitting and counting)
- paragraphs = re.split(r"\\n{2,}", text.strip()); lines = re.split(r"\\n+", text) (not stripped, so
  leading/trailing newlines produce empty lines, as in datatrove).
- `dup_para_frac`, `dup_line_frac`: elements equal to an earlier element / all elements.
- `dup_para_char_frac`, `dup_line_char_frac`: characters of those duplicates / len(text).
- `top_{2,3,4}gram_char_frac`: len(most frequent n-gram) × its count / len(text); the n-gram string
  is the tokens joined with " " (datatrove), or with "" for CJK where the text has no spaces, so the
  fraction counts characters that exist in the text. Ties go to the n-gram seen first.
- `dup_{5..10}gram_char_frac`: walk the n-grams (tokens joined with ""); when one was seen before,
  add its length and jump n tokens ahead so overlapping repeats are counted once; / len(text).
- All fractions are 0.0 when their denominator is 0 (empty text), so an empty page fails the
  minimum-words rule instead of producing NaN.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import accumulate, chain
from operator import methodcaller, mul, sub
from typing import Any

import pyarrow as pa

from goldpan.filter.junk import (
    JUNK_SIGNALS,
    distinct_lower_ratio,
    keyword_dominance_lower,
    long_line_char_frac,
    lorem_lower_ratio,
    recurring_bigram_share_lower,
    unbalanced_bracket_ratio,
    url_lines_ratio,
)
from goldpan.filter.lines import C4LineConfig, line_stats
from goldpan.filter.ngrams import JoinedNgrams
from goldpan.filter.pii import count_pii
from goldpan.filter.stopwords import count_stop_words, lang_base, stop_words_for
from goldpan.text.technical import split_prose
from goldpan.text.tokenize import is_cjk_char, is_punct_token, tokenizer_for, uses_char_tokens

# v2: C4 and FineWeb line statistics and PII counts added to the single pass.
# v3: code lines (goldpan.text.technical) and every text statistic again over the prose lines
#     (`prose_*`); FineWeb-2 stop-word lists; Korean eojeol and Japanese Sudachi words.
# v4: signals of machine-made pages (goldpan.filter.junk): distinct-word ratio, lorem-ipsum words,
#     URL lines, characters in long lines.
# v5: keyword dominance, unbalanced brackets, recurring word pairs (goldpan.filter.junk); long lines of CJK text counted in
#     word characters (24), not tokens (16).
SIGNALS_VERSION = "signals-v5"

# Status vocabulary shared with the lake (goldpan.lake.schemas): a signal row is "kept" when its
# numbers were computed, "error" when computing them raised.
STATUS_OK = "kept"
STATUS_ERROR = "error"

TOP_NGRAM_SIZES: tuple[int, ...] = (2, 3, 4)
DUP_NGRAM_SIZES: tuple[int, ...] = (5, 6, 7, 8, 9, 10)

# Ordered (name, Arrow type): the order is the column order of the doc_signals table.
_TEXT_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("n_chars", pa.int64()),
    ("n_lines", pa.int64()),
    ("n_tokens", pa.int64()),
    ("n_words", pa.int64()),
    ("mean_word_length", pa.float64()),
    ("hash_word_ratio", pa.float64()),
    ("ellipsis_word_ratio", pa.float64()),
    ("bullet_lines_ratio", pa.float64()),
    ("ellipsis_lines_ratio", pa.float64()),
    ("alpha_words_ratio", pa.float64()),
    ("letter_words_ratio", pa.float64()),
    ("stop_words_count", pa.int64()),
    ("stop_words_ratio", pa.float64()),
    ("dup_para_frac", pa.float64()),
    ("dup_para_char_frac", pa.float64()),
    ("dup_line_frac", pa.float64()),
    ("dup_line_char_frac", pa.float64()),
    *((f"top_{n}gram_char_frac", pa.float64()) for n in TOP_NGRAM_SIZES),
    *((f"dup_{n}gram_char_frac", pa.float64()) for n in DUP_NGRAM_SIZES),
    # C4 (goldpan.filter.lines): line-filter counts, then what the FineWeb-setting C4 keeps ...
    ("c4_lines", pa.int64()),
    ("c4_long_word_lines", pa.int64()),
    ("c4_no_terminal_punct_lines", pa.int64()),
    ("c4_terminal_punct_line_ratio", pa.float64()),
    ("c4_short_lines", pa.int64()),
    ("c4_javascript_lines", pa.int64()),
    ("c4_policy_lines", pa.int64()),
    ("c4_lorem_ipsum", pa.int64()),
    ("c4_curly_bracket", pa.int64()),
    ("c4_sentences", pa.int64()),
    ("c4_kept_lines", pa.int64()),
    # ... and what the original C4 (lines without terminal punctuation removed too) keeps.
    ("c4_strict_lorem_ipsum", pa.int64()),
    ("c4_strict_curly_bracket", pa.int64()),
    ("c4_strict_sentences", pa.int64()),
    # FineWeb, over the text C4 (FineWeb setting) kept.
    ("fw_lines", pa.int64()),
    ("fw_line_punct_ratio", pa.float64()),
    ("fw_short_line_ratio", pa.float64()),
    ("fw_char_dup_ratio", pa.float64()),
    ("fw_newline_ratio", pa.float64()),
    # Machine-made pages (goldpan.filter.junk).
    *((name, pa.float64()) for name in JUNK_SIGNALS),
]
# The statistics above, computed a second time over the prose lines only (code, shell sessions and
# paths left out, goldpan.text.technical): the multilingual rules read these, datatrove mode the
# originals. A page without code lines has prose_x == x.
VIEW_SIGNALS: tuple[str, ...] = tuple(name for name, _ in _TEXT_COLUMNS)
PROSE_PREFIX = "prose_"
SIGNAL_COLUMNS: list[tuple[str, pa.DataType]] = [
    *_TEXT_COLUMNS,
    ("code_lines", pa.int64()),
    ("code_char_frac", pa.float64()),
    *((PROSE_PREFIX + name, t) for name, t in _TEXT_COLUMNS),
    # PII counts (goldpan.filter.pii) over the document text.
    ("pii_email", pa.int64()),
    ("pii_ip", pa.int64()),
    ("pii_phone", pa.int64()),
]
SIGNAL_NAMES: tuple[str, ...] = tuple(name for name, _ in SIGNAL_COLUMNS)

_ID_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("doc_id", pa.string()),
    ("batch_id", pa.string()),
    ("lang", pa.string()),
    ("signals_version", pa.string()),
    ("status", pa.string()),
    ("error", pa.string()),
]

_PARA_SPLIT = re.compile(r"\n{2,}")
_LINE_SPLIT = re.compile(r"\n+")
_BULLETS = ("•", "-")
_ELLIPSES = ("...", "…")


def signals_schema() -> pa.Schema:
    """Arrow schema of the doc_signals table: ids and status, then one column per signal."""
    return pa.schema([pa.field(n, t) for n, t in _ID_COLUMNS + SIGNAL_COLUMNS])


def _is_basic_latin_letter(ch: str) -> bool:
    """ASCII or fullwidth A-Z / a-z: the Latin letters a Chinese page legitimately carries."""
    o = ord(ch)
    return 0x41 <= o <= 0x5A or 0x61 <= o <= 0x7A or 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A


@lru_cache(maxsize=262_144)
def _token_class(tok: str, cjk: bool) -> tuple[bool, bool]:
    """(is_word, is_alpha) of one token; cached because tokens repeat heavily across documents."""
    is_word = not is_punct_token(tok)
    if cjk:
        # A CJK letter (isalpha also excludes CJK-range symbols such as Kangxi radicals), or any
        # token carrying a Latin letter; not letters of other scripts (mojibake, stray runs).
        is_alpha = any(c.isalpha() and is_cjk_char(c) for c in tok) or any(map(_is_basic_latin_letter, tok))
    else:
        is_alpha = any(c.isalpha() for c in tok)
    return is_word, is_alpha


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(# elements equal to an earlier one, # characters in those elements)."""
    seen: set[str] = set()
    dup_n = dup_chars = 0
    for item in items:
        if item in seen:
            dup_n += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_n, dup_chars


_DEFAULT_LINE_CFG = C4LineConfig()


def compute_signals(
    text: str, lang: str | None, line_cfg: C4LineConfig = _DEFAULT_LINE_CFG
) -> dict[str, float | int | None]:
    """All signals of one document (the keys of `SIGNAL_COLUMNS`): a pure function of (text, lang).

    The text statistics twice: over the whole text (datatrove's definitions) and over its prose lines
    (`prose_*`, code lines left out); the second pass only runs when the page has code lines, and
    reuses the tokens of the lines the first pass tokenised (when both passes tokenise the same way).
    Raises TypeError when `text` is not a string (the batch function turns that into an error row).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    line_tokens: dict[str, list[str]] = {}
    out = _text_signals(text, lang, line_cfg, line_tokens)
    prose, n_code, code_chars = split_prose(text)
    out["code_lines"] = n_code
    out["code_char_frac"] = code_chars / len(text) if text else 0.0
    if n_code == 0:
        prose_sig = out
    else:
        # The memo holds the first pass's tokens per line; valid only when the prose pass picks the same
        # tokenizer (it can differ for an unknown language, where the share of CJK decides).
        same = uses_char_tokens(prose, lang) == uses_char_tokens(text, lang)
        prose_sig = _text_signals(prose, lang, line_cfg, line_tokens if same else {})
    out.update({PROSE_PREFIX + name: prose_sig[name] for name in VIEW_SIGNALS})
    out.update({f"pii_{kind}": n for kind, n in count_pii(text).items()})
    return out


def _text_signals(
    text: str, lang: str | None, line_cfg: C4LineConfig = _DEFAULT_LINE_CFG,
    line_tokens: dict[str, list[str]] | None = None,
) -> dict[str, float | int | None]:
    """The text statistics (`VIEW_SIGNALS`) of one text.

    One tokenisation (line by line: the C4 line rules need each line's tokens, and the document's
    tokens are their concatenation), one line split per definition; everything else is derived
    from those lists. `line_tokens` memoises line -> tokens (filled here, read by the prose pass).
    Counts over tokens are taken over the distinct tokens with their multiplicity; the n-gram
    statistics come from hashes (goldpan.filter.ngrams); the words are lowercased once for the junk
    signals. `goldpan.filter.signals_reference` keeps the direct definitions; tests compare.
    """
    cjk = uses_char_tokens(text, lang)
    tokenize = tokenizer_for(text, lang)
    q_lines = text.splitlines()
    memo = {} if line_tokens is None else line_tokens
    line_toks = []
    for line in q_lines:
        lt = memo.get(line)
        if lt is None:
            lt = memo[line] = tokenize(line)
        line_toks.append(lt)
    toks = list(chain.from_iterable(line_toks))
    n_chars = len(text)
    n_tokens = len(toks)

    n_words = word_chars = n_alpha = n_letter_words = 0
    word_types: set[str] = set()
    for tok, count in Counter(toks).items():
        is_word, is_alpha = _token_class(tok, cjk)
        if is_word:
            word_types.add(tok)
            n_words += count
            word_chars += len(tok) * count
            if is_alpha:
                n_letter_words += count
        if is_alpha:
            n_alpha += count

    stops = count_stop_words(toks, lang)

    n_qlines = len(q_lines)
    bullet_lines = sum(map(methodcaller("startswith", _BULLETS), map(str.lstrip, q_lines)))
    ellipsis_lines = sum(map(methodcaller("endswith", _ELLIPSES), map(str.rstrip, q_lines)))

    paragraphs = _PARA_SPLIT.split(text.strip())
    para_dups, para_dup_chars = _duplicates(paragraphs)
    r_lines = _LINE_SPLIT.split(text)
    line_dups, line_dup_chars = _duplicates(r_lines)

    def frac(num: float, den: float) -> float:
        return num / den if den else 0.0

    out: dict[str, float | int | None] = {
        "n_chars": n_chars,
        "n_lines": n_qlines,
        "n_tokens": n_tokens,
        "n_words": n_words,
        "mean_word_length": frac(word_chars, n_words),
        "hash_word_ratio": frac(text.count("#"), n_tokens),
        "ellipsis_word_ratio": frac(text.count("...") + text.count("…"), n_tokens),
        "bullet_lines_ratio": frac(bullet_lines, n_qlines),
        "ellipsis_lines_ratio": frac(ellipsis_lines, n_qlines),
        "alpha_words_ratio": frac(n_alpha, n_tokens),
        "letter_words_ratio": frac(n_letter_words, n_words),
        "stop_words_count": stops[0] if stops else None,
        "stop_words_ratio": frac(stops[1], n_words) if stops else None,
        "dup_para_frac": frac(para_dups, len(paragraphs)),
        "dup_para_char_frac": frac(para_dup_chars, n_chars),
        "dup_line_frac": frac(line_dups, len(r_lines)),
        "dup_line_char_frac": frac(line_dup_chars, n_chars),
    }
    # Top n-grams: joined with "" for CJK (the text has no spaces), " " otherwise; repeats always "".
    glued = JoinedNgrams(toks, "")
    spaced = glued if cjk else JoinedNgrams(toks, " ")
    for n in TOP_NGRAM_SIZES:
        out[f"top_{n}gram_char_frac"] = frac(spaced.top_chars(n), n_chars)
    for n in DUP_NGRAM_SIZES:
        out[f"dup_{n}gram_char_frac"] = frac(glued.dup_chars(n), n_chars)
    out.update(line_stats(q_lines, line_toks, tokenize, cjk, line_cfg))
    is_word = word_types.__contains__
    low = list(map(str.lower, filter(is_word, toks)))
    out["distinct_word_ratio"] = distinct_lower_ratio(low)
    out["lorem_word_ratio"] = lorem_lower_ratio(low)
    out["url_lines_ratio"] = url_lines_ratio(q_lines, text)
    # words per line (CJK: characters of words), as differences of prefix sums over the document's
    # tokens: one C-level pass instead of a sum per line
    per_token = map(mul, map(is_word, toks), map(len, toks)) if cjk else map(is_word, toks)
    word_prefix = list(accumulate(per_token, initial=0))
    bounds = list(accumulate(map(len, line_toks), initial=0))
    line_words = list(map(sub, map(word_prefix.__getitem__, bounds[1:]), map(word_prefix.__getitem__, bounds[:-1])))
    out["long_line_char_frac"] = long_line_char_frac(q_lines, line_words, cjk)
    # Japanese tokens are Sudachi words, so its keyphrases are word bigrams as in spaced languages.
    out["keyword_dominance"] = keyword_dominance_lower(
        low, stop_words_for(lang) or frozenset(), cjk and lang_base(lang) != "ja")
    out["unbalanced_bracket_ratio"] = unbalanced_bracket_ratio(q_lines)
    out["recurring_bigram_share"] = recurring_bigram_share_lower(low)
    return out


def compute_signal_batch(records: Iterable[Mapping[str, Any]]) -> pa.RecordBatch:
    """Signals of many documents as one Arrow batch in `signals_schema()`.

    Never crashes and never drops: a document whose computation raises becomes a row with status
    "error", the exception (type and message) in `error` and null signals, so input count =
    output rows and the caller can count errored documents.
    """
    schema = signals_schema()
    cols: dict[str, list[Any]] = {f.name: [] for f in schema}
    for rec in records:
        lang = rec.get("lang")
        try:
            sig = compute_signals(rec.get("text"), lang)  # type: ignore[arg-type]
            status, error = STATUS_OK, None
        except Exception as exc:  # noqa: BLE001 - one bad document must not take the batch down
            sig = dict.fromkeys(SIGNAL_NAMES)
            status, error = STATUS_ERROR, f"{type(exc).__name__}: {exc}"
        cols["doc_id"].append(rec.get("doc_id"))
        cols["batch_id"].append(rec.get("batch_id"))
        cols["lang"].append(lang)
        cols["signals_version"].append(SIGNALS_VERSION)
        cols["status"].append(status)
        cols["error"].append(error)
        for name in SIGNAL_NAMES:
            cols[name].append(sig[name])
    return pa.RecordBatch.from_pydict(cols, schema=schema)
