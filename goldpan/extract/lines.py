"""Per-line features of a first-pass main text, for the learned boilerplate line classifier.

Why lines of resiliparse's output, not DOM blocks: resiliparse's main-content pass runs in C++ at
hundreds of pages per second and already drops most navigation; what it keeps wrongly (bylines,
"Advertisement", captions, share bars, newsletter promos, related-article headlines, copyright
footers) sits on lines of their own. Judging each line with a few cheap features keeps the whole
extractor within a fraction of a millisecond of resiliparse alone, where a Python walk over the DOM
would cost more than resiliparse itself (measured: bench/extract_quality.py).

Features are language-neutral where possible (lengths, punctuation, link coverage, position,
context) plus small multilingual keyword lists for the usual boilerplate words. Link coverage comes
from the page's anchor texts (a linear regex over the HTML, no DOM walk). The markup around each line
(its container tag, class words, the bytes of markup before it) comes from a forward search of the
line in the HTML source (goldpan.extract.source_context); long markup gaps split the page into
blocks, placed against the block with the most prose (teaser boxes after the article).
"""

from __future__ import annotations

import html as _html
import itertools
import re
from collections import Counter

import numpy as np

from goldpan.extract.source_context import SOURCE_FEATURES, source_features_into

# Anchors whose text is plain (optionally inside one inline wrapper): enough to recognise link
# lines, at a tenth of the cost of a full anchor parse.
_ANCHOR = re.compile(r"<[aA]\s[^>]*>\s*(?:<(?:span|strong|b|em|i|h[1-6]|div)\b[^>]*>\s*)?([^<]{1,300})<")
_BULLET = re.compile(r"^\s*(?:[•·▪◦\-*–]|\d+[.)])\s+")
_BULLET_FIRST = frozenset("•·▪◦-*–0123456789")
# The same set as a lookup table over the BMP (np.isin costs ~0.1 ms a call).
_BULLET_FIRST_TABLE = np.zeros(0x10000, dtype=bool)
_BULLET_FIRST_TABLE[[ord(c) for c in _BULLET_FIRST]] = True
_SEPARATORS = re.compile(r"\s+[|·•/»›]\s+")
_WORDS = re.compile(r"\w+")
# Dates: numeric forms, then month names. Two patterns with a word boundary before the month, since
# one alternation without an anchor tried every month at every position (~70 us on a short line).
_DATE_NUMERIC = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}:\d{2}|\d{4}年\d{1,2}月")
_MONTHS = "jan|feb|mar|mär|apr|may|mai|jun|jul|aug|sep|oct|okt|nov|dec|dez"
_DATE_MONTH = re.compile(
    rf"\b(?:{_MONTHS})[a-zä]*\.? \d{{1,2}}(?:,? \d{{4}})?|\b\d{{1,2}}\.? (?:{_MONTHS})[a-zä]*\.? \d{{4}}"
)
# Words that mark boilerplate in short lines (English, German, French, Spanish, Italian,
# Portuguese, Russian, Polish): sharing, accounts, promos, navigation, comments. Looked up as a set
# of words and word pairs (a regex alternation of a hundred words costs ~50 us a line).
_BOILER_WORDS = frozenset([
    "share", "shares", "shared", "sharing", "tweet", "facebook", "twitter", "pinterest", "whatsapp",
    "linkedin", "reddit", "instagram", "telegram", "email", "e-mail", "print", "cookie", "cookies",
    "subscribe", "subscribed", "subscriber", "subscribers", "subscription", "newsletter", "signup", "login",
    "register", "follow", "comment", "comments", "reply", "replies", "related", "recommended", "trending",
    "popular", "advertisement", "advertise", "advertising", "sponsored", "promoted", "menu", "search", "home",
    "previous", "next", "tag", "tags", "category", "categories", "photo", "photos", "image", "credit",
    "getty", "reuters", "contact", "about", "teilen", "kommentar", "kommentare", "impressum", "datenschutz",
    "anzeige", "weiterlesen", "abonnieren", "anmelden", "kontakt", "leistungen", "startseite", "suche",
    "kategorie", "kategorien", "schlagwörter", "verschlagwortet", "vorheriger", "nächster", "zurück",
    "drucken", "merken", "foto", "fotos", "bild", "quelle", "abbildung", "partager", "commentaire",
    "commentaires", "publicité", "connexion", "abonnez", "inscrivez", "aimerez", "compartir", "comentario",
    "comentarios", "suscríbete", "suscribirse", "etiquetas", "relacionados", "relacionadas", "mira",
    "condividi", "commenti", "iscriviti", "compartilhar", "поделиться", "комментарии", "комментарий",
    "подписаться", "udostępnij", "komentarze", "komentarz", "zobacz", "również", "czytaj", "więcej",
])
_BOILER_PAIRS = frozenset({
    ("sign", "up"), ("sign", "in"), ("log", "in"), ("read", "more"), ("more", "from"), ("see", "also"),
    ("ad", "choices"), ("skip", "to"), ("back", "to"), ("posted", "in"), ("filed", "under"),
    ("mehr", "zum"), ("lire", "aussi"), ("leer", "más"), ("leggi", "anche"), ("min", "read"),
    ("all", "rights"), ("weitere", "artikel"), ("das", "könnte"), ("lesen", "sie"), ("auch", "interessant"),
})
_BOILER_CJK = ("分享", "评论", "相关", "登录", "注册", "广告", "上一篇", "下一篇", "返回", "首页")
_LEGAL_MARKS = ("©", "(c)", "版权", "版權")
_LEGAL_WORDS = frozenset(["copyright", "rights", "reserved", "privacy", "impressum", "datenschutz", "cookies", "terms"])

LINE_FEATURES: tuple[str, ...] = (
    "log_chars", "log_words", "cjk_share", "link_cov", "end_punct", "ends_colon", "punct_per_word",
    "digit_share", "upper_share", "title_words", "bullet", "rel_pos", "chars_before", "log_from_start",
    "log_to_end", "boiler_words", "legal", "date_like", "code_share", "indented", "tabs", "separators",
    "repeated", "in_title", "blank_before", "blank_after",
    "doc_log_chars", "doc_link_share", "doc_log_lines",
    "prev_log_chars", "prev_link_cov", "prev_end_punct", "next_log_chars", "next_link_cov", "next_end_punct",
    "win_log_chars", "win_link_cov", "win_end_punct", "win_code_share",
    "prose_before", "prose_after", "wide_prose", "wide_link_cov", "rel_log_chars",
    *SOURCE_FEATURES, "win_src_gap", "win_src_tag_a", "win_src_inline", "wide_src_boiler_class",
    "block_prose_share", "block_is_main", "block_dist", "block_after_main", "block_boiler_class",
)
N_FEATURES = len(LINE_FEATURES)
_WINDOW = 3
# A wider window (+-10 lines) for "inside the article body or in a run of teasers/links".
_WIDE = 10
# A "prose" line: at least this many words and sentence-final punctuation, not a link.
_PROSE_MIN_WORDS = 8


def anchor_texts(html: str) -> frozenset[str]:
    """Whitespace-normalised texts of the page's links (plain-text anchors), by a linear scan.

    Distinct texts only: navigation repeats the same links (menus at the top and the bottom). The
    compiled scan gives the same set as `anchor_texts_py`, the regex reference
    (tests/unit/test_extract_fastlines.py)."""
    if _FAST is not None:
        return _FAST.anchor_texts(html, _html.unescape)
    return anchor_texts_py(html)


def anchor_texts_py(html: str) -> frozenset[str]:
    """`anchor_texts` by `_ANCHOR.findall`: the reference, and the path without the compiled module."""
    out = set()
    for m in set(_ANCHOR.findall(html)):
        # html.unescape is a Python-level call; most anchor texts hold no entity at all
        t = " ".join((_html.unescape(m) if "&" in m else m).split())
        if t:
            out.add(t)
    return frozenset(out)


def split_lines(text: str) -> tuple[list[str], list[bool], list[bool]]:
    """Non-blank lines of `text`, and whether each had a blank line before / after it (compiled when
    built; `split_lines_py` is the reference)."""
    if _FAST is not None:
        return _FAST.split_lines(text)
    return split_lines_py(text)


def split_lines_py(text: str) -> tuple[list[str], list[bool], list[bool]]:
    """`split_lines` in Python."""
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


# Character classes as bits of a lookup table over the Basic Multilingual Plane: one gather per
# page gives every character's classes (np.isin per class costs milliseconds on long pages).
_DIGIT, _UPPER, _LETTER, _CJK, _PUNCT, _CODE, _SEP, _END = 1, 2, 4, 8, 16, 32, 64, 128


def _class_table() -> np.ndarray:
    t = np.zeros(0x10000, dtype=np.uint8)
    t[0x100:] |= _LETTER  # most of the BMP beyond Latin-1 is letters of some script ...
    for lo, hi in ((0x2000, 0x2C00), (0x3000, 0x3040), (0xD800, 0xE000), (0xFF00, 0xFF10)):
        t[lo:hi] &= ~np.uint8(_LETTER)  # ... except punctuation, symbols, arrows, surrogates
    for lo, hi in ((0x3040, 0x3100), (0x3400, 0xA000), (0xAC00, 0xD7B0), (0xF900, 0xFB00)):
        t[lo:hi] |= _CJK
    t[ord("0"): ord("9") + 1] |= _DIGIT
    for lo, hi in ((65, 91), (192, 223), (0x410, 0x430)):
        t[lo:hi] |= _UPPER | _LETTER
    for lo, hi in ((97, 123), (223, 256), (0x430, 0x450)):
        t[lo:hi] |= _LETTER
    for c in (215, 247):
        t[c] &= ~np.uint8(_UPPER | _LETTER)
    for chars, bit in ((",.;:!?，。；：！？、", _PUNCT), ("{}()[];=<>_/\\$#@*|~^`", _CODE), ("|·•/»›", _SEP),
                       ('.!?。！？"”’»)…', _END)):
        for c in chars:
            t[ord(c)] |= bit
    return t


_CLASS_TABLE = _class_table()


_PAIR_FIRSTS = frozenset(a for a, _ in _BOILER_PAIRS)


def _keywords(low: str, has_cjk: bool, has_digit: bool) -> tuple[float, float, float]:
    """(boilerplate words, legal mark, date) of one short line, given lower-cased."""
    words = _WORDS.findall(low)
    hits = 0 if _BOILER_WORDS.isdisjoint(words) else sum(map(_BOILER_WORDS.__contains__, words))
    if not _PAIR_FIRSTS.isdisjoint(words):
        hits += sum(map(_BOILER_PAIRS.__contains__, itertools.pairwise(words)))
    if has_cjk:
        hits += sum(1 for k in _BOILER_CJK if k in low)
    # legal marks (_LEGAL_MARKS), tested one by one: any() over a tuple costs a generator a line
    legal = (not _LEGAL_WORDS.isdisjoint(words) or "©" in low or "(c)" in low or "版权" in low
             or "版權" in low)
    date = has_digit and (_DATE_NUMERIC.search(low) is not None or _DATE_MONTH.search(low) is not None)
    return float(hits), float(legal), float(date)


_COL = {name: i for i, name in enumerate(LINE_FEATURES)}
_SRC_FIRST = _COL[SOURCE_FEATURES[0]]
# Columns filled by the +-3 and +-10 line window means, with the columns they average.
_WIN_SERIES = ("log_chars", "link_cov", "end_punct", "code_share")
_WIN_SRC_SERIES = ("src_gap", "src_tag_a", "src_inline")
_WIN_OUT = [_COL["win_" + s] for s in _WIN_SERIES]
_WIN_SRC_OUT = [_COL["win_" + s] for s in _WIN_SRC_SERIES]
_WIN_SRC_IN = [_COL[s] for s in _WIN_SRC_SERIES]
_WIN_IN = [_COL[s] for s in _WIN_SERIES]
_KEYWORD_COLS = [_COL["boiler_words"], _COL["legal"], _COL["date_like"]]
_PREV_NEXT = [(_COL[s], _COL["prev_" + s], _COL["next_" + s]) for s in ("log_chars", "link_cov", "end_punct")]
# Class-bit columns of the per-line sums (np.unpackbits puts bit 128 first).
_BIT_COL = {bit: 7 - bit.bit_length() + 1 for bit in (_DIGIT, _UPPER, _LETTER, _CJK, _PUNCT, _CODE, _SEP, _END)}


def _bullet_core(line: str) -> tuple[str, bool]:
    """(core without its bullet prefix, whether the line starts with a bullet) of a line whose first
    character is bullet-like: the one rule of the C features kept as a regex here."""
    return " ".join(_BULLET.sub("", line).split()), _BULLET.match(line) is not None


def _separator_cov(core: str, anchors: frozenset[str]) -> float | None:
    """Share of a separator-split line ("Home | News | Sport") whose pieces are link texts; None for a
    line that does not split into pieces."""
    pieces = [p for p in _SEPARATORS.split(core) if p]
    if len(pieces) < 2:
        return None
    covered = sum(len(p) for p in pieces if p.strip(" ,;") in anchors)
    return covered / max(1, sum(len(p) for p in pieces))


def _load_fast():
    """The compiled features (goldpan/extract/_fastlines.c), configured with this module's tables and
    rules; None where the extension was not built (the Python reference below then runs)."""
    try:
        from goldpan.extract import _fastlines
    except ImportError:
        return None
    from goldpan.extract import source_context

    _fastlines.configure(
        columns=_COL, n_features=N_FEATURES, class_table=_CLASS_TABLE.tobytes(),
        bullet_first=_BULLET_FIRST_TABLE.astype(np.uint8).tobytes(), bullet_core=_bullet_core,
        keywords=(_BOILER_WORDS, _PAIR_FIRSTS, _BOILER_PAIRS, _BOILER_CJK, _LEGAL_WORDS, _LEGAL_MARKS,
                  _DATE_NUMERIC.search, _DATE_MONTH.search),
        separator_cov=_separator_cov, value_words=source_context._value_words,
        window=_WINDOW, wide=_WIDE, prose_min_words=_PROSE_MIN_WORDS, block_gap=_BLOCK_GAP,
        probe_span=source_context._PROBE_SPAN, near=source_context._NEAR, tail=source_context._TAIL,
    )
    return _fastlines


def line_features(
    lines: list[str],
    blank_before: list[bool],
    blank_after: list[bool],
    anchors: frozenset[str],
    title: str | None,
    html: str | None = None,
) -> np.ndarray:
    """(n_lines, N_FEATURES) float32 matrix, one row per non-blank line, columns as LINE_FEATURES.

    Computed by the compiled module when it is built (one C loop over the lines, ~10x faster on a news
    page, where numpy's per-call overhead dominated), else by `line_features_py`, the reference: both
    give the same matrix to float32 rounding (tests/unit/test_extract_fastlines.py).
    """
    if _FAST is None:
        return line_features_py(lines, blank_before, blank_after, anchors, title, html)
    out = np.zeros((len(lines), N_FEATURES), dtype=np.float32)
    title_norm = " ".join((title or "").split()).lower()
    _FAST.line_features(*(a if type(a) is list else list(a) for a in (lines, blank_before, blank_after)),
                        anchors, title_norm, html, out)
    return out


def line_features_py(
    lines: list[str],
    blank_before: list[bool],
    blank_after: list[bool],
    anchors: frozenset[str],
    title: str | None,
    html: str | None = None,
) -> np.ndarray:
    """(n_lines, N_FEATURES) float32 matrix, one row per non-blank line, columns as LINE_FEATURES.

    Character classes are counted with numpy over the code points of the whole page and summed per
    line; Python works per line only where a cheap numpy test says it can matter (short lines for
    keywords, lines with separators or equal to a link text for link coverage). With the page's
    `html`, the markup around each line is described too (goldpan.extract.source_context).
    Window means and neighbours are computed for all their columns at once: a news page has ~30
    lines, where numpy's per-call overhead, not the arithmetic, is the cost.
    """
    n = len(lines)
    out = np.zeros((n, N_FEATURES), dtype=np.float32)
    if n == 0:
        return out
    col = _COL
    # Cores: whitespace normalised, bullet prefixes dropped. A line's first non-blank character is
    # its core's first; only the lines that start with a bullet-like character are looked at again.
    cores = [" ".join(line.split()) for line in lines]
    first_cp = np.frombuffer("".join([c[:1] for c in cores]).encode("utf-32-le"), dtype=np.uint32)
    bullet_first = _BULLET_FIRST_TABLE[np.minimum(first_cp, 0xFFFF)]
    if bullet_first.any():
        bullet_rows = []
        for i in np.flatnonzero(bullet_first).tolist():
            line = lines[i]
            cores[i] = " ".join(_BULLET.sub("", line).split())
            if _BULLET.match(line):
                bullet_rows.append(i)
        out[bullet_rows, col["bullet"]] = 1.0
    # Indented: a space or tab first (lines starting with a bullet-like character excepted).
    line_cp = np.frombuffer("".join([line[:1] for line in lines]).encode("utf-32-le"), dtype=np.uint32)
    out[:, col["indented"]] = ~bullet_first & ((line_cp == 32) | (line_cp == 9))
    if any("\t" in line for line in lines):
        tabs_col = col["tabs"]
        for i, line in enumerate(lines):
            if "\t" in line:
                out[i, tabs_col] = min(line.count("\t"), 10) / 10.0
    lens = np.fromiter(map(len, cores), dtype=np.int64, count=n)
    ends = np.cumsum(lens + 1) - 1
    starts = ends - lens
    # One trailing newline so every line, even an empty last one, starts inside the array.
    cp = np.frombuffer(("\n".join(cores) + "\n").encode("utf-32-le"), dtype=np.uint32)
    bits = _CLASS_TABLE[np.minimum(cp, 0xFFFF)]
    space = (cp == 32) | (cp == 10)
    word_start = ~space
    word_start[1:] &= space[:-1]
    sums = _class_sums(bits, word_start, starts, int(lens.max()))
    counts = {bit: sums[:, c] for bit, c in _BIT_COL.items()}
    n_words = sums[:, 8]
    lensf = lens.astype(np.float32)
    safe_len = np.maximum(lensf, 1.0)
    safe_words = np.maximum(n_words, 1.0)
    cjk = counts[_CJK]
    seps = counts[_SEP]
    digits = counts[_DIGIT]
    out[:, col["log_chars"]] = np.log1p(lensf)
    out[:, col["log_words"]] = np.log1p(n_words)
    out[:, col["cjk_share"]] = cjk / safe_len
    out[:, col["punct_per_word"]] = counts[_PUNCT] / safe_words
    out[:, col["digit_share"]] = digits / safe_len
    out[:, col["upper_share"]] = counts[_UPPER] / np.maximum(counts[_LETTER], 1.0)
    out[:, col["title_words"]] = sums[:, 9] / safe_words
    out[:, col["code_share"]] = counts[_CODE] / safe_len
    nonempty = lens > 0
    last_at = np.maximum(ends - 1, 0)
    out[:, col["end_punct"]] = nonempty & ((bits[last_at] & _END) != 0)
    out[:, col["ends_colon"]] = nonempty & (cp[last_at] == 58)
    total = float(ends[-1] - n + 1) or 1.0
    idx = np.arange(n, dtype=np.float32)
    out[:, col["rel_pos"]] = idx / (n - 1) if n > 1 else 0.0
    out[:, col["chars_before"]] = (np.cumsum(lensf) - lensf) / total
    out[:, col["log_from_start"]] = np.log1p(idx)
    out[:, col["log_to_end"]] = np.log1p(n - 1 - idx)
    out[:, col["separators"]] = np.minimum(seps, 10.0) / 10.0
    seen = Counter(cores)
    if len(seen) < n:
        repeated_col = col["repeated"]
        for i, c in enumerate(cores):
            if seen[c] > 1:
                out[i, repeated_col] = 1.0
    title_norm = " ".join((title or "").split()).lower()
    if title_norm:
        tl = len(title_norm)
        in_title_col = col["in_title"]
        for i in np.flatnonzero((lens >= 8) & (lens <= 3 * tl + 20)).tolist():
            low = cores[i].lower()
            if low in title_norm or title_norm in low:
                out[i, in_title_col] = 1.0
    short = np.flatnonzero(n_words <= 15)
    if short.size:
        has_cjk = (cjk > 0).tolist()
        has_digit = (digits > 0).tolist()
        keywords = [_keywords(cores[i].lower(), has_cjk[i], has_digit[i]) for i in short.tolist()]
        out[short[:, None], _KEYWORD_COLS] = keywords
    link_cov = out[:, col["link_cov"]]
    if anchors:
        linked = np.fromiter(map(anchors.__contains__, cores), dtype=bool, count=n)
        link_cov[linked] = 1.0
        for i in np.flatnonzero((seps > 0) & (n_words <= 40) & ~linked).tolist():
            cov = _separator_cov(cores[i], anchors)
            if cov is not None:
                link_cov[i] = cov
    out[:, col["blank_before"]] = blank_before
    out[:, col["blank_after"]] = blank_after
    out[:, col["doc_log_chars"]] = np.log1p(total)
    out[:, col["doc_link_share"]] = float((link_cov * lensf).sum() / total)
    out[:, col["doc_log_lines"]] = np.log1p(n)
    # Neighbours (zeros past the edges) and a +-3 line window mean: boilerplate comes in runs.
    for c, prev_c, next_c in _PREV_NEXT:
        out[1:, prev_c] = out[:-1, c]
        out[:-1, next_c] = out[1:, c]
    # Where the article body is: prose characters before / after each line (the tail after the
    # last prose paragraph holds bios, promos and teasers), and a wide window of prose and links.
    log_chars, end_punct = out[:, col["log_chars"]], out[:, col["end_punct"]]
    prose = ((n_words >= _PROSE_MIN_WORDS) & (end_punct > 0) & (link_cov < 0.5)).astype(np.float32)
    prose_chars = prose * lensf
    cum = np.cumsum(prose_chars, dtype=np.float64)
    out[:, col["prose_before"]] = np.log1p(cum - prose_chars)
    out[:, col["prose_after"]] = np.log1p(cum[-1] - cum)
    out[:, col["rel_log_chars"]] = log_chars - log_chars.mean()
    if html:
        source_features_into(out[:, _SRC_FIRST: _SRC_FIRST + len(SOURCE_FEATURES)], cores, html)
        win_in, win_out = _WIN_IN + _WIN_SRC_IN, _WIN_OUT + _WIN_SRC_OUT
        wide_in = [col["link_cov"], col["src_boiler_class"]]
        wide_out = [col["wide_prose"], col["wide_link_cov"], col["wide_src_boiler_class"]]
    else:
        win_in, win_out = _WIN_IN, _WIN_OUT
        wide_in = [col["link_cov"]]
        wide_out = [col["wide_prose"], col["wide_link_cov"]]
    # Both windows from one cumulative sum: the +-3 line columns, then prose and the +-10 line ones.
    k = len(win_in)
    series = np.empty((n, k + len(wide_out)), dtype=np.float32)
    series[:, :k] = out[:, win_in]
    series[:, k] = prose
    series[:, k + 1:] = out[:, wide_in]
    csum = np.zeros((n + 1, series.shape[1]), dtype=np.float64)
    np.cumsum(series, axis=0, dtype=np.float64, out=csum[1:])
    out[:, win_out] = _window_means(csum[:, :k], _WINDOW)
    out[:, wide_out] = _window_means(csum[:, k:], _WIDE)
    if html:
        _block_features(out, col, out[:, col["src_gap"]], prose_chars, out[:, col["src_boiler_class"]])
    return out


# Markup gaps longer than this (bytes between one line's text and the next) start a new block.
_BLOCK_GAP = 600


def _block_features(out: np.ndarray, col: dict[str, int], log_gap: np.ndarray, prose_chars: np.ndarray,
                    boiler_class: np.ndarray) -> None:
    """Blocks of lines separated by long markup gaps, placed against the block with the most prose.

    Why: a news page's article body is one run of paragraphs with little markup between them; the
    teaser lists, author boxes and promos that resiliparse keeps after (or before) it are other
    runs, separated by hundreds of bytes of markup, whose lines alone look like article text. A
    box's class names ("most-read-widget") sit before its first line only, so they are spread over
    the block (`block_boiler_class`: the most boilerplate class words of any line in the block).
    """
    new_block = np.expm1(log_gap) > _BLOCK_GAP
    new_block[0] = False
    block = np.cumsum(new_block)
    prose_by_block = np.bincount(block, weights=prose_chars)
    main = int(np.argmax(prose_by_block))
    out[:, col["block_prose_share"]] = prose_by_block[block] / max(1.0, float(prose_by_block.sum()))
    out[:, col["block_is_main"]] = block == main
    out[:, col["block_dist"]] = np.log1p(np.abs(block - main))
    out[:, col["block_after_main"]] = block > main
    most = np.zeros(int(block[-1]) + 1, dtype=np.float32)
    np.maximum.at(most, block, boiler_class)
    out[:, col["block_boiler_class"]] = most[block]


# Class bits packed as 16-bit counters, four to a uint64 (little-endian, so a uint16 view reads
# them in column order): columns 0-3 (bits 128, 64, 32, 16) in one word, 4-7 (bits 8 ... 1) in the next.
_PACK_HIGH = np.array([sum(((b >> (7 - c)) & 1) << (16 * c) for c in range(4)) for b in range(256)], dtype="<u8")
_PACK_LOW = np.array([sum(((b >> (3 - c)) & 1) << (16 * c) for c in range(4)) for b in range(256)], dtype="<u8")


def _class_sums(bits: np.ndarray, word_start: np.ndarray, starts: np.ndarray, longest: int) -> np.ndarray:
    """(n_lines, 10) float32: per-line sums of every class bit (columns: bit 128 ... bit 1), word
    starts and capitalised word starts; each line's segment of `bits` starts at `starts` and runs
    to the next (its newline included).

    Why packed: one reduceat over three uint64 counters per character costs a third of one over
    ten uint8 columns. A 16-bit counter holds a line of up to 65,534 characters (plus newline);
    pages with a longer line take the unpacked path.
    """
    if longest >= 0xFFFF:
        mat = np.empty((len(bits), 10), dtype=np.uint8)
        mat[:, :8] = np.unpackbits(bits[:, None], axis=1)
        mat[:, 8] = word_start
        mat[:, 9] = word_start & (mat[:, _BIT_COL[_UPPER]] != 0)
        return np.add.reduceat(mat, starts, axis=0, dtype=np.int32).astype(np.float32)
    packed = np.empty((len(bits), 3), dtype="<u8")
    packed[:, 0] = _PACK_HIGH[bits]
    packed[:, 1] = _PACK_LOW[bits]
    words = word_start.astype("<u8")
    packed[:, 2] = words + ((words & ((bits & _UPPER) != 0)) << 16)
    sums = np.add.reduceat(packed, starts, axis=0)
    return sums.view("<u2")[:, :10].astype(np.float32)


def _window_means(csum: np.ndarray, radius: int) -> np.ndarray:
    """Mean of each column over the rows within +-radius (clipped at the edges), from `csum`, the
    (n + 1, k) float64 cumulative sums of the columns with a zero first row (float64, row by row,
    as one column at a time would)."""
    n = csum.shape[0] - 1
    at = np.arange(n)
    lo = np.maximum(at - radius, 0)
    hi = np.minimum(at + radius + 1, n)
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]


_FAST = _load_fast()

__all__ = ["LINE_FEATURES", "N_FEATURES", "anchor_texts", "anchor_texts_py", "line_features", "line_features_py", "split_lines", "split_lines_py"]
