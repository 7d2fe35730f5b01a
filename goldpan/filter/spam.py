"""Spam pages in any language, built from that language's real text: the negatives of a filter curve.

Why build them: a keep rate alone rewards a filter that keeps everything. The price of a threshold is
the spam it lets through, per language, and real labelled spam in 20 languages is not something the
project can ship. Each kind below is what web spam and junk pages are made of (the Gopher, C4 and
FineWeb rules each target one), written with the words and lines of real pages of the language, so
the rules cannot tell them apart by script or vocabulary alone:

- `keyword_stuffing`: a handful of the page's keywords repeated in varying order, comma-separated;
- `lorem_ipsum`: template filler (the classic Latin text) around a few real lines;
- `navigation`: only short lines (menu entries made of real headings and words);
- `boilerplate`: only the lines that recur across many pages of the language (headers, footers,
  notices), or a copyright/cookie block when the language has none;
- `repeated_lines`: two real lines repeated over and over;
- `word_salad`: machine-generated sentences of words drawn uniformly from the language's vocabulary
  (the dictionary-word salad of spam generators: plausible words, no grammar, few function words).

Everything is deterministic for a given seed and input.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from goldpan.text.tokenize import tokens, uses_char_tokens

SPAM_KINDS: tuple[str, ...] = (
    "keyword_stuffing", "lorem_ipsum", "navigation", "boilerplate", "repeated_lines", "word_salad",
)

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip "
    "ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu "
    "fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia "
    "deserunt mollit anim id est laborum."
)
_BOILERPLATE_FALLBACK = [
    "Copyright © 2024 All rights reserved.", "Privacy Policy | Terms of Use | Cookie Policy",
    "This website uses cookies to improve your experience.", "Accept all cookies", "Contact us", "Sitemap",
    "Follow us on social media", "Subscribe to our newsletter", "Powered by WordPress",
]
_END = {True: "。", False: "."}


@dataclass(frozen=True)
class SpamDoc:
    doc_id: str
    lang: str
    kind: str
    text: str


def _words(text: str, lang: str) -> list[str]:
    return [t for t in tokens(text, lang) if any(c.isalpha() for c in t)]


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


class LanguageMaterial:
    """What spam of one language is built from: its vocabulary, frequent words, lines and recurring lines."""

    def __init__(self, lang: str, texts: Iterable[str], max_texts: int = 200):
        self.lang = lang
        texts = list(texts)[:max_texts]
        self.cjk = any(uses_char_tokens(t, lang) for t in texts[:5])
        counts: Counter[str] = Counter()
        line_docs: Counter[str] = Counter()
        self.lines: list[str] = []
        for t in texts:
            counts.update(_words(t, lang))
            lines = _lines(t)
            self.lines.extend(ln for ln in lines if 40 <= len(ln) <= 300)
            line_docs.update(set(lines))
        self.vocab = sorted(counts)
        self.frequent = [w for w, _ in counts.most_common(200)]
        self.short_lines = sorted({ln for t in texts for ln in _lines(t) if 3 <= len(ln) <= 25})
        self.recurring = [ln for ln, n in line_docs.most_common(60) if n >= 3]

    def usable(self) -> bool:
        return len(self.vocab) >= 50 and len(self.lines) >= 4


def _join(words: list[str], cjk: bool) -> str:
    return ("" if cjk else " ").join(words)


def make_spam(material: LanguageMaterial, kind: str, rng: random.Random) -> str:
    """One spam page of `kind` in the material's language."""
    m, cjk = material, material.cjk
    if kind == "keyword_stuffing":
        keys = rng.sample(m.frequent[20:120] if len(m.frequent) > 120 else m.frequent, 6)
        sep = "、" if cjk else ", "
        return "\n".join(sep.join(rng.choice(keys) for _ in range(rng.randint(8, 14))) for _ in range(25))
    if kind == "lorem_ipsum":
        real = rng.sample(m.lines, min(3, len(m.lines)))
        return "\n\n".join([real[0], LOREM, *real[1:], LOREM])
    if kind == "navigation":
        menu = rng.sample(m.short_lines, min(60, len(m.short_lines))) if m.short_lines else []
        menu += [_join(rng.sample(m.frequent, 2), cjk) for _ in range(max(0, 60 - len(menu)))]
        return "\n".join(menu)
    if kind == "boilerplate":
        block = m.recurring if len(m.recurring) >= 5 else _BOILERPLATE_FALLBACK + m.recurring
        return "\n".join(block)
    if kind == "repeated_lines":
        a, b = rng.sample(m.lines, 2)
        return "\n".join([a, b] * 15)
    if kind == "word_salad":
        sentences = []
        for _ in range(40):
            words = [rng.choice(m.vocab) for _ in range(rng.randint(8, 16))]
            s = _join(words, cjk)
            sentences.append((s[:1].upper() + s[1:]) + _END[cjk])
        paras = [" ".join(sentences[i : i + 5]) if not cjk else "".join(sentences[i : i + 5])
                 for i in range(0, len(sentences), 5)]
        return "\n\n".join(paras)
    raise ValueError(f"unknown spam kind {kind!r}; known: {', '.join(SPAM_KINDS)}")


def spam_set(texts_by_lang: Mapping[str, Iterable[str]], per_kind: int = 3, seed: int = 17) -> list[SpamDoc]:
    """`per_kind` pages of every kind for every language that has enough real text to build them from."""
    out: list[SpamDoc] = []
    for lang in sorted(texts_by_lang):
        material = LanguageMaterial(lang, texts_by_lang[lang])
        if not material.usable():
            continue
        rng = random.Random(f"{seed}:{lang}")
        for kind in SPAM_KINDS:
            for i in range(per_kind):
                text = re.sub(r"[ \t]+\n", "\n", make_spam(material, kind, rng))
                out.append(SpamDoc(f"spam-{lang}-{kind}-{i}", lang, kind, text))
    return out
