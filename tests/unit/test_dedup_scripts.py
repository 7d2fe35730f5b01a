"""Shingles do not switch scheme per page: a mixed English/Chinese page and its copy match whichever
side of a script-share line each falls on, and whatever language label each carries (issue 18)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from goldpan.dedup import BatchDeduplicator, DedupInput, MemoryPriorStore
from goldpan.dedup.shingles import shingle_hashes
from goldpan.dedup.signatures import doc_shingles
from goldpan.recipe import DedupSection
from goldpan.text.tokenize import _CJK_CHAR
from tests.fixtures.dedup_texts import EN_GARDEN, ZH_TEA

_HAN = re.compile(f"[{_CJK_CHAR}]")


def han_share(text: str) -> float:
    """Share of Han/kana/Hangul among word characters (the rule the old per-page switch used, 0.2)."""
    return len(_HAN.findall(text)) / len(re.findall(r"\w", text))


EN_PART = " ".join(EN_GARDEN.split(". ")[:5]) + "."


def mixed_page(zh_chars: int, english: str = EN_PART) -> str:
    """An English article with a Chinese passage of its first `zh_chars` characters after it."""
    zh = "".join(ZH_TEA.split())[:zh_chars]
    return f"{english}\n\n{zh}"


def test_copy_across_the_script_share_line_is_found() -> None:
    original = mixed_page(170)
    copy = mixed_page(358)  # the copy quotes all of the Chinese passage
    assert han_share(original) < 0.2 < han_share(copy)  # on either side of the old switch
    cfg = DedupSection(paragraph_dedup=False, url_dedup=False)
    docs = [DedupInput("orig", original, "zh", None, 1.0), DedupInput("copy", copy, "zh", None, 2.0)]
    out = BatchDeduplicator(cfg).run(docs, MemoryPriorStore().begin("b1"))
    by_id = {r.doc_id: r for r in out.results}
    # the original lies inside the longer copy, so the container is kept (containment rule)
    assert by_id["copy"].status == "kept"
    assert by_id["orig"].rule == "near_duplicate" and by_id["orig"].duplicate_of == "copy"
    assert by_id["copy"].cluster_id == by_id["orig"].cluster_id


@pytest.mark.parametrize("zh_chars", [0, 100, 200, 358])
def test_shingles_do_not_depend_on_the_label(zh_chars: int) -> None:
    cfg = BatchDeduplicator(DedupSection()).sig_cfg
    page = mixed_page(zh_chars)  # 200 and 358 are above the old 20 % switch, 0 and 100 below
    en = doc_shingles(page, "en", cfg)
    assert en.size > 100
    assert np.array_equal(en, doc_shingles(page, "zh", cfg))
    assert np.array_equal(en, doc_shingles(page, "ja", cfg))


def test_pure_pages_keep_their_scheme() -> None:
    """English alone is word n-grams and Chinese alone character n-grams, as before: only mixed pages
    changed (so indexes of pure pages keep matching what was measured)."""
    words = re.findall(r"\w+", EN_GARDEN.lower())
    trigrams = {tuple(words[i:i + 3]) for i in range(len(words) - 2)}
    assert shingle_hashes(EN_GARDEN, "zh", word_ngram=3, char_ngram=2).size == len(trigrams)
    zh = "".join(ch for ch in ZH_TEA if _HAN.match(ch))
    assert shingle_hashes(zh, "en", word_ngram=3, char_ngram=2).size == len({zh[i:i + 2] for i in range(len(zh) - 1)})


def test_thai_label_keeps_character_ngrams() -> None:
    """Scripts without spaces outside the Han family still shingle by characters under their label."""
    text = "ภาษาไทยเขียนติดกันโดยไม่มีช่องว่างระหว่างคำ ประโยคยาวหนึ่งประโยคจึงเป็นคำเดียวสำหรับตัวแบ่งคำแบบช่องว่าง"
    chars = re.sub(r"[\W_]", "", text)
    assert shingle_hashes(text, "th", char_ngram=2).size == len({chars[i:i + 2] for i in range(len(chars) - 1)})
    assert shingle_hashes(text, "th", char_ngram=2).size > 3 * shingle_hashes(text, "en", char_ngram=2).size
