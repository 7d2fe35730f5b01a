"""The fast signal pass and the fast extract helpers give exactly the reference numbers.

Every shortcut of `goldpan.filter.signals` (hashed n-grams, counts over distinct tokens, the prose pass
reusing line tokens, shared lowercased words, regex pre-checks) and of the extract stage (code flags only
for the lines language ID reads, ASCII letter counts, one-pass space collapsing) is compared with the
direct definition it replaces (`goldpan.filter.signals_reference`, or the one-line formula written
here) on real pages (Debian documentation in English, Chinese, Japanese and German, extracted as the
pipeline extracts them), on the real fixtures in several more languages, and on adversarial strings.
Equality is exact: floats must be the same floats, not approximately equal.
"""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from goldpan.extract import langid, normalize
from goldpan.filter import junk, ngrams
from goldpan.filter import signals_reference as ref
from goldpan.filter.lines import line_stats
from goldpan.filter.ngrams import JoinedNgrams
from goldpan.filter.signals import compute_signals
from goldpan.filter.stopwords import stop_words_for
from goldpan.text.technical import code_lines
from goldpan.text.tokenize import count_token_sentences, tokenizer_for, tokens, uses_char_tokens, words
from tests.fixtures.filter_samples import (
    GOOD_EN,
    GOOD_ZH,
    LOTTERY_TABLE_ZH,
    SPAM_REPEATED_LINES_EN,
    SPAM_REPEATED_ZH,
)
from tests.fixtures.filter_samples_multilingual import (
    AR_DOC,
    EN_CODE_DOC,
    HU_HELP_PAGE,
    JA_DOC,
    KO_DOC,
    RU_DOC,
    ZH_DOC,
)
from tests.fixtures.real_pages import PACKAGES, realdocs

FIXTURES = [
    (GOOD_EN, "en"), (SPAM_REPEATED_LINES_EN, "en"), (EN_CODE_DOC, "en"), (GOOD_ZH, "zh"), (ZH_DOC, "zh"),
    (SPAM_REPEATED_ZH, "zh"), (LOTTERY_TABLE_ZH, "zh"), (JA_DOC, "ja"), (KO_DOC, "ko"), (RU_DOC, "ru"),
    (AR_DOC, "ar"), (HU_HELP_PAGE, "hu"), (EN_CODE_DOC, None), (ZH_DOC, None),
]

ADVERSARIAL = [
    "", " ", "\n\n\n", "a", "a\nb\na\nb", "\nfoo\nbar\n", "x x x x x x x", "a b c d e a b c d e a b c d e",
    "a b ccc dd a b ccc dd",
    # joined without spaces, different token splits give the same string ("ab"+"c" == "a"+"bc")
    "ab c a bc ab c a bc ab c a bc ab c a bc ab c",
    "中国中国", "一二三四五一二三四五", "中文English混合 Python3.11 中文English混合 Python3.11 中文English混合",
    "cheap flights cheap flights online cheap flights now cheap flights cheap flights deal cheap flights",
    "(a [b) c] 「d」 『e』 «f» （g） ) ) ( ( [ [ ] ]", "see http://example.com and WWW.EXAMPLE.ORG\nno url here\n",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n{ var x = 1; }\njavascript is required\n",
    "line one [1]\nline two [edit] is here.\nThird line [citation needed] ends here!\n\n\u2028sep\x85next\r\nend",
    "wait... what… ok\n• one\n  - two\nthree...\n# heading #\n$ apt-get install foo\n>>> print(1)\n",
]


@pytest.fixture(scope="module")
def real_texts() -> list[tuple[str, str]]:
    """(text, lang) of 16 real documentation pages (4 each in English, Chinese, Japanese, German),
    extracted, normalised and identified by the extract stage itself."""
    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_one

    rd = realdocs()
    try:
        pages = rd.real_pages(16, list(PACKAGES), packages=PACKAGES)
    except rd.PackageUnavailable as exc:
        pytest.skip(f"Debian package mirror unreachable: {exc}")
    lid = LanguageIdentifier()
    out = []
    for i, page in enumerate(pages):
        row = extract_one({"page_id": f"p{i}", "batch_id": "b", "url": page.url, "content": page.html,
                           "content_type": "text/html"}, lid)  # fmt: skip
        if row["status"] == "kept":
            out.append((row["text"], row["lang"]))
    assert {lang for _, lang in out} >= {"en", "zh", "ja", "de"}
    return out


def _all_texts(real_texts: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    return real_texts + FIXTURES + [(t, "en") for t in ADVERSARIAL] + [(t, "zh") for t in ADVERSARIAL[10:13]]


def test_compute_signals_equals_the_reference_on_real_pages(real_texts) -> None:
    for text, lang in _all_texts(real_texts):
        fast, slow = compute_signals(text, lang), ref.reference_compute_signals(text, lang)
        assert fast == slow, (lang, text[:80], {k: (fast[k], slow[k]) for k in fast if fast[k] != slow[k]})


def _token_lists(real_texts) -> list[tuple[list[str], bool]]:
    out = [(tokens(t, lang), uses_char_tokens(t, lang)) for t, lang in _all_texts(real_texts)]
    out += [(["ab", "c", "a", "bc"] * 4, True), (["x"], False), ([], False), (list("abababababab"), True)]
    return out


def test_hashed_ngrams_equal_the_string_definitions(real_texts) -> None:
    for toks, cjk in _token_lists(real_texts):
        glued = ref._Joined(toks, "")
        want = ([ref._top_ngram_chars(glued if cjk else toks, n, " ") for n in (2, 3, 4)]
                + [ref._dup_ngram_chars(glued, n) for n in range(5, 11)])  # fmt: skip
        fast_glued = JoinedNgrams(toks, "")
        fast_top = fast_glued if cjk else JoinedNgrams(toks, " ")
        got = [fast_top.top_chars(n) for n in (2, 3, 4)] + [fast_glued.dup_chars(n) for n in range(5, 11)]
        assert got == want, toks[:20]


def test_hashed_ngrams_stay_exact_when_every_hash_collides(real_texts, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a hash that maps every n-gram to the same value, only the string comparisons decide."""
    import numpy as np

    monkeypatch.setattr(ngrams.JoinedNgrams, "keys",
                        lambda self, n: np.zeros(max(self.n_tokens - n + 1, 0), dtype=np.uint64))  # fmt: skip
    for toks, cjk in _token_lists(real_texts)[-12:] + [(tokens(GOOD_EN, "en"), False), (tokens(ZH_DOC, "zh"), True)]:
        glued = ref._Joined(toks, "")
        want = ([ref._top_ngram_chars(glued if cjk else toks, n, " ") for n in (2, 3, 4)]
                + [ref._dup_ngram_chars(glued, n) for n in range(5, 11)])  # fmt: skip
        fast_glued = JoinedNgrams(toks, "")
        fast_top = fast_glued if cjk else JoinedNgrams(toks, " ")
        assert [fast_top.top_chars(n) for n in (2, 3, 4)] + [fast_glued.dup_chars(n) for n in range(5, 11)] == want


def test_junk_signals_equal_the_reference(real_texts) -> None:
    rng = random.Random(7)
    for text, lang in _all_texts(real_texts):
        ws = words(text, lang)
        lines = text.splitlines()
        cjk = uses_char_tokens(text, lang)
        stop = stop_words_for(lang) or frozenset()
        salad = rng.sample(ws, len(ws))
        for w in (ws, salad, ws * 3):
            assert junk.keyword_dominance(w, stop, cjk) == ref.keyword_dominance(w, stop, cjk)
            assert junk.recurring_bigram_share(w) == ref.recurring_bigram_share(w)
            assert junk.distinct_word_ratio(w) == ref.distinct_word_ratio(w)
            assert junk.lorem_word_ratio(w) == ref.lorem_word_ratio(w)
        assert junk.url_lines_ratio(lines, text) == junk.url_lines_ratio(lines) == ref.url_lines_ratio(lines)
        assert junk.unbalanced_bracket_ratio(lines) == ref.unbalanced_bracket_ratio(lines)
        counts = [len(tokens(ln, lang)) for ln in lines]
        assert junk.long_line_char_frac(lines, counts, cjk) == ref.long_line_char_frac(lines, counts, cjk)


def test_line_stats_and_sentences_equal_the_reference(real_texts) -> None:
    for text, lang in _all_texts(real_texts):
        cjk = uses_char_tokens(text, lang)
        tokenize = tokenizer_for(text, lang)
        lines = text.splitlines()
        line_toks = [tokenize(ln) for ln in lines]
        assert line_stats(lines, line_toks, tokenize, cjk) == ref.line_stats(lines, line_toks, tokenize, cjk)
        for toks in line_toks:
            assert count_token_sentences(toks) == ref.count_token_sentences(toks)


_NON_LETTERS = re.compile(r"[\W\d_]+")


def _reference_main_lines(text: str, min_line_chars: int = 20) -> list[str]:
    """langid.main_lines as first written: every line scored for code, letters counted by regex."""
    lines = text.split("\n")
    flags = code_lines(lines)
    return [ln for ln, code in zip(lines, flags) if not code and len(_NON_LETTERS.sub("", ln)) >= min_line_chars]


def _reference_normalize(text: str) -> str:
    """normalize.normalize_text as first written: spaces collapsed line by line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = normalize._INVISIBLE.sub("", text)
    text = normalize._CONTROL.sub("", text)
    text = normalize._SURROGATE.sub("\ufffd", text)
    lines = [normalize._SPACES.sub(" ", ln).strip() for ln in text.split("\n")]
    return normalize._BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def test_extract_helpers_equal_the_reference(real_texts) -> None:
    raw = ["  a\u00a0\u00a0b \t c \n\n\n\n d\u3000e\r\nf\u200bg\x07h  ", "x\ud800y  z\n \n"]
    for text, _lang in _all_texts(real_texts):
        for min_chars in (0, 20, 60):
            assert langid.main_lines(text, min_chars) == _reference_main_lines(text, min_chars)
        lines = text.split("\n")
        full = code_lines(lines)
        needed = [i % 3 == 0 for i in range(len(lines))]
        assert [f for f, need in zip(code_lines(lines, needed=needed), needed) if need] == \
            [f for f, need in zip(full, needed) if need]
        for ln in lines:
            assert langid.letter_count(ln) == len(_NON_LETTERS.sub("", ln))
    for text in raw + [t for t, _ in _all_texts(real_texts)]:
        assert normalize.normalize_text(text) == _reference_normalize(text)


def test_language_profile_letters_equal_the_regex_counts(real_texts) -> None:
    """`profile` reuses the letter counts that chose the main lines (no second regex pass per line):
    the text's letters and each line's weight must be what the regexes count, CJK lines included."""
    kana = "ｶﾀｶﾅ・ー゛゜テスト、これは日本語の文です。" * 3
    for text, _lang in [*_all_texts(real_texts), (kana, "ja"), ("中文句子，用于测试。\n" * 4, "zh")]:
        for min_chars in (0, 20):
            lines, counts = langid._main_lines_letters(text, min_chars)
            assert lines == langid.main_lines(text, min_chars)
            assert sum(counts) == len(_NON_LETTERS.sub("", "\n".join(lines)))
            for ln, n in zip(lines, counts):
                assert langid._line_weight(ln, n) == langid.letter_weight(ln)


_SENTENCE_DEFINITION = re.compile(r"[^\W\d_]{2}[.!?。！？](?:\s|$)")  # two letters, a sentence end


def test_sentence_end_search_from_the_mark_equals_its_definition(real_texts) -> None:
    """goldpan.text.technical._SENTENCE looks for the mark first and the two letters behind it: whether a
    line holds a match is the same as with the pattern read left to right."""
    from goldpan.text.technical import _SENTENCE

    lines = [ln for text, _ in _all_texts(real_texts) for ln in text.split("\n")]
    lines += ["ab.", "a.", "1a.", "_a.", "ab.x", "ab. x", "ab.\t", "x ab!", "ab?c", "中文。", "文。", "ab..", "ab.。",
              "é́.", "Ωμ!", "a1.", "ab", ".ab", "ab.\u2028", "ab.\xa0", "ab。x", "αβ？ next"]
    assert sum(_SENTENCE_DEFINITION.search(ln) is not None for ln in lines) > 100
    for ln in lines:
        assert (_SENTENCE.search(ln) is not None) == (_SENTENCE_DEFINITION.search(ln) is not None), ln
