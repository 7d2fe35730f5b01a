"""The faithfulness guard: an output is judged against the text its parents gave the model.

Rewriting invents facts (a small model does so in most outputs). Each rule yields a `GuardFailure`
with rule, value, comparison and threshold, like the filter's rules, so `why` can say "new_numbers
2 > 0 (1987, 42)". Rules: facts the parents do not contain (numbers, dates, URLs and e-mail
addresses, named entities; goldpan.synthesize.facts), a change of language (fastText lid), a
near-verbatim copy (Jaccard of word 3-grams, or character 4-grams for Chinese), a length ratio
outside the band.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from goldpan.recipe import GuardSection
from goldpan.synthesize.facts import Facts, extract_facts
from goldpan.synthesize.rules import RULES  # noqa: F401 -- re-exported: the rule names
from goldpan.text.tokenize import is_cjk_lang, tokens

Identify = Callable[[str], tuple[str, float]]


@dataclass(frozen=True)
class GuardFailure:
    rule: str
    value: float
    op: str  # the failing comparison: value op threshold
    threshold: float
    detail: str = ""


def _base(lang: str | None) -> str:
    return (lang or "").split("-")[0].split("_")[0].lower()


def _date_parts(key: str) -> tuple[str, str, str]:
    y, m, d = key.split("-")
    return y, m, d


def _date_known(key: str, parent: set[str]) -> bool:
    """A date is known when some parent date agrees on every component both of them name."""
    y, m, d = _date_parts(key)
    for other in parent:
        oy, om, od = _date_parts(other)
        if all(a == "?" or b == "?" or a == b for a, b in ((y, oy), (m, om), (d, od))):
            return True
    return False


def _parent_facts(texts: Iterable[str], lang: str | None) -> Facts:
    acc = Facts()
    for t in texts:
        f = extract_facts(t, lang, list_markers=True)
        acc.numbers |= f.numbers
        acc.dates |= f.dates
        acc.urls |= f.urls
        acc.entities |= f.entities
        acc.text_lower += "\n" + f.text_lower
    for key in acc.dates:  # "2021-03-05" in a parent also vouches for 2021, 3 and 5 as numbers
        acc.numbers |= {p for p in _date_parts(key) if p != "?"}
    return acc


def _new_entities(out: set[str], parent: Facts, cjk: bool) -> list[str]:
    if cjk:
        return sorted(e for e in out if e.lower() not in parent.text_lower)
    new = []
    for e in out:
        words = [w.lower() for w in e.split() if len(w) > 1]
        if any(not re.search(rf"(?<!\w){re.escape(w)}(?!\w)", parent.text_lower) for w in words):
            new.append(e)
    return sorted(new)


def shingles(text: str, lang: str | None) -> set[str]:
    """Word 3-grams (lower-cased words), or character 4-grams of the non-space text for CJK."""
    if is_cjk_lang(lang):
        s = re.sub(r"\W", "", text)
        return {s[i:i + 4] for i in range(max(0, len(s) - 3))}
    words = [t.lower() for t in tokens(text, lang) if any(c.isalnum() for c in t)]
    return {" ".join(words[i:i + 3]) for i in range(max(0, len(words) - 2))}


def copy_similarity(output: str, parent: str, lang: str | None) -> float:
    a, b = shingles(output, lang), shingles(parent, lang)
    return len(a & b) / len(a | b) if a and b else 0.0


class Guard:
    """Checks outputs against parents with the recipe's thresholds; `identify(text) -> (lang, score)`."""

    def __init__(self, cfg: GuardSection, identify: Identify | None = None):
        self.cfg = cfg
        self.identify = identify

    def check(self, output: str, parents: list[str], lang: str | None, skip: Iterable[str] = ()) -> list[GuardFailure]:
        """Every failed rule (not just the first), so each reason is recorded."""
        skip = set(skip)
        cfg, fails = self.cfg, []
        cjk = is_cjk_lang(lang)
        out = extract_facts(output, lang)
        par = _parent_facts(parents, lang)

        def count(rule: str, limit: int | None, new: list[str]) -> None:
            if rule not in skip and limit is not None and len(new) > limit:
                fails.append(GuardFailure(rule, float(len(new)), ">", float(limit), ", ".join(new[:5])))

        count("new_numbers", cfg.max_new_numbers, sorted(out.numbers - par.numbers))
        count("new_dates", cfg.max_new_dates, sorted(d for d in out.dates if not _date_known(d, par.dates)))
        count("new_urls", cfg.max_new_urls,
              sorted(u for u in out.urls if u not in par.urls and u not in par.text_lower))
        count("new_entities", cfg.max_new_entities, _new_entities(out.entities, par, cjk))
        parent_text = "\n".join(parents)
        if "language_change" not in skip and cfg.language_min_score is not None and self.identify and output.strip():
            # The parent passage's own language (a "zh" page may hold an untranslated English paragraph).
            was, was_score = self.identify(parent_text)
            was = was if was_score >= cfg.language_min_score else (lang or was)
            got, score = self.identify(output)
            if _base(got) != _base(was) and score >= cfg.language_min_score:
                fails.append(GuardFailure("language_change", round(score, 4), ">=", cfg.language_min_score,
                                          f"{was} -> {got}"))
        if "copy_similarity" not in skip and cfg.max_copy_similarity is not None:
            sim = copy_similarity(output, parent_text, lang)
            if sim > cfg.max_copy_similarity:
                fails.append(GuardFailure("copy_similarity", round(sim, 4), ">", cfg.max_copy_similarity))
        ratio = len(output.strip()) / max(1, len(parent_text.strip()))
        if "min_length_ratio" not in skip and cfg.min_length_ratio is not None and ratio < cfg.min_length_ratio:
            fails.append(GuardFailure("min_length_ratio", round(ratio, 4), "<", cfg.min_length_ratio))
        if "max_length_ratio" not in skip and cfg.max_length_ratio is not None and ratio > cfg.max_length_ratio:
            fails.append(GuardFailure("max_length_ratio", round(ratio, 4), ">", cfg.max_length_ratio))
        return fails
