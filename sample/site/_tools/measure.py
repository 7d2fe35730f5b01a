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
from collections import Counter
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
STOP_WORDS = {"the", "be", "to", "of", "and", "that", "have", "with"}


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


def gopher_failures(text: str) -> list[str]:
    """Names of the Gopher quality/repetition rules that `text` fails (English only)."""
    fails: list[str] = []
    lines = [ln for ln in text.split("\n") if ln.strip()]
    paras = [p for p in re.split(r"\n{2,}", text.strip()) if p.strip()]
    # Repetition.
    if lines and (len(lines) - len(set(lines))) / len(lines) > 0.3:
        fails.append("dup_line_frac>0.3")
    dup_line_chars = sum(len(ln) for ln, c in Counter(lines).items() for _ in range(c - 1))
    if dup_line_chars / max(1, len(text)) > 0.2:
        fails.append("dup_line_char_frac>0.2")
    if paras and (len(paras) - len(set(paras))) / len(paras) > 0.3:
        fails.append("dup_para_frac>0.3")
    ws = gp_words(text, "en")
    lw = [w.lower() for w in ws]
    for n, cap in ((2, 0.2), (3, 0.18), (4, 0.16)):
        grams = Counter(tuple(lw[i : i + n]) for i in range(len(lw) - n + 1))
        if grams:
            top, count = grams.most_common(1)[0]
            if count > 1 and sum(len(w) for w in top) * count / max(1, sum(len(w) for w in lw)) > cap:
                fails.append(f"top_{n}gram>{cap}")
                break
    for n, cap in ((5, 0.15), (10, 0.10)):
        grams = [tuple(lw[i : i + n]) for i in range(len(lw) - n + 1)]
        seen: set = set()
        dup_idx: set[int] = set()
        for i, g in enumerate(grams):
            if g in seen:
                dup_idx.update(range(i, i + n))
            seen.add(g)
        if lw and sum(len(lw[i]) for i in dup_idx) / sum(len(w) for w in lw) > cap:
            fails.append(f"dup_{n}gram>{cap}")
            break
    # Quality.
    n = len(ws)
    if n < 50:
        fails.append(f"words<50 ({n})")
    if n:
        mean = sum(len(w) for w in ws) / n
        if not 3 <= mean <= 10:
            fails.append(f"mean_word_len={mean:.1f}")
        if (text.count("#") + text.count("...") + text.count("\u2026")) / n > 0.1:
            fails.append("symbol_ratio>0.1")
        if sum(1 for w in ws if any(c.isalpha() for c in w)) / n < 0.8:
            fails.append(f"alpha_words={sum(1 for w in ws if any(c.isalpha() for c in w)) / n:.2f}<0.8")
        if sum(1 for w in lw if w in STOP_WORDS) < 2:
            fails.append("stop_words<2")
    if lines:
        if sum(1 for ln in lines if ln.lstrip().startswith(("\u2022", "-", "*"))) / len(lines) > 0.9:
            fails.append("bullet_lines>0.9")
        if sum(1 for ln in lines if ln.rstrip().endswith(("...", "\u2026"))) / len(lines) > 0.3:
            fails.append("ellipsis_lines>0.3")
    return fails


def main() -> None:
    pages = sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
    )
    print(f"{'page':45} {'chars':>6} {'words':>6} {'cjk':>5}  gopher (English pages)")
    for rel in pages:
        text = extract(rel)
        cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
        nw = len(gp_words(text, "en")) if not cjk else 0
        g = "" if cjk else (", ".join(gopher_failures(text)) or "pass")
        print(f"{rel:45} {len(text):6} {nw:6} {cjk:5}  {g}")
    print()
    for a, b in EXACT_DUPS:
        ta, tb = extract(a), extract(b)
        print(f"exact  {a} == {b}: {ta == tb} ({len(ta)} chars)")
    for a, b, lang in NEAR_DUPS:
        ta, tb = extract(a), extract(b)
        print(f"near   {a} ~ {b}: jaccard5={jaccard(shingles(ta, lang), shingles(tb, lang)):.3f} "
              f"changed={changed_fraction(ta, tb, lang):.1%} identical={ta == tb}")


if __name__ == "__main__":
    main()
