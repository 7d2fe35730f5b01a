"""Turn page bytes into text, trusting declarations only when the bytes agree with them.

Why: Chinese sites often send GBK or Big5 bytes with a UTF-8 header (or the other way round), and
decoding with the wrong codec silently produces mojibake that then passes every later filter. The
rule here:

1. a BOM wins;
2. the HTTP header charset, then the HTML meta charset, are tried with a *strict* decode. A valid
   UTF-8 decode is accepted as is (non-ASCII bytes that happen to form valid UTF-8 by chance are
   vanishingly rare). A legacy multi-byte decode is only accepted if its text is *plausible*: GBK
   bytes very often decode without error as Big5 (and Big5 bytes as GBK), producing rare or private
   use characters; `plausibility` measures that, and a clearly more plausible alternative wins;
3. otherwise detection: uchardet's guess plus the CJK legacy codecs and UTF-8 are tried strictly and
   the most plausible text wins (ties go to uchardet's guess). For text with Han/kana/Hangul the
   score also asks fastText lid.176 whether the characters read as a CJK language at all.

What was declared, what detection found and whether they disagreed are returned, so every document
row records how its text was decoded.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)

# WHATWG maps these labels to supersets; decoding with the superset never fails where the label
# would have succeeded, and it handles the characters real pages actually contain.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "euc-kr": "cp949",
}
_SINGLE_BYTE = {"cp1252", "iso8859-15", "cp1251", "koi8-r", "iso8859-2", "cp1250"}
# Legacy multi-byte codecs that can decode each other's bytes without error.
_CJK_CODECS = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")
# A declared legacy decode below this plausibility is checked against the alternatives, and an
# alternative must beat it by this margin to replace it (declarations win close calls).
_PLAUSIBLE_OK = 0.9
_SWITCH_MARGIN = 0.15
_SCORE_SAMPLE = 20_000  # non-ASCII characters scored at most (bounds cost on huge pages)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    source: str  # bom | http-header | html-meta | detected | fallback-utf8 | detected-lossy
    declared_mismatch: bool  # a declared charset existed and the bytes disagreed with it
    declared: str | None = None  # first declared charset (codec name), header before meta
    declared_source: str | None = None  # http-header | html-meta
    detected: str | None = None  # codec chosen by detection, when detection ran


def canonical_codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def meta_charset(content: bytes, window: int = 4096) -> str | None:
    m = _META_CHARSET.search(content[:window])
    return m.group(1).decode("ascii", "ignore") if m else None


def _strict(content: bytes, codec: str) -> str | None:
    try:
        return content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_range(codec: str, leads: range, trails: range) -> set[str]:
    out: set[str] = set()
    for a in leads:
        for b in trails:
            try:
                out.add(bytes((a, b)).decode(codec))
            except UnicodeDecodeError:
                pass
    return out


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """Characters real text is made of, derived from the legacy standards' own frequency tiers.

    GB2312 level 1 (3,755 most frequent simplified hanzi), Big5 level 1 (5,401 frequent traditional
    hanzi), JIS X 0208 level 1 kanji (2,965) and KS X 1001 Hangul (2,350) are each a frequency tier
    defined by the standard itself, so no frequency table has to be shipped. A wrong legacy decode
    maps byte pairs onto the whole code table (rare characters, private use, half-width katakana),
    and lands in these tiers far less often than real text does.
    """
    chars: set[str] = set()
    chars |= _decode_range("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))  # GB2312 level 1
    chars |= _decode_range("big5", range(0xA4, 0xC7), range(0x40, 0xFF))  # Big5 level 1 (A440-C67E)
    chars |= _decode_range("shift_jis", range(0x88, 0x99), range(0x40, 0xFD))  # JIS level 1 kanji
    chars |= _decode_range("euc_kr", range(0xB0, 0xC9), range(0xA1, 0xFF))  # KS X 1001 Hangul
    chars |= {chr(c) for c in range(0x3000, 0x3100)}  # CJK punctuation, hiragana, katakana
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}  # full-width ASCII forms
    chars |= {chr(c) for c in range(0x00A0, 0x0250)}  # Latin-1 supplement and extended Latin
    chars |= {chr(c) for c in range(0x0370, 0x0530)}  # Greek and Cyrillic
    chars |= {chr(c) for c in range(0x2000, 0x2070)}  # general punctuation (quotes, dashes)
    chars |= set("€™•·…←→↑↓©®°±×÷")
    return frozenset(chars)


_LATIN_RUN = re.compile("[\u00a0-\u024f]{3,}")


def plausibility(text: str) -> float:
    """Share of non-ASCII characters that are common characters of some script (1.0 if none).

    Accented Latin letters count only outside runs of three or more: European words rarely put
    three accented letters in a row, while CJK bytes decoded as Latin-1/cp1252 always do.
    """
    common = _common_chars()
    n = hit = 0
    end = len(text)
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        n += 1
        hit += ch in common
        if n >= _SCORE_SAMPLE:
            end = i + 1
            break
    if n == 0:
        return 1.0
    hit -= sum(m.end() - m.start() for m in _LATIN_RUN.finditer(text, 0, end))
    return max(0, hit) / n


_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")
_HAN_KANA_HANGUL = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CJK_LABELS = ("__label__zh", "__label__ja", "__label__ko", "__label__wuu", "__label__yue", "__label__lzh")


def _cjk_lid_confidence(text: str) -> float | None:
    """fastText lid.176's probability that the non-ASCII runs of `text` are Chinese/Japanese/Korean.

    None when there is too little Han/kana/Hangul to judge. Why: a wrong legacy decode (GBK read as
    Big5) yields valid, even common-looking characters in an order no language has; lid.176 then
    answers some unrelated language with low confidence, while the right decode scores ~0.9+.
    """
    sample = " ".join(_NON_ASCII_RUN.findall(text[:50_000]))[:1500]
    if len(_HAN_KANA_HANGUL.findall(sample)) < 4:
        return None
    from goldpan.extract.langid import _load, default_model_path

    labels, probs = _load(default_model_path()).predict(sample, k=5)
    return float(sum(p for lab, p in zip(labels, probs) if lab in _CJK_LABELS))


def decode_score(text: str) -> float:
    """Plausibility, scaled down when lid.176 does not recognise CJK text as any CJK language."""
    score = plausibility(text)
    conf = _cjk_lid_confidence(text)
    return score if conf is None else score * (0.5 + 0.5 * min(1.0, conf))


def _detect(content: bytes, prefer: str | None = None) -> tuple[str, str] | None:
    """Best strict decode among uchardet's guess, UTF-8 and the CJK codecs, by plausibility."""
    from resiliparse.parse.encoding import detect_encoding

    guess = canonical_codec(detect_encoding(content, from_html_meta=False))
    order: list[str] = []
    # Japanese and Korean codecs only when uchardet or a declaration names them: GBK bytes read as
    # EUC-KR/EUC-JP give common Hangul/kanji that lid.176 even accepts as Korean or Japanese, while
    # uchardet reliably recognises real Japanese and Korean bytes. Chinese ones are always tried,
    # because uchardet confuses GBK and Big5 on short pages.
    for c in (guess, "utf-8", "gb18030", "big5hkscs", prefer):
        if c and c not in order:
            order.append(c)
    best: tuple[float, int, str, str] | None = None
    for rank, codec in enumerate(order):
        text = _strict(content, codec)
        if text is None:
            continue
        score = decode_score(text)
        # Higher plausibility wins; equal scores go to the earlier candidate (uchardet's guess).
        if best is None or score > best[0]:
            best = (score, rank, codec, text)
    if best is None:
        if guess and guess in _SINGLE_BYTE:
            text = _strict(content, guess)
            if text is not None:
                return guess, text
        return None
    return best[2], best[3]


def decode_page(content: bytes, header_charset: str | None = None) -> Decoded:
    """Decode `content`, recording which declaration (if any) was believed and what detection found."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if content.startswith(bom):
            text = _strict(content[len(bom):] if codec == "utf-8" else content, codec)
            if text is not None:
                return Decoded(text, codec, "bom", False)

    declared = [
        (canonical_codec(header_charset), "http-header"),
        (canonical_codec(meta_charset(content)), "html-meta"),
    ]
    first = next(((c, s) for c, s in declared if c is not None), (None, None))
    first_codec, first_source = first
    mismatch = False

    def result(text: str, codec: str, source: str, mism: bool, detected: str | None = None) -> Decoded:
        return Decoded(text, codec, source, mism, first_codec, first_source, detected)

    for codec, source in declared:
        if codec is None:
            continue
        text = _strict(content, codec)
        if text is None:
            mismatch = True
            continue
        if codec in _SINGLE_BYTE and not content.isascii():
            # A single-byte codec decodes any bytes; if the bytes are valid UTF-8 with non-ASCII
            # characters, the declaration is almost certainly stale.
            utf8 = _strict(content, "utf-8")
            if utf8 is not None:
                return result(utf8, "utf-8", "detected", True, "utf-8")
            score = decode_score(text)
            if score < _PLAUSIBLE_OK:  # runs of accented letters: CJK bytes read as Latin
                found = _detect(content, prefer=codec)
                if found is not None and found[0] != codec and decode_score(found[1]) >= score + _SWITCH_MARGIN:
                    return result(found[1], found[0], "detected", True, found[0])
        if codec in _CJK_CODECS and not content.isascii():
            score = decode_score(text)
            if score < _PLAUSIBLE_OK:
                found = _detect(content, prefer=codec)
                if found is not None and found[0] != codec and decode_score(found[1]) >= score + _SWITCH_MARGIN:
                    return result(found[1], found[0], "detected", True, found[0])
        return result(text, codec, source, mismatch)

    utf8 = _strict(content, "utf-8")
    if utf8 is not None:
        if content.isascii():
            return result(utf8, "utf-8", "fallback-utf8", mismatch)
        return result(utf8, "utf-8", "detected", mismatch, "utf-8")

    found = _detect(content)
    if found is not None:
        return result(found[1], found[0], "detected", mismatch, found[0])
    codec = "cp1252"
    return result(content.decode(codec, errors="replace"), codec, "detected-lossy", mismatch, codec)
