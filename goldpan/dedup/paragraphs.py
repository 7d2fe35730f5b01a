"""Paragraph dedup (CCNet / dolma / DCLM-BFF style): remove paragraphs repeated across many documents.

Why: boilerplate that survives main-content extraction (cookie banners, newsletter sign-ups,
author signatures, "share this" lines) repeats verbatim across pages of a site. It adds no
information, inflates token counts and makes unrelated pages look alike.

How: a paragraph is one non-empty line of the extracted text (extractors emit one block per
line). Its key is xxh3_64 of `normalize_for_hash(paragraph)` (case, width, punctuation and spacing
do not matter). The caller counts, per key, the distinct documents containing it in this batch
and in every earlier batch (an exact count kept in Delta, not a Bloom filter: exact counts make
the decision reproducible and auditable). A paragraph of at least `min_chars` normalised
characters seen in at least `min_docs` documents is removed from every document of the batch.
Short paragraphs (list items, code lines, headings) are never removed: repeated short lines are
often content.

Counting is per batch and incremental: documents of a batch are decided with the counts of all
earlier batches plus the whole batch itself, so the result does not depend on document order, and
a re-run (which excludes the batch's own earlier counts) gives the same result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import xxhash

from goldpan.dedup.exact import normalize_for_hash

PARAGRAPH_SEED = 0x9A7A
RULE_TOO_SHORT = "paragraph_dedup_min_chars"
RULE_ONLY_BOILERPLATE = "paragraph_dedup_boilerplate_only"


@dataclass(frozen=True)
class Paragraphs:
    """A document split into paragraphs with their keys (None for paragraphs too short to count)."""

    lines: list[str]
    keys: list[int | None]


@dataclass(frozen=True)
class ParagraphOutcome:
    text: str | None  # the text after removal (equal to the input when nothing was removed; None: `decide`)
    n_paragraphs: int
    n_removed: int
    chars_removed: int
    rule: str | None  # RULE_TOO_SHORT / RULE_ONLY_BOILERPLATE when the rest is too short
    value: float | None  # characters left
    threshold: float | None


def split_paragraphs(text: str, min_chars: int) -> Paragraphs:
    lines = [ln for ln in text.split("\n") if ln.strip()]
    keys: list[int | None] = []
    for ln in lines:
        norm = normalize_for_hash(ln)
        if len(norm) < min_chars:
            keys.append(None)
        else:
            keys.append(xxhash.xxh3_64_intdigest(norm.encode("utf-8", "surrogatepass"), PARAGRAPH_SEED))
    return Paragraphs(lines, [None if k is None else _signed(k) for k in keys])


def _signed(k: int) -> int:
    return k - (1 << 64) if k >= (1 << 63) else k


def batch_counts(docs: Iterable[Paragraphs]) -> Counter[int]:
    """Distinct documents per paragraph key within one batch (a document counts a key once)."""
    c: Counter[int] = Counter()
    for p in docs:
        c.update({k for k in p.keys if k is not None})
    return c


def keys_array(counts: Counter[int]) -> np.ndarray:
    return np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))


@dataclass(frozen=True)
class ParagraphShape:
    """What the paragraph decision needs of a document, without its text: per paragraph its key,
    length and leading / trailing whitespace. Why: on a cluster the workers split the texts and the
    driver decides from these small columns (`decide`); a worker then rebuilds the text (`apply`)."""

    keys: list[int | None]
    lengths: list[int]
    leads: list[int]  # whitespace characters before the paragraph's first visible one
    trails: list[int]  # ... and after its last


def shape_of(p: Paragraphs) -> ParagraphShape:
    return ParagraphShape(list(p.keys), [len(ln) for ln in p.lines], [len(ln) - len(ln.lstrip()) for ln in p.lines],
                          [len(ln) - len(ln.rstrip()) for ln in p.lines])


def decide(p: ParagraphShape, total_counts: dict[int, int], min_docs: int, min_doc_chars: int) -> ParagraphOutcome:
    """`apply` without the text (its `text` is None): which paragraphs go and the verdict on the rest.

    The characters left are those of `"\n".join(kept).strip()`: the kept paragraphs, one newline
    between two, less the first one's leading and the last one's trailing whitespace (every
    paragraph has a visible character, so `strip` stops inside the first and the last)."""
    kept: list[int] = []
    removed = chars_removed = 0
    for j, k in enumerate(p.keys):
        if k is not None and total_counts.get(k, 0) >= min_docs:
            removed += 1
            chars_removed += p.lengths[j]
        else:
            kept.append(j)
    rule = value = threshold = None
    if removed:
        left = sum(p.lengths[j] for j in kept) + len(kept) - 1 - p.leads[kept[0]] - p.trails[kept[-1]] if kept else 0
        if left < min_doc_chars:
            rule = RULE_ONLY_BOILERPLATE if not kept else RULE_TOO_SHORT
            value, threshold = float(left), float(min_doc_chars)
    return ParagraphOutcome(None, len(p.keys), removed, chars_removed, rule, value, threshold)  # type: ignore[arg-type]


def apply(p: Paragraphs, total_counts: dict[int, int], min_docs: int, min_doc_chars: int) -> ParagraphOutcome:
    """Remove the paragraphs whose total document count reaches `min_docs`; judge what is left
    (`decide`) and give the text without them."""
    o = decide(shape_of(p), total_counts, min_docs, min_doc_chars)
    keep = [ln for ln, k in zip(p.lines, p.keys, strict=True) if k is None or total_counts.get(k, 0) < min_docs]
    return ParagraphOutcome("\n".join(keep), o.n_paragraphs, o.n_removed, o.chars_removed, o.rule, o.value,
                            o.threshold)
