"""The fast chunk tokenizer (goldpan.text.spacy_fast) gives exactly spaCy's tokens, or declines.

Real spaCy runs on both sides: every unique whitespace chunk of the shipped reference text
(goldpan/data/reference/*.jsonl, English and Chinese) and of the sample site's pages, plus
hand-written adversarial strings, is tokenised by plain `nlp.tokenizer(chunk)` and by the fast
path; any answer the fast path gives must be identical (same strings, same order).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import spacy

from goldpan.text.spacy_fast import (
    FastChunkTokenizer,
    _all_alternatives_anchored,
    _edge_chars,
    _SuffixDispatch,
)
from goldpan.text.tokenize import spacy_chunk_tokens, tokenizer_for, tokens

ROOT = Path(__file__).resolve().parents[2]

ADVERSARIAL = """
https://example.com/a/b?c=d&e=f#frag http://localhost:8080/ www.example.org/path. (https://x.io/y),
ftp://files.example.net/pub/ mailto:someone@example.com someone@example.com <a.b+c@d.co.uk>
:) :-) ;) :( :P <3 ^_^ (: :'( =) xD :D :-D 8) ;-) ¯\\_(ツ)_/¯ (:-)) ':)'
don't Don't DON'T can't cannot won't shan't y'all ain't I'm i'm Im it's It’s she'd we've they'll
dont cant wont gonna gotta wanna lemme 'cause 'em o'clock rock'n'roll ma'am
U.S. U.S.A. U.K. e.g. i.e. etc. vs. Dr. Mr. Mrs. Ms. Prof. Jan. Feb. a.m. p.m. 5a.m. 5p.m. No. Nos.
A. B. x. ABC. AB. Abc. abc. (U.S.) "U.S." U.S.), (e.g., i.e., etc.). Mt. St. Inc. Ltd. Co.
5km 10kg 3.5cm 100m 2mph 12GB 1TB 5° 20°C 20°F. 98.6°F 5% 50%, $5 $5.00 US$10 C$5 €10 £3.50 ¥100
5$ 10€ 3.14 1,000 1,000,000 -5 +5 5+3 5-3 2*3 2^8 1/2 3:30 9:30pm 12:00 1e10 0x1F 1st 2nd 3rd 4th
well-known state-of-the-art e-mail re-use x-ray A-1 1-2 self-driving co-op Jean-Luc T-shirt
word--word word---word word—word word–word a~b a/b a:b a<b a=b a>b foo.Bar foo,bar
"quoted" 'single' “curly” ‘curly’ «guillemets» „low“ (paren) [bracket] {brace} <angle>
... .... ..word word... word…. … ‥ !!! ??? ?! !? word!? (word). "word," 'word'. (word)," [1] [12].
¿Qué? ¡Hola! naïve café résumé Zürich São Ελληνικά русский язык ½ ¼ ™ © ® § ¶ † ‡ • · →
中文English混合 Python3.11 3.11版本 用Python写 你好，world。 「引用」 『二重』 （全角） 【注】
None) /etc UTF-8 utf-8. os.path.join() __init__ self.x=1 a[i] f(x) {'a': 1} x!=y x==y a&&b a||b
#hashtag @mention #1 C++ C# F# .NET node.js v1.2.3 ~/.bashrc C:\\Windows\\ %PATH% $HOME 'n' 's
'S 's. Mike's Mikes' James's it's. its' ’s ’S n't N'T 'll 've 're 'd 'm o.O O.o -_- x_x
)( )) (( ,, ;; :: -- —— '' "" `` ´´ ’’ ‘‘ .) ,) :) .( ." ", .' ', ?" !" ?' !' ?) !) .] .}
A.B.C. a.b.c a.b. Ph.D. Ph.D Ph.D.s M.Sc. B.A.). (approx. approx.) vol. pp. ch. fig. Fig. eq.
"""

# The module's fast path is worth nothing if it declines everything: on real text it must answer
# most unique chunks itself.
MIN_ANSWERED_SHARE = 0.8


def _reference_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "goldpan" / "data" / "reference").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            texts.extend(json.loads(line)["text"] for line in f if line.strip())
    return texts


def _sample_site_texts() -> list[str]:
    # Tag-stripped HTML: keeps the page's real prose and its markup-ish chunks (both are useful).
    texts = []
    for path in sorted((ROOT / "sample" / "site").rglob("*.html")):
        html = path.read_text(encoding="utf-8", errors="replace")
        texts.append(re.sub(r"<[^>]+>", " ", html))
    return texts


def _unique_chunks(texts: list[str]) -> list[str]:
    return sorted({c for t in texts for c in t.split()})


@pytest.fixture(scope="module")
def en_tokenizer():
    return spacy.blank("en").tokenizer


def _assert_exact(fast: FastChunkTokenizer, tok, chunks: list[str]) -> int:
    """Every answer equals spaCy's; returns how many chunks the fast path answered."""
    answered = 0
    mismatches = []
    for chunk in chunks:
        got = fast(chunk)
        if got is None:
            continue
        answered += 1
        want = [t.text for t in tok(chunk)]
        if got != want:
            mismatches.append((chunk, got, want))
    assert mismatches == []
    return answered


def test_fast_path_equals_spacy_on_reference_corpus(en_tokenizer):
    chunks = _unique_chunks(_reference_texts())
    assert len(chunks) > 20_000  # a real, diverse corpus, not a handful of words
    fast = FastChunkTokenizer(en_tokenizer, english_shortcut=True)
    answered = _assert_exact(fast, en_tokenizer, chunks)
    assert answered / len(chunks) > MIN_ANSWERED_SHARE


def test_fast_path_equals_spacy_on_sample_site(en_tokenizer):
    chunks = _unique_chunks(_sample_site_texts())
    assert len(chunks) > 1_000
    _assert_exact(FastChunkTokenizer(en_tokenizer, english_shortcut=True), en_tokenizer, chunks)


def test_fast_path_equals_spacy_on_adversarial_strings(en_tokenizer):
    chunks = _unique_chunks([ADVERSARIAL])
    fast = FastChunkTokenizer(en_tokenizer, english_shortcut=True)
    _assert_exact(fast, en_tokenizer, chunks)
    # Without the English shortcut (the replay alone) the answers are exact too.
    _assert_exact(FastChunkTokenizer(en_tokenizer), en_tokenizer, chunks)


def test_special_cases_are_replayed_and_matcher_merges_declined(en_tokenizer):
    fast = FastChunkTokenizer(en_tokenizer, english_shortcut=True)
    # Rule keys met by the affix loop are replayed with the rule's tokens, exactly as spaCy does.
    for chunk in [
        "don't",
        "p.m.",
        ":)",
        "cannot",
        "Dr.",
        "(Dr.)",
        "e.g.,",
        "gonna",
        "'s",
        "(a.m.)",
        "(don't).",
    ]:
        assert fast(chunk) == spacy_chunk_tokens(chunk, "en"), chunk
    # Runs of tokens that spaCy's special-case matcher would merge afterwards ("):" and ":)" are
    # emoticon rules) are left to spaCy.
    for chunk in ["project):", "elem:)", "f(x):"]:
        assert fast(chunk) is None, chunk
        assert "):" in spacy_chunk_tokens(chunk, "en") or ":)" in spacy_chunk_tokens(chunk, "en")
    # ...while the common shapes are answered, and correctly ("U.S." is not a rule: no affix applies).
    for chunk, want in [
        ("word", ["word"]),
        ("U.S.", ["U.S."]),
        ("word.", ["word", "."]),
        ("(word),", ["(", "word", ")", ","]),
        ("well-known", ["well", "-", "known"]),
        ("UTF-8", ["UTF-8"]),
        ("None)", ["None", ")"]),
        ("/etc", ["/etc"]),
        ("5km", ["5", "km"]),
        ("$5.00", ["$", "5.00"]),
        ("https://example.com/a.", ["https://example.com/a", "."]),
    ]:
        assert fast(chunk) == want == spacy_chunk_tokens(chunk, "en"), chunk


@pytest.mark.parametrize("lang", ["xx", "de", "fr"])
def test_replay_is_exact_for_other_languages(lang):
    tok = spacy.blank(lang).tokenizer
    chunks = _unique_chunks([ADVERSARIAL, *_reference_texts()[:300]])
    _assert_exact(FastChunkTokenizer(tok), tok, chunks)


def test_document_tokens_equal_plain_spacy_on_real_text():
    # The public API end to end (cache + fast path + fallback) against one spaCy call per document.
    tok = spacy.blank("en").tokenizer
    texts = [t for t in _reference_texts() if not re.search(r"[\u4e00-\u9fff]", t)][:200] + [ADVERSARIAL]
    for text in texts:
        assert tokens(text, "en") == [t.text for t in tok(text) if not t.is_space]
        split = tokenizer_for(text, "en")
        assert [t for line in text.split("\n") for t in split(line)] == tokens(text, "en")


def test_prefix_pattern_anchoring_check():
    assert _all_alternatives_anchored(r"^a|^\||^[|]|^(x|y)")
    assert not _all_alternatives_anchored(r"^a|b")
    assert not _all_alternatives_anchored(r"^a|(^b)")


def test_pattern_analysis_edge_characters_and_suffix_dispatch(en_tokenizer):
    assert _edge_chars(re.compile(r"ab$|(?<=[0-9])(?:km|m)$|\.\.+$").search, last=True) == set("bm.")
    assert _edge_chars(re.compile(r"(?<=x)-(?=y)|[+*]").search, last=False) == set("-+*")
    assert _edge_chars(re.compile(r"a*$").search, last=True) is None  # can match empty
    assert _edge_chars(re.compile(r"\w$").search, last=True) is None  # categories not modelled
    # The per-last-character restriction of spaCy's suffix regex finds exactly what the full one does.
    dispatch = _SuffixDispatch(en_tokenizer.suffix_search)
    chunks = _unique_chunks([ADVERSARIAL, *_reference_texts()[:200]])
    for chunk in chunks:
        full = en_tokenizer.suffix_search(chunk)
        search = dispatch(chunk[-1])
        part = search(chunk) if search is not None else None
        assert (full.span() if full else None) == (part.span() if part else None), chunk


def test_english_shortcut_shapes_exhaustively(en_tokenizer):
    # Every prefix x core x suffix combination the shortcut regex accepts, on cores that stress the
    # context-dependent rules: single letters (ABBR "A." vs "a."), capitals, digits, rule words.
    words = sorted({w for t in _reference_texts()[:150] for w in re.findall(r"\b[A-Za-z]+\b|\b[0-9]+\b", t)})
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [
        chr(c) for c in range(ord("A"), ord("Z") + 1)
    ]
    cores = letters + [str(i) for i in range(12)] + ["cannot", "Im", "gonna", "Dr", "US", "am", "pm", "St"]
    cores += words[::7]
    fast = FastChunkTokenizer(en_tokenizer, english_shortcut=True)
    chunks = [p + c + s for p in ["", "(", "[", '"', "“"] for c in cores for s in ["", *',;:!?)]"”.']]
    assert len(chunks) > 5_000
    _assert_exact(fast, en_tokenizer, chunks)


def test_suffix_dispatch_keeps_the_full_pattern_under_global_flags():
    search = re.compile(r"(?i)ab$|cd$").search
    dispatch = _SuffixDispatch(search)
    assert dispatch("B") is search and dispatch("D") is search  # not a case-sensitive subset
    assert dispatch("B")("xAB").span() == (1, 3)


# Indonesian (15,963 exceptions, many hyphenated reduplications) and Dutch (4,670) are the two whose
# tokenizer build dominated a worker's set-up; English and French carry the emoticon and elision rules.
RULES_LANGS = ["en", "id", "nl", "fr", "de", "xx"]
# Chunks that reach spaCy's special-case matcher, exception keys inside longer chunks, and the
# reduplications Indonesian lists as exceptions.
RULE_CHUNKS = ["project):", "elem:)", "f(x):", "(don't).", "x:)y", "anak-anak", "(anak-anak),", "buku-buku.",
               "mata-mata:", "a.m.):", "etc.):", "z.B.", "(z.B.),", "d.w.z.", "o.a.):", "aujourd'hui", "l'homme:)"]


def _spacy_examples(lang: str) -> list[str]:
    """The example sentences spaCy ships for the language (real text in it), if any."""
    import importlib

    try:
        return list(importlib.import_module(f"spacy.lang.{lang}.examples").sentences)
    except (ImportError, AttributeError):
        return []


@pytest.mark.parametrize("lang", RULES_LANGS)
def test_rules_from_the_language_defaults_are_the_built_tokenizer_s(lang):
    """SpacyRules (no tokenizer build) holds the same patterns and exceptions as spacy.blank's
    tokenizer, and its spaCy call on one chunk, holding only the exceptions found in that chunk,
    gives the full tokenizer's tokens: on every chunk the fast path declines and on all the others."""
    from goldpan.text.spacy_rules import SpacyRules

    tok = spacy.blank(lang).tokenizer
    rules = SpacyRules(lang)
    assert set(rules.rules) == set(tok.rules)
    for name in ("prefix_search", "suffix_search", "infix_finditer"):
        assert getattr(rules, name).__self__.pattern == getattr(tok, name).__self__.pattern
    assert (rules.token_match, rules.url_match) == (tok.token_match, tok.url_match)
    chunks = _unique_chunks([ADVERSARIAL, " ".join(RULE_CHUNKS), *_reference_texts()[:300], *_spacy_examples(lang)])
    fast = FastChunkTokenizer(rules, english_shortcut=lang == "en")
    declined = [c for c in chunks if fast(c) is None]
    assert declined  # the matcher cases above are declined, so the spaCy path below is exercised
    for chunk in declined + chunks[::7]:
        assert rules.tokens(chunk) == [t.text for t in tok(chunk)], chunk
    _assert_exact(fast, tok, chunks)


def test_unknown_and_non_rule_languages_keep_the_built_tokenizer_s_fallback():
    """A code spaCy does not know uses the multi-language rules, as before; a language with its own
    tokenizer (Chinese) is not a rule-based one."""
    from goldpan.text.spacy_rules import NotRuleBased, SpacyRules
    from goldpan.text.tokenize import _chunk_rules

    rules, lang, _ = _chunk_rules("zz")
    assert lang == "xx" and set(rules.rules) == set(spacy.blank("xx").tokenizer.rules)
    with pytest.raises(NotRuleBased):
        SpacyRules("zh")
    text = "Selamat pagi, anak-anak! Buku-buku itu (mata-mata) ada di meja :)"
    ref = spacy.blank("id").tokenizer
    assert tokens(text, "id") == [t.text for t in ref(text) if not t.is_space]


def test_the_per_chunk_spacy_tokenizers_are_bounded_and_stay_exact(monkeypatch):
    """Declined chunks with different exceptions in them each get a small spaCy tokenizer; only the
    last MAX_TOKENIZERS are kept, and an evicted one is rebuilt with the same tokens."""
    from goldpan.text import spacy_rules

    monkeypatch.setattr(spacy_rules, "MAX_TOKENIZERS", 2)
    rules, ref = spacy_rules.SpacyRules("en"), spacy.blank("en").tokenizer
    chunks = ["project):", "(don't):)", "etc.):", "a.m.):", "project):", "Dr.:)"]
    for chunk in chunks + chunks[::-1]:
        assert rules.tokens(chunk) == [t.text for t in ref(chunk)], chunk
        assert len(rules._tokenizers) <= 2
    for chunk in chunks:  # the keys found are exactly the exception keys that occur in the chunk
        assert rules._keys_in(chunk) == {k for k in rules.rules if k in chunk} and rules._keys_in(chunk)
