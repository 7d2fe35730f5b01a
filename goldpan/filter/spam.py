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
  (the dictionary-word salad of spam generators: plausible words, no grammar, few function words);
- `link_farm`: lines of anchor texts (the language's frequent words) with generated URLs, as on link
  exchange and doorway pages;
- `gibberish`: random strings of the language's letters (drawn by their frequency) cut into words and
  sentences: hash-like filler, mojibake-free but meaningless.

Two kinds are *held out* (`HELD_OUT_KINDS`): they are never used to develop or tune the rules, only to
measure them afterwards (bench/filter_multilingual.py reports them apart):
- `seo_injection`: real sentences of the language with a keyphrase pushed into each one and a tag list
  at the end, the keyword-dense "article" of SEO spam;
- `markov_salad`: a word-bigram Markov chain over the language's real lines, the classic spam-text
  generator: every adjacent word pair occurs in real text, function words included.

`spam_set(..., part=0|1)` builds from one half of the real texts only (split by a hash of each text),
so a held-out spam set is made of material the development set never saw.

Everything is deterministic for a given seed and input.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import string
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from goldpan.text.scripts import script_of
from goldpan.text.tokenize import tokens, uses_char_tokens

SPAM_KINDS: tuple[str, ...] = (
    "keyword_stuffing", "lorem_ipsum", "navigation", "boilerplate", "repeated_lines", "word_salad",
    "link_farm", "gibberish",
)
HELD_OUT_KINDS: tuple[str, ...] = ("seo_injection", "markov_salad")
ALL_KINDS: tuple[str, ...] = SPAM_KINDS + HELD_OUT_KINDS

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip "
    "ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu "
    "fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia "
    "deserunt mollit anim id est laborum."
)
# The word list of lorem-ipsum generators (lipsum.com style): the classic passage plus the pseudo-Latin
# words generators draw further sentences from.
LOREM_WORDS: tuple[str, ...] = tuple(sorted(set(re.findall(r"[a-z]+", (LOREM + """
    a ac accumsan aenean aliquam aliquet ante arcu at auctor augue bibendum blandit condimentum congue
    consequat convallis cras curabitur cursus dapibus diam dictum dictumst dignissim donec dui egestas
    eget eleifend elementum enim erat eros est etiam euismod facilisi facilisis fames faucibus felis
    fermentum feugiat fringilla fusce gravida habitant habitasse hac hendrerit iaculis imperdiet integer
    interdum justo lacinia lacus laoreet lectus leo libero ligula lobortis luctus maecenas malesuada
    massa mattis mauris metus mi molestie morbi nam nec neque netus nibh nisl nullam nunc odio orci
    ornare pellentesque pharetra phasellus placerat platea porta porttitor posuere potenti praesent
    pretium proin pulvinar purus quam quisque rhoncus risus rutrum sagittis sapien scelerisque semper
    senectus sodales sollicitudin suscipit suspendisse tellus tempus tincidunt tortor tristique turpis
    ultrices ultricies urna varius vehicula vel vestibulum vitae vivamus viverra volutpat vulputate""").lower()))))
_TLDS = ("com", "net", "org", "info", "biz", "ru", "cn", "de", "xyz", "top", "online", "site")
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
    """What spam of one language is built from: its vocabulary, frequent words, lines and recurring lines,
    letters by frequency and the word bigrams of its lines."""

    def __init__(self, lang: str, texts: Iterable[str], max_texts: int = 200):
        self.lang = lang
        texts = list(texts)[:max_texts]
        self.cjk = any(uses_char_tokens(t, lang) for t in texts[:5])
        counts: Counter[str] = Counter()
        line_docs: Counter[str] = Counter()
        letters: Counter[str] = Counter()
        self.lines: list[str] = []
        self.successors: dict[str, list[str]] = defaultdict(list)
        for t in texts:
            counts.update(_words(t, lang))
            lines = _lines(t)
            self.lines.extend(ln for ln in lines if 40 <= len(ln) <= 300)
            line_docs.update(set(lines))
            letters.update(c for c in t if c.isalpha())
            for ln in lines:
                toks = tokens(ln, lang)
                for a, b in itertools.pairwise(toks):
                    self.successors[a].append(b)
        self.vocab = sorted(counts)
        self.frequent = [w for w, _ in counts.most_common(200)]
        self.short_lines = sorted({ln for t in texts for ln in _lines(t) if 3 <= len(ln) <= 25})
        self.recurring = [ln for ln, n in line_docs.most_common(60) if n >= 3]
        # Letters of the language's own scripts (Latin left out when another script is common: the
        # Latin in Chinese or Russian documentation is English words and code).
        by_script = Counter()
        for c, n in letters.items():
            by_script[script_of(c)] += n
        total = sum(by_script.values()) or 1
        own = {sc for sc, n in by_script.items() if n / total >= 0.1}
        if own - {"Latin"}:
            own.discard("Latin")
        top_letters = [(c, n) for c, n in letters.most_common() if script_of(c) in own][: 3000 if self.cjk else 60]
        self.letters = [c for c, _ in top_letters]
        self.letter_weights = [n for _, n in top_letters]

    def usable(self) -> bool:
        return len(self.vocab) >= 50 and len(self.lines) >= 4 and len(self.letters) >= 10


def _join(words: list[str], cjk: bool) -> str:
    return ("" if cjk else " ").join(words)


def _lorem_paragraph(rng: random.Random, first: bool) -> str:
    """A lipsum-style paragraph: 4-8 sentences of 6-14 lorem words; the first may open with the classic line."""
    sents = []
    for _ in range(rng.randint(4, 8)):
        words = [rng.choice(LOREM_WORDS) for _ in range(rng.randint(6, 14))]
        if rng.random() < 0.3:
            words[rng.randrange(1, len(words) - 1)] += ","
        sents.append(" ".join(words).capitalize() + ".")
    if first:
        sents.insert(0, "Lorem ipsum dolor sit amet, consectetur adipiscing elit.")
    return " ".join(sents)


def _url(rng: random.Random) -> str:
    host = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12)))
    slug = "-".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8)))
                    for _ in range(rng.randint(1, 4)))
    return f"https://{rng.choice(('', 'www.'))}{host}.{rng.choice(_TLDS)}/{slug}{rng.choice(('', '.html', '/'))}"


def _gibberish_word(m: LanguageMaterial, rng: random.Random) -> str:
    n = rng.randint(1, 4) if m.cjk else rng.randint(2, 11)
    return "".join(rng.choices(m.letters, weights=m.letter_weights, k=n))


def _markov(m: LanguageMaterial, rng: random.Random, n_tokens: int) -> list[str]:
    starts = [w for w in m.successors if w[:1].isalpha()]
    out = [rng.choice(starts)]
    while len(out) < n_tokens:
        nxt = m.successors.get(out[-1])
        out.append(rng.choice(nxt) if nxt else rng.choice(starts))
    return out


def make_spam(material: LanguageMaterial, kind: str, rng: random.Random) -> str:
    """One spam page of `kind` in the material's language."""
    m, cjk = material, material.cjk
    if kind == "keyword_stuffing":
        keys = rng.sample(m.frequent[20:120] if len(m.frequent) > 120 else m.frequent, 6)
        sep = "、" if cjk else ", "
        return "\n".join(sep.join(rng.choice(keys) for _ in range(rng.randint(8, 14))) for _ in range(25))
    if kind == "lorem_ipsum":
        # A page template filled with generated lorem ipsum (half the generators start with the classic
        # line), around a title and a line or two of real text.
        real = rng.sample(m.lines, min(rng.randint(1, 3), len(m.lines)))
        paras = [_lorem_paragraph(rng, first=(i == 0 and rng.random() < 0.5)) for i in range(rng.randint(3, 6))]
        return "\n\n".join([real[0], *paras[:2], *real[1:], *paras[2:]])
    if kind == "navigation":
        menu = rng.sample(m.short_lines, min(60, len(m.short_lines))) if m.short_lines else []
        menu += [_join(rng.sample(m.frequent, 2), cjk) for _ in range(max(0, 60 - len(menu)))]
        return "\n".join(menu)
    if kind == "boilerplate":
        block = m.recurring if len(m.recurring) >= 5 else _BOILERPLATE_FALLBACK + m.recurring
        block = rng.sample(block, max(5, int(len(block) * rng.uniform(0.6, 1.0))))
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
    if kind == "link_farm":
        lines = []
        for _ in range(rng.randint(40, 80)):
            anchor = _join(rng.sample(m.frequent, rng.randint(2, 5)), cjk)
            lines.append(rng.choice((f"{anchor} - {_url(rng)}", f"{anchor}: {_url(rng)}", f"{_url(rng)} {anchor}",
                                     f"{anchor} | {_join(rng.sample(m.frequent, 2), cjk)} | {_url(rng)}")))
        return "\n".join(lines)
    if kind == "gibberish":
        paras = []
        for _ in range(rng.randint(4, 8)):
            sents = []
            for _ in range(rng.randint(3, 6)):
                s = _join([_gibberish_word(m, rng) for _ in range(rng.randint(6, 15))], cjk)
                sents.append(s[:1].upper() + s[1:] + _END[cjk])
            paras.append(("" if cjk else " ").join(sents))
        return "\n\n".join(paras)
    if kind == "seo_injection":
        phrase = _join(rng.sample(m.frequent[20:120] if len(m.frequent) > 120 else m.frequent, 2), cjk)
        sents = []
        for line in rng.sample(m.lines, min(len(m.lines), rng.randint(12, 24))):
            parts = line.split(" ") if not cjk else [line[: len(line) // 2], line[len(line) // 2 :]]
            at = rng.randrange(len(parts) + 1)
            sents.append(("" if cjk else " ").join([*parts[:at], phrase, *parts[at:]]))
        paras = [" ".join(sents[i : i + 4]) for i in range(0, len(sents), 4)]
        tags = ("、" if cjk else ", ").join([phrase] + rng.sample(m.frequent, 8))
        return "\n\n".join([phrase, *paras, tags])
    if kind == "markov_salad":
        toks = _markov(m, rng, rng.randint(300, 500))
        text = _join(toks, cjk) if cjk else " ".join(toks)
        text = re.sub(r" ([,.;:!?)])", r"\1", text)
        chunk = max(1, len(text) // rng.randint(3, 6))
        return "\n\n".join(text[i : i + chunk] for i in range(0, len(text), chunk))
    raise ValueError(f"unknown spam kind {kind!r}; known: {', '.join(ALL_KINDS)}")


def material_part(text: str) -> int:
    """0 or 1: which half of the real texts `text` belongs to (a hash, stable across runs)."""
    return hashlib.sha1(text.encode("utf-8", "replace")).digest()[0] & 1


def spam_set(
    texts_by_lang: Mapping[str, Iterable[str]],
    per_kind: int = 3,
    seed: int = 17,
    kinds: Iterable[str] = SPAM_KINDS,
    part: int | None = None,
    prefix: str = "spam",
) -> list[SpamDoc]:
    """`per_kind` pages of every kind for every language that has enough real text to build them from.

    `part` (0 or 1) builds from that half of the texts only (`material_part`), for a held-out set.
    """
    kinds = tuple(kinds)
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown spam kind(s) {sorted(unknown)}; known: {', '.join(ALL_KINDS)}")
    out: list[SpamDoc] = []
    for lang in sorted(texts_by_lang):
        texts = [t for t in texts_by_lang[lang] if part is None or material_part(t) == part]
        material = LanguageMaterial(lang, texts)
        if not material.usable():
            continue
        rng = random.Random(f"{seed}:{lang}")
        for kind in kinds:
            for i in range(per_kind):
                text = re.sub(r"[ \t]+\n", "\n", make_spam(material, kind, rng))
                out.append(SpamDoc(f"{prefix}-{lang}-{kind}-{i}", lang, kind, text))
    return out
