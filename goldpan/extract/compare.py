"""Compare two extractions of the same pages: lengths and bag-of-words token F1.

Why bag-of-words F1: it is the measure of the public article-extraction benchmarks (ScrapingHub's
article-extraction-benchmark, trafilatura's evaluation): precision = share of the extracted tokens
that are in the reference, recall = share of the reference tokens that were extracted, with tokens
counted as a multiset so repeated boilerplate is penalised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from goldpan.text.tokenize import words


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def token_prf(extracted: str, reference: str, lang: str | None = None) -> PRF:
    """Multiset token precision/recall/F1 of `extracted` against `reference` (lower-cased words)."""
    a = Counter(w.lower() for w in words(extracted or "", lang))
    b = Counter(w.lower() for w in words(reference or "", lang))
    if not a and not b:
        return PRF(1.0, 1.0, 1.0)
    common = sum((a & b).values())
    p = common / sum(a.values()) if a else 0.0
    r = common / sum(b.values()) if b else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(p, r, f)


def summarize_pairs(pairs: Iterable[tuple[str | None, str | None, str | None]]) -> dict:
    """Summary of (primary_text, variant_text, lang) pairs: mean F1 and lengths, empty counts."""
    n = both = 0
    f1 = p = r = 0.0
    len_a = len_b = 0
    empty_a = empty_b = 0
    for ta, tb, lang in pairs:
        n += 1
        ta, tb = ta or "", tb or ""
        len_a += len(ta)
        len_b += len(tb)
        empty_a += not ta.strip()
        empty_b += not tb.strip()
        if ta.strip() and tb.strip():
            prf = token_prf(tb, ta, lang)  # the variant measured against the primary
            both += 1
            f1 += prf.f1
            p += prf.precision
            r += prf.recall
    return {
        "pages": n,
        "pages_with_both_texts": both,
        "mean_token_f1": round(f1 / both, 4) if both else None,
        "mean_precision_vs_primary": round(p / both, 4) if both else None,
        "mean_recall_vs_primary": round(r / both, 4) if both else None,
        "mean_chars_primary": round(len_a / n, 1) if n else None,
        "mean_chars_variant": round(len_b / n, 1) if n else None,
        "empty_primary": empty_a,
        "empty_variant": empty_b,
    }
