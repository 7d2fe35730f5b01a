"""The disk cache of compiled huge regexes (goldpan.text.regex_cache): a pattern served from the
cache is the pattern `re` compiles (same program, same matches), a bad file is compiled as usual,
and the switch turns it off."""

from __future__ import annotations

import re

import pytest

from goldpan.text import regex_cache
from goldpan.text.regex_cache import cached_compiles

WORDS = ["porte-monnaie", "aujourd'hui", "faux-vampire", "Zürich", "naïve", "ελληνικά", "entr'abat", "saut-de-ski"]


def _pattern(tag: str) -> str:
    # A case-insensitive alternation over Unicode classes, as spaCy's French TOKEN_MATCH is (smaller).
    alts = [f"^{w[:3]}[-‐‑][{tag}a-zà-ÿα-ω]+$" for w in ["por", "fau", "sau", "ent", "zur", "nai", "ell"] * 40]
    return "(?iu)" + "|".join(f"(?:{a})" for a in alts) + f"|(?:{tag})"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GOLDPAN_REGEX_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(regex_cache, "MIN_PATTERN_CHARS", 1000)
    return tmp_path


def test_a_recorded_pattern_is_served_from_the_cache_and_matches_as_compiled(cache):
    pattern = _pattern("x1")
    assert len(pattern) >= 1000
    reference = re._compiler.compile(pattern, 0)  # type: ignore[attr-defined]  -- bypasses re's cache
    re.purge()
    with cached_compiles("t"):
        first = re.compile(pattern)
    files = list(cache.rglob("t.json"))
    assert len(files) == 1
    re.purge()
    with cached_compiles("t"):
        served = re.compile(pattern)
    assert served is not first  # built from the file, not left over in re's cache
    for p in (first, served):
        assert (p.pattern, p.flags, p.groups) == (reference.pattern, reference.flags, reference.groups)
        for w in WORDS + [w.upper() for w in WORDS] + ["x1", "X1", "por-", "por-a"]:
            assert bool(p.match(w)) == bool(reference.match(w)), w
    # a short pattern is compiled as usual and never written
    re.purge()
    with cached_compiles("short"):
        re.compile("(?i)abc")
    assert not list(cache.rglob("short.json"))


def test_a_damaged_cache_file_is_compiled_as_usual_and_rewritten(cache):
    pattern = _pattern("x2")
    re.purge()
    with cached_compiles("d"):
        re.compile(pattern)
    (path,) = cache.rglob("d.json")
    text = path.read_text()
    path.write_text(text.replace('"args": [', '"args": [1, ', 1))  # a malformed program
    re.purge()
    with cached_compiles("d"):
        again = re.compile(pattern)
    assert again.match("por-abc") and not again.match("por")
    path.write_text("{not json")
    re.purge()
    with cached_compiles("d"):
        assert re.compile(pattern).match("X2")


def test_switched_off_nothing_is_written(cache, monkeypatch):
    monkeypatch.setenv("GOLDPAN_REGEX_CACHE", "0")
    re.purge()
    with cached_compiles("off"):
        re.compile(_pattern("x3"))
    assert not list(cache.rglob("*.json"))


def test_french_rules_are_the_same_with_and_without_the_cache(tmp_path, monkeypatch):
    """spaCy's French token_match rebuilt from the cache is spaCy's own pattern (the real one, 1.45 MB)."""
    import spacy.lang.fr.tokenizer_exceptions as fr

    monkeypatch.setenv("GOLDPAN_REGEX_CACHE_DIR", str(tmp_path))
    original = fr.TOKEN_MATCH.__self__
    args = regex_cache._compile_args(original.pattern, 0)
    rebuilt = regex_cache._build(args)
    assert (rebuilt.pattern, rebuilt.flags) == (original.pattern, original.flags)
    for w in WORDS + ["Porte-Monnaie", "grand'mère", "New-York", "hip-hop", "prud'homme", "bonjour"]:
        assert bool(rebuilt.match(w)) == bool(original.match(w)), w


def test_a_languages_affix_rules_come_from_the_cache_and_tokenize_alike(tmp_path, monkeypatch):
    """German's prefix, suffix and infix patterns are recorded on first use and served after: the
    rules built from the file are the compiled ones and split real German text the same way."""
    from goldpan.text.spacy_fast import FastChunkTokenizer
    from goldpan.text.spacy_rules import AFFIX_PATTERN_MIN_CHARS, SpacyRules

    monkeypatch.setenv("GOLDPAN_REGEX_CACHE_DIR", str(tmp_path))
    re.purge()
    compiled = SpacyRules("de")
    files = list(tmp_path.rglob("spacy-lang-de.json"))
    assert len(files) == 1
    recorded = {p for p, _, _ in regex_cache._load(files[0])}
    affixes = {compiled.prefix_search.__self__.pattern, compiled.suffix_search.__self__.pattern,
               compiled.infix_finditer.__self__.pattern}
    assert all(len(p) >= AFFIX_PATTERN_MIN_CHARS for p in affixes)
    assert affixes <= recorded
    re.purge()
    served = SpacyRules("de")
    assert served.suffix_search.__self__ is not compiled.suffix_search.__self__  # rebuilt from the file
    text = ("Die Straßenbahn (Linie 7) fährt um 8.30 Uhr ab, z.B. nach Köln-Ehrenfeld; "
            "„Ja!“, sagte sie – und ging. Preis: 3,50€/Stück, ca. 20% günstiger als 2023.")
    fast_a, fast_b = FastChunkTokenizer(compiled), FastChunkTokenizer(served)
    for chunk in text.split():
        assert served.tokens(chunk) == compiled.tokens(chunk), chunk
        assert fast_b(chunk) == fast_a(chunk), chunk
