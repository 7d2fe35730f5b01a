"""Measure the planted properties of the sample site (run: .venv/bin/python sample/site/_tools/measure.py).

Why: sample/README.md states what each page is for and which rule should reject it. This script
checks those claims the way the pipeline will see the pages - bytes decoded with the HTML meta
charset, main content extracted by Resiliparse - and prints the numbers quoted in the README:
size of each extract, Jaccard similarity of the duplicate pairs, and which Gopher rules the
English pages trip. The Gopher checks here are a compact re-statement of the published
thresholds (as in datatrove's GopherQualityFilter / GopherRepetitionFilter), for measurement only;
the pipeline's own filter is the authority.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

SITE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SITE.parent.parent))
from goldpan.text.tokenize import words as gp_words

EXACT_DUPS = [
    ("en/articles/first-loaf.html", "en/print/first-loaf.html"),
    ("en/articles/bike-check.html", "mirror/bike-check.html"),
    ("zh/articles/green-tea.html", "zh/print/green-tea.html"),
]
NEAR_DUPS = [
    ("en/articles/canal-history.html", "en/news/canal-history-reprint.html", "en"),
    ("en/articles/home-wifi.html", "en/articles/home-wifi-updated.html", "en"),
    ("zh/articles/tomato-egg.html", "zh/articles/tomato-egg-repost.html", "zh"),
]


def extract(rel: str) -> str:
    data = (SITE / rel).read_bytes()
    enc = detect_encoding(data, from_html_meta=True)
    return extract_plain_text(bytes_to_str(data, enc), main_content=True)


def shingles(text: str, lang: str, n: int = 5) -> set[tuple[str, ...]]:
    """Word 5-grams for English (lower-cased \\w+ words), character 5-grams for Chinese."""
    toks = re.findall(r"\w+", text.lower()) if lang == "en" else [c for c in text if not c.isspace()]
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def changed_fraction(a: str, b: str, lang: str) -> float:
    """Share of tokens that differ (difflib opcodes), relative to the original's length."""
    import difflib

    ta = re.findall(r"\w+", a.lower()) if lang == "en" else [c for c in a if not c.isspace()]
    tb = re.findall(r"\w+", b.lower()) if lang == "en" else [c for c in b if not c.isspace()]
    sm = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    changed = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")
    return changed / len(ta)


def gopher_failures(text: str, lang: str) -> list[str]:
    """Names of the rules the pipeline's own filter (goldpan.filter, default RuleSet) fails."""
    from goldpan.filter import RuleSet, compute_signals

    return [f.rule for f in RuleSet.default().evaluate(None, lang, compute_signals(text, lang))]


def main() -> None:
    pages = sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
    )
    print(f"{'page':45} {'chars':>6} {'words':>6} {'cjk':>5}  rules failed (goldpan.filter)")
    for rel in pages:
        text = extract(rel)
        lang = rel.split("/")[0] if rel.startswith(("zh/", "de/")) else "en"
        cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
        nw = len(gp_words(text, lang)) if lang != "zh" else 0
        g = (", ".join(gopher_failures(text, lang)) or "pass") if text.strip() else "(empty extract)"
        print(f"{rel:45} {len(text):6} {nw:6} {cjk:5}  {g}")
    print()
    for a, b in EXACT_DUPS:
        ta, tb = extract(a), extract(b)
        print(f"exact  {a} == {b}: {ta == tb} ({len(ta)} chars)")
    for a, b, lang in NEAR_DUPS:
        ta, tb = extract(a), extract(b)
        print(
            f"near   {a} ~ {b}: jaccard5={jaccard(shingles(ta, lang), shingles(tb, lang)):.3f} "
            f"changed={changed_fraction(ta, tb, lang):.1%} identical={ta == tb}"
        )


if __name__ == "__main__":
    main()
