"""Signals: hand-computable values, datatrove's definitions, CJK handling, batch error rows."""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import pytest

from goldpan.filter import signals as sigmod
from goldpan.filter.signals import (
    SIGNAL_COLUMNS,
    SIGNAL_NAMES,
    SIGNALS_VERSION,
    compute_signal_batch,
    compute_signals,
    signals_schema,
)
from goldpan.filter.stopwords import FINEWEB2_STOP_WORDS_CMN_HANI
from goldpan.text.tokenize import is_punct_token, tokens
from tests.fixtures.filter_samples import (
    ELLIPSIS_LIST_EN,
    GOOD_EN,
    GOOD_ZH,
    LOTTERY_TABLE_ZH,
    SHORT_EN,
    SPAM_REPEATED_LINES_EN,
    SPAM_REPEATED_ZH,
    SYMBOL_TABLE_EN,
)

ALL_SAMPLES = [
    (GOOD_EN, "en"),
    (SPAM_REPEATED_LINES_EN, "en"),
    (SYMBOL_TABLE_EN, "en"),
    (SHORT_EN, "en"),
    (ELLIPSIS_LIST_EN, "en"),
    (GOOD_ZH, "zh"),
    (SPAM_REPEATED_ZH, "zh"),
    (LOTTERY_TABLE_ZH, "zh"),
]


# --- Repetition statistics, by hand -----------------------------------------------------------


def test_four_lines_two_duplicates() -> None:
    s = compute_signals("a\nb\na\nb", "en")
    assert s["n_lines"] == 4
    assert s["dup_line_frac"] == 0.5  # 2 of 4 lines repeat an earlier line
    assert s["dup_line_char_frac"] == pytest.approx(2 / 7)  # "a" + "b" over len(text) = 7
    assert s["dup_para_frac"] == 0.0  # one paragraph
    # bigrams "a b", "b a", "a b": the top one covers 2 * len("a b") = 6 of 7 characters
    assert s["top_2gram_char_frac"] == pytest.approx(6 / 7)
    # every trigram is unique: datatrove still counts the first one once (len("a b a") = 5)
    assert s["top_3gram_char_frac"] == pytest.approx(5 / 7)


def test_lines_split_like_datatrove_keep_edge_empty_lines() -> None:
    # re.split(r"\n+") on an unstripped text: ["", "foo", "bar", ""]; the second "" is a duplicate
    s = compute_signals("\nfoo\nbar\n", "en")
    assert s["dup_line_frac"] == 0.25
    assert s["dup_line_char_frac"] == 0.0


def test_paragraph_duplicates() -> None:
    text = "alpha beta\n\ngamma\n\n\nalpha beta\n"
    s = compute_signals(text, "en")
    assert s["dup_para_frac"] == pytest.approx(1 / 3)
    assert s["dup_para_char_frac"] == pytest.approx(len("alpha beta") / len(text))
    # lines "alpha beta", "gamma", "alpha beta", "" -> one duplicate of 4
    assert s["dup_line_frac"] == 0.25


def test_dup_ngrams_jump_past_repeats() -> None:
    text = "a b c d e a b c d e a b c d e"  # 15 tokens, 29 characters
    s = compute_signals(text, "en")
    # 5-grams: the first five are new; index 5 repeats "abcde" (+5, jump to 10), index 10 too (+5)
    assert s["dup_5gram_char_frac"] == pytest.approx(10 / 29)
    # without the jump, indices 5..10 would add 6 * 5 = 30 > len(text)


def test_dup_ngrams_overlapping_run_counted_once() -> None:
    text = "x x x x x x x"  # 7 tokens, 13 characters
    s = compute_signals(text, "en")
    assert s["dup_5gram_char_frac"] == pytest.approx(5 / 13)  # index 1 repeats, jump to 6 = end
    assert s["dup_6gram_char_frac"] == pytest.approx(6 / 13)
    assert s["dup_8gram_char_frac"] == 0.0  # fewer tokens than n


def test_top_ngram_tie_goes_to_first_seen() -> None:
    text = "a b ccc dd a b ccc dd"  # 21 characters; "a b", "b ccc", "ccc dd" all occur twice
    s = compute_signals(text, "en")
    assert s["top_2gram_char_frac"] == pytest.approx(2 * len("a b") / 21)  # not 2 * len("ccc dd")


def test_cjk_ngrams_are_characters_joined_without_spaces() -> None:
    s = compute_signals("中国中国", "zh")
    # "中国" twice covers all 4 characters; joining with " " would claim 6 of 4
    assert s["top_2gram_char_frac"] == 1.0
    s = compute_signals("一二三四五一二三四五", "zh")
    assert s["dup_5gram_char_frac"] == 0.5


# --- Quality statistics, by hand --------------------------------------------------------------


def test_hash_ratio_over_all_tokens_and_words_exclude_symbols() -> None:
    s = compute_signals("# a # b", "en")
    assert s["n_tokens"] == 4
    assert s["n_words"] == 2  # "#" is a symbol, not a word
    assert s["hash_word_ratio"] == 0.5  # 2 "#" / 4 tokens (datatrove divides by all tokens)
    assert s["mean_word_length"] == 1.0


def test_ellipsis_ratio_counts_both_forms() -> None:
    s = compute_signals("wait... what… ok", "en")  # tokens: wait ... what … ok
    assert s["ellipsis_word_ratio"] == pytest.approx(2 / 5)
    assert s["n_words"] == 3
    assert s["mean_word_length"] == pytest.approx((4 + 4 + 2) / 3)


def test_bullet_and_ellipsis_lines() -> None:
    s = compute_signals("• one\n  - two\nthree", "en")
    assert s["bullet_lines_ratio"] == pytest.approx(2 / 3)
    s = compute_signals("first...\nsecond…  \nthird\nfourth", "en")
    assert s["ellipsis_lines_ratio"] == 0.5
    assert s["n_lines"] == 4


def test_alpha_ratio_counts_punctuation_in_denominator() -> None:
    s = compute_signals("abc 123 4x .", "en")  # abc, 4x have letters; 123 and "." do not
    assert s["alpha_words_ratio"] == 0.5


def test_stop_words_are_distinct_and_case_sensitive() -> None:
    assert compute_signals("the the the of", "en")["stop_words_count"] == 2
    assert compute_signals("The Of and", "en")["stop_words_count"] == 1  # like datatrove's set test
    # German uses FineWeb-2's German list, not English; no list at all (Yoruba): null, never English
    assert compute_signals("der die das und the of", "de")["stop_words_count"] == 4
    assert compute_signals("der die das und the of", "de")["stop_words_ratio"] == pytest.approx(4 / 6)
    assert compute_signals("der die das und the of", "yo")["stop_words_count"] is None


def test_chinese_words_are_characters() -> None:
    s = compute_signals("我们的城市。", "zh")
    assert s["n_tokens"] == 6
    assert s["n_words"] == 5
    assert s["mean_word_length"] == 1.0
    assert s["alpha_words_ratio"] == pytest.approx(5 / 6)  # "。" is not a word with letters
    assert s["stop_words_count"] == 1  # 的


def test_chinese_stop_words_from_fineweb2_list() -> None:
    assert len(FINEWEB2_STOP_WORDS_CMN_HANI) == 22 and {"的", "是", "\u00b7", "為", "为"} <= set(
        FINEWEB2_STOP_WORDS_CMN_HANI
    )
    s = compute_signals(GOOD_ZH, "zh")
    assert s["stop_words_count"] >= 10
    # the same list applies to regional spellings of the language code
    assert compute_signals(GOOD_ZH, "zh-Hant")["stop_words_count"] == s["stop_words_count"]
    assert compute_signals(GOOD_ZH, "zh_Hans")["stop_words_count"] == s["stop_words_count"]


def test_cjk_alpha_not_fooled_like_whitespace_isalpha() -> None:
    # A lottery table: every whitespace chunk contains a Han character, so whitespace words +
    # str.isalpha (English-style processing) rate it as clean prose.
    chunks = LOTTERY_TABLE_ZH.split()
    naive = sum(any(c.isalpha() for c in w) for w in chunks) / len(chunks)
    assert naive == 1.0
    s = compute_signals(LOTTERY_TABLE_ZH, "zh")
    assert s["alpha_words_ratio"] < 0.5  # per character, digits and symbols dominate


def test_cjk_alpha_ignores_mojibake_letters() -> None:
    # UTF-8 Chinese decoded as Latin-1: isalpha() is true for ä, æ, ç... but none is a CJK letter
    # or an ASCII letter, so none counts as a word with letters on a Chinese page.
    garbled = "中文网页的编码出错了".encode().decode("latin-1")
    toks = tokens(garbled, "zh")
    assert sum(any(c.isalpha() for c in t) for t in toks) > 0
    assert compute_signals(garbled, "zh")["alpha_words_ratio"] == 0.0
    # ASCII words and pinyin inside Chinese text do count
    s = compute_signals("我用iPhone拍照，Běijīng。", "zh")
    # tokens: 我 用 iPhone 拍 照 ， Běijīng 。 -> 6 of 8 have letters
    assert s["alpha_words_ratio"] == pytest.approx(6 / 8)


def test_empty_text_gives_zeros_not_nan() -> None:
    s = compute_signals("", "en")
    assert s["n_words"] == 0 and s["n_chars"] == 0
    # recurring word pairs need >= 200 pairs to be judged: null (the rule passes), never NaN
    too_short = {"recurring_bigram_share", "prose_recurring_bigram_share"}
    assert all(s[k] is None for k in too_short)
    assert all(v == 0 for k, v in s.items() if k != "stop_words_count" and k not in too_short)
    assert s["stop_words_count"] == 0


# --- Agreement with an independent, literal reading of datatrove's filters --------------------


def _oracle(text: str, lang: str) -> dict[str, float]:
    """Straight-line re-statement of datatrove's Gopher filters over the same tokens."""
    toks = tokens(text, lang)
    cjk = lang == "zh"
    words = [t for t in toks if not is_punct_token(t)]
    out: dict[str, float] = {}
    out["n_words"] = len(words)
    out["mean_word_length"] = sum(map(len, words)) / len(words)
    out["hash_word_ratio"] = text.count("#") / len(toks)
    out["ellipsis_word_ratio"] = (text.count("...") + text.count("…")) / len(toks)
    lines = text.splitlines()
    out["bullet_lines_ratio"] = sum(l.lstrip()[:1] in ("•", "-") for l in lines) / len(lines)
    out["ellipsis_lines_ratio"] = sum(
        l.rstrip()[-3:] == "..." or l.rstrip()[-1:] == "…" for l in lines
    ) / len(lines)
    if not cjk:
        out["alpha_words_ratio"] = sum(any(c.isalpha() for c in t) for t in toks) / len(toks)

    def dups(items: list[str]) -> tuple[int, int]:
        n = chars = 0
        for i, item in enumerate(items):
            if item in items[:i]:
                n += 1
                chars += len(item)
        return n, chars

    paras = re.split(r"\n{2,}", text.strip())
    n, chars = dups(paras)
    out["dup_para_frac"], out["dup_para_char_frac"] = n / len(paras), chars / len(text)
    rlines = re.split(r"\n+", text)
    n, chars = dups(rlines)
    out["dup_line_frac"], out["dup_line_char_frac"] = n / len(rlines), chars / len(text)
    sep = "" if cjk else " "
    for n in (2, 3, 4):
        grams = [sep.join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
        gram, count = Counter(grams).most_common(1)[0]
        out[f"top_{n}gram_char_frac"] = len(gram) * count / len(text)
    for n in range(5, 11):
        seen: set[str] = set()
        rep = i = 0
        while i <= len(toks) - n:
            g = "".join(toks[i : i + n])
            if g in seen:
                rep += len(g)
                i += n
            else:
                seen.add(g)
                i += 1
        out[f"dup_{n}gram_char_frac"] = rep / len(text)
    return out


@pytest.mark.parametrize("text,lang", ALL_SAMPLES)
def test_matches_literal_datatrove_reading(text: str, lang: str) -> None:
    got = compute_signals(text, lang)
    for key, expected in _oracle(text, lang).items():
        assert got[key] == pytest.approx(expected), key


# --- Batch and schema -------------------------------------------------------------------------


def test_schema_has_ids_then_every_signal_in_order() -> None:
    schema = signals_schema()
    assert schema.names[:6] == ["doc_id", "batch_id", "lang", "signals_version", "status", "error"]
    assert schema.names[6:] == list(SIGNAL_NAMES)
    # 26 Gopher-style + 14 C4 + 5 FineWeb + 7 machine-made-page signals, again over the prose lines,
    # + 2 code + 3 PII
    assert len(SIGNAL_COLUMNS) == 52 * 2 + 2 + 3
    assert schema.field("n_words").type == pa.int64()
    assert schema.field("dup_10gram_char_frac").type == pa.float64()
    assert set(compute_signals(GOOD_EN, "en")) == set(SIGNAL_NAMES)


def test_batch_keeps_every_row_and_turns_failures_into_error_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [
        {"doc_id": "d1", "batch_id": "b1", "lang": "en", "text": GOOD_EN},
        {"doc_id": "d2", "batch_id": "b1", "lang": "zh", "text": None},  # no text at all
        {"doc_id": "d3", "batch_id": "b1", "lang": "zh", "text": GOOD_ZH},
        {"doc_id": "d4", "batch_id": "b1", "lang": "en", "text": "explode here please"},
    ]
    real_tokenizer_for = sigmod.tokenizer_for

    def flaky_tokenizer_for(text: str, lang: str | None):
        if "explode" in text:
            raise RuntimeError("tokeniser blew up")
        return real_tokenizer_for(text, lang)

    monkeypatch.setattr(sigmod, "tokenizer_for", flaky_tokenizer_for)
    batch = compute_signal_batch(iter(records))
    assert batch.schema == signals_schema()
    rows = batch.to_pylist()
    assert [r["doc_id"] for r in rows] == ["d1", "d2", "d3", "d4"]
    assert [r["status"] for r in rows] == ["kept", "error", "kept", "error"]
    assert rows[1]["error"].startswith("TypeError")
    assert rows[3]["error"] == "RuntimeError: tokeniser blew up"
    assert all(rows[i][name] is None for i in (1, 3) for name in SIGNAL_NAMES)
    assert rows[0]["error"] is None and rows[0]["n_words"] == compute_signals(GOOD_EN, "en")["n_words"]
    assert {r["signals_version"] for r in rows} == {SIGNALS_VERSION}
    assert rows[2]["lang"] == "zh" and rows[2]["mean_word_length"] == pytest.approx(1.0, abs=0.05)


def test_empty_batch() -> None:
    batch = compute_signal_batch([])
    assert batch.num_rows == 0 and batch.schema == signals_schema()
