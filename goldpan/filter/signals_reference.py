"""The signal pass as it was written first, kept verbatim as the reference for the fast one.

Why it stays in the code: `goldpan.filter.signals` computes the same numbers with shortcuts (token
counts over distinct tokens, n-grams found by hashing the joined text in numpy, the prose pass
reusing the tokens of the whole-text pass, lowercased words shared by the junk signals, regex
pre-checks). Each shortcut is exact by argument, and tests/unit/test_filter_signals_fast.py checks
it against these functions on real English, Chinese, Japanese and German pages:
`reference_compute_signals(text, lang) == compute_signals(text, lang)` for every signal. Nothing in
the pipeline calls this module; change a definition here and in the fast path together (and bump
`SIGNALS_VERSION`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import accumulate, pairwise, repeat
from operator import add, itemgetter

from goldpan.filter.junk import (
    _CLOSERS,
    _OPENERS,
    _URL,
    BRACKET_MIN,
    KEYWORD_CJK_TOKENS,
    KEYWORD_MIN_COUNT,
    KEYWORD_SPAN,
    LONG_LINE_CJK_CHARS,
    LONG_LINE_WORDS,
    RECURRING_MIN_PAIRS,
    WINDOW_WORDS,
    lorem_markers,
)
from goldpan.filter.lines import (
    CITATION,
    POLICY_SUBSTRINGS,
    C4LineConfig,
    _C4Pass,
    _ends_terminal,
    _fineweb_stats,
)
from goldpan.filter.pii import count_pii
from goldpan.filter.signals import (
    _BULLETS,
    _DEFAULT_LINE_CFG,
    _ELLIPSES,
    _LINE_SPLIT,
    _PARA_SPLIT,
    DUP_NGRAM_SIZES,
    PROSE_PREFIX,
    TOP_NGRAM_SIZES,
    VIEW_SIGNALS,
    _duplicates,
    _token_class,
)
from goldpan.filter.stopwords import count_stop_words, lang_base, stop_words_for
from goldpan.text.technical import split_prose
from goldpan.text.tokenize import (
    _is_spacy_punct_cached,
    is_punct_token,
    sentence_punct_chars,
    tokenizer_for,
    uses_char_tokens,
)


def count_token_sentences(toks: list[str]) -> int:
    """Sentences in one line's tokens, by spaCy's sentencizer rule, without building a spaCy Doc.

    The sentencizer starts a new sentence at the first token after a sentence-ending character
    (`sentence_punct_chars`) that is neither punctuation nor such a character. Re-implemented over
    the cached tokens because building a Doc per line is what makes datatrove's C4 filter slow;
    the rule applies unchanged to CJK character tokens (。！？ are in spaCy's list).
    """
    if not toks:
        return 0
    ends = sentence_punct_chars()
    n = 1
    seen_end = False
    for tok in toks:
        if tok in ends:
            seen_end = True
        elif seen_end and not _is_spacy_punct_cached(tok):
            n += 1
            seen_end = False
    return n


def distinct_word_ratio(words: list[str], window: int = WINDOW_WORDS) -> float:
    """Mean type/token ratio over consecutive windows of `window` words (a short text: one window).

    The last, partial window is dropped when there is at least one full window, so every ratio
    is over the same number of words.
    """
    if not words:
        return 0.0
    low = [w.lower() for w in words]
    if len(low) < window:
        return len(set(low)) / len(low)
    ratios = [len(set(low[i : i + window])) / window for i in range(0, len(low) - window + 1, window)]
    return sum(ratios) / len(ratios)


def lorem_word_ratio(words: list[str]) -> float:
    if not words:
        return 0.0
    markers = lorem_markers()
    return sum(1 for w in words if w.lower() in markers) / len(words)


def url_lines_ratio(lines: list[str]) -> float:
    non_empty = [ln for ln in lines if ln.strip()]
    if not non_empty:
        return 0.0
    return sum(1 for ln in non_empty if _URL.search(ln)) / len(non_empty)


def long_line_char_frac(lines: list[str], line_words: list[int], char_tokens: bool) -> float:
    """Characters (whitespace left out) in long lines / all characters.

    `line_words[i]` = words (non-punctuation tokens) of `lines[i]`, or for text written without spaces
    (`char_tokens`) the characters of those words; a long line has LONG_LINE_WORDS words or
    LONG_LINE_CJK_CHARS word characters.
    """
    need = LONG_LINE_CJK_CHARS if char_tokens else LONG_LINE_WORDS
    total = long = 0
    for line, n in zip(lines, line_words):
        chars = len(line) - sum(1 for c in line if c.isspace())
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
    n = KEYWORD_CJK_TOKENS if char_tokens else 2
    low = [w.lower() for w in words]
    content = [any(c.isalpha() for c in w) and w not in stop_words and (char_tokens or len(w) > 1) for w in low]
    positions: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(low) - n + 1):
        if all(content[i : i + n]):
            positions.setdefault(tuple(low[i : i + n]), []).append(i)
    if not positions:
        return 0.0
    top = max(positions.values(), key=len)
    if len(top) < KEYWORD_MIN_COUNT:
        return 0.0
    span = KEYWORD_SPAN + n - 1
    near = {p + d for p in top for d in range(-span, span + 1)}
    second = max((sum(1 for p in ps if p not in near) for ps in positions.values() if ps is not top), default=0)
    return len(top) / max(second, 1)


def unbalanced_bracket_ratio(lines: list[str]) -> float:
    """Brackets without a partner on their line / all brackets (0 below BRACKET_MIN brackets)."""
    total = unmatched = 0
    for line in lines:
        stack: list[str] = []
        for ch in line:
            if ch in _OPENERS:
                stack.append(ch)
                total += 1
            elif ch in _CLOSERS:
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
    low = [w.lower() for w in words]
    pairs = [(a, b) for a, b in pairwise(low) if any(map(str.isalpha, a)) and any(map(str.isalpha, b))]
    if len(pairs) < RECURRING_MIN_PAIRS:
        return None
    counts: dict[tuple[str, str], int] = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    return sum(1 for pair in pairs if counts[pair] >= 2) / len(pairs)


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
        if cfg.max_word_length >= 0 and any(len(w) > cfg.max_word_length for w in ws_words):
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
        n_words = sum(1 for t in toks if not is_punct_token(t)) if cjk else len(ws_words)
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


class _Joined:
    """The tokens joined once with `sep`, and where each token starts and ends in that string.

    Why: an n-gram joined with `sep` is exactly a slice of the joined string, so the nine n-gram
    lists (2..10) are built by slicing one string instead of re-joining n tokens per position,
    and the n-gram strings stay identical to datatrove's `sep.join(tokens[i:i+n])`.
    """

    __slots__ = ("ends", "joined", "starts")

    def __init__(self, toks: list[str], sep: str) -> None:
        self.joined = sep.join(toks)
        lens = list(map(len, toks))
        # starts[i] = sum of (len + len(sep)) of the tokens before i; ends[i] = starts[i] + len(tok i).
        # accumulate/map keep the per-token arithmetic in C (this was a Python loop over every token).
        starts = list(accumulate(map(add, lens, repeat(len(sep))), initial=0))
        starts.pop()
        self.starts, self.ends = starts, list(map(add, starts, lens))

    def ngrams(self, n: int) -> list[str]:
        j = self.joined
        return [j[a:b] for a, b in zip(self.starts, self.ends[n - 1 :])]


def _ngrams(toks: list[str], n: int, sep: str) -> list[str]:
    return _Joined(toks, sep).ngrams(n)


def _top_ngram_chars(toks: list[str] | _Joined, n: int, sep: str = " ") -> int:
    """len(most frequent n-gram joined with `sep`) x its count; ties go to the first seen.

    With sep " " the join is injective (tokens never contain a space), so counting token tuples
    (built by zip, in C) finds the same n-gram as counting joined strings; CJK joins with "" and
    is not injective ("ab"+"c" = "a"+"bc"), so it counts the joined strings themselves.
    """
    if isinstance(toks, _Joined):
        grams: list = toks.ngrams(n)
        sep_len = None
    elif sep == " ":
        grams = list(zip(*(toks[i:] for i in range(n))))
        sep_len = 1
    else:
        grams = _ngrams(toks, n, sep)
        sep_len = None
    if not grams:
        return 0
    # Counter keeps first-seen order and max() returns the first maximum: the same n-gram as
    # datatrove's Counter.most_common(1), which matters when tied n-grams differ in length.
    gram, count = max(Counter(grams).items(), key=itemgetter(1))
    length = len(gram) if sep_len is None else sum(map(len, gram)) + sep_len * (n - 1)
    return length * count


def _dup_ngram_chars(toks: list[str] | _Joined, n: int) -> int:
    """Characters in repeated n-grams, walking like datatrove: a repeat adds its length and jumps n.

    Exactly datatrove's walk, done over the few positions that can matter: a gram that occurs once
    in the whole document can never be a repeat, and whether it was "seen" never matters for
    another gram, so only positions of grams occurring twice or more are visited. A position is
    skipped when it falls inside the jump after a repeat, as in the full walk.
    """
    grams = toks.ngrams(n) if isinstance(toks, _Joined) else _ngrams(toks, n, "")
    counts = Counter(grams)
    if len(counts) == len(grams):  # the common case for n >= 5: no repeat at all
        return 0
    multi = {g for g, c in counts.items() if c > 1}
    seen: set[str] = set()
    repeated = 0
    next_free = 0  # first position not covered by the last jump
    for idx in [i for i, g in enumerate(grams) if g in multi]:
        if idx < next_free:
            continue
        gram = grams[idx]
        if gram in seen:
            repeated += len(gram)
            next_free = idx + n  # jump past the repeat so overlapping repeats are not counted twice
        else:
            seen.add(gram)
    return repeated


def reference_compute_signals(
    text: str, lang: str | None, line_cfg: C4LineConfig = _DEFAULT_LINE_CFG
) -> dict[str, float | int | None]:
    """All signals of one document (the keys of `SIGNAL_COLUMNS`): a pure function of (text, lang).

    The text statistics twice: over the whole text (datatrove's definitions) and over its prose lines
    (`prose_*`, code lines left out); the second pass only runs when the page has code lines.
    Raises TypeError when `text` is not a string (the batch function turns that into an error row).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    out = _text_signals(text, lang, line_cfg)
    prose, n_code, code_chars = split_prose(text)
    out["code_lines"] = n_code
    out["code_char_frac"] = code_chars / len(text) if text else 0.0
    prose_sig = out if n_code == 0 else _text_signals(prose, lang, line_cfg)
    out.update({PROSE_PREFIX + name: prose_sig[name] for name in VIEW_SIGNALS})
    out.update({f"pii_{kind}": n for kind, n in count_pii(text).items()})
    return out


def _text_signals(
    text: str, lang: str | None, line_cfg: C4LineConfig = _DEFAULT_LINE_CFG
) -> dict[str, float | int | None]:
    """The text statistics (`VIEW_SIGNALS`) of one text.

    One tokenisation (line by line: the C4 line rules need each line's tokens, and the document's
    tokens are their concatenation), one line split per definition; everything else is derived
    from those lists.
    """
    cjk = uses_char_tokens(text, lang)
    tokenize = tokenizer_for(text, lang)
    q_lines = text.splitlines()
    line_toks = [tokenize(line) for line in q_lines]
    toks = [t for lt in line_toks for t in lt]
    n_chars = len(text)
    n_tokens = len(toks)

    n_words = word_chars = n_alpha = n_letter_words = 0
    for tok in toks:
        is_word, is_alpha = _token_class(tok, cjk)
        if is_word:
            n_words += 1
            word_chars += len(tok)
            if is_alpha:
                n_letter_words += 1
        if is_alpha:
            n_alpha += 1

    stops = count_stop_words(toks, lang)

    n_qlines = len(q_lines)
    bullet_lines = sum(1 for s in q_lines if s.lstrip().startswith(_BULLETS))
    ellipsis_lines = sum(1 for s in q_lines if s.rstrip().endswith(_ELLIPSES))

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
    glued = _Joined(toks, "")
    for n in TOP_NGRAM_SIZES:
        out[f"top_{n}gram_char_frac"] = frac(_top_ngram_chars(glued if cjk else toks, n, " "), n_chars)
    for n in DUP_NGRAM_SIZES:
        out[f"dup_{n}gram_char_frac"] = frac(_dup_ngram_chars(glued, n), n_chars)
    out.update(line_stats(q_lines, line_toks, tokenize, cjk, line_cfg))
    word_list = [t for t in toks if _token_class(t, cjk)[0]]
    out["distinct_word_ratio"] = distinct_word_ratio(word_list)
    out["lorem_word_ratio"] = lorem_word_ratio(word_list)
    out["url_lines_ratio"] = url_lines_ratio(q_lines)
    out["long_line_char_frac"] = long_line_char_frac(
        q_lines, [sum(len(t) if cjk else 1 for t in lt if _token_class(t, cjk)[0]) for lt in line_toks], cjk)
    # Japanese tokens are Sudachi words, so its keyphrases are word bigrams as in spaced languages.
    out["keyword_dominance"] = keyword_dominance(
        word_list, stop_words_for(lang) or frozenset(), cjk and lang_base(lang) != "ja")
    out["unbalanced_bracket_ratio"] = unbalanced_bracket_ratio(q_lines)
    out["recurring_bigram_share"] = recurring_bigram_share(word_list)
    return out
