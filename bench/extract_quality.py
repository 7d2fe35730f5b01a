"""Main-content token F1 of goldpan's extractors and trafilatura against a structural gold set.

No public article-extraction benchmark with ground truth is reachable offline here (ScrapingHub's
article-extraction-benchmark keeps its pages as .html.gz in git, not on PyPI/npm/Debian; see the
issue-4 notes), so the gold is each page's own main-content container, marked up by its authors:
Sphinx's `<div role="main">` (Python docs), mdBook's `<main>` (Rust book), rustdoc's
`<section id="main-content">`, and the sample site's `<article>`. Gold text = that element's text
(lxml, scripts/styles and Sphinx's "¶" header links removed). This measures how well each extractor
finds the author-declared main content and drops navigation, sidebars and footers; it is biased
toward documentation pages, not news. F1 = multiset bag-of-words (goldpan.extract.compare).

    .venv/bin/python bench/extract_quality.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOLD_XPATH = {
    "pydoc": "//div[@role='main']",
    "rust-book": "//main",
    "rustdoc": "//section[@id='main-content']",
    "sample": "//article",
}

VARIANTS = [
    ("resiliparse (default)", "resiliparse", {}),
    ("resiliparse + drop_link_lines", "resiliparse", {"drop_link_lines_max_words": 12}),
    ("resiliparse + strip_boilerplate", "resiliparse", {"strip_boilerplate_elements": True}),
    ("resiliparse + strip + drop_links", "resiliparse",
     {"strip_boilerplate_elements": True, "drop_link_lines_max_words": 12}),
    ("trafilatura (default)", "trafilatura", {}),
    ("trafilatura favor_precision", "trafilatura", {"favor_precision": True}),
]


def gold_text(html: str, kind: str) -> str | None:
    import lxml.html

    from goldpan.extract.normalize import normalize_text

    doc = lxml.html.fromstring(html)
    found = doc.xpath(GOLD_XPATH[kind])
    if not found:
        return None
    el = found[0]
    for bad in el.xpath(".//script|.//style|.//a[contains(@class,'headerlink')]|.//button"):
        bad.drop_tree()
    # text_content() glues block elements together; give each block its own line first.
    for blk in el.xpath(".//p|.//div|.//li|.//pre|.//h1|.//h2|.//h3|.//h4|.//tr|.//dt|.//dd|.//br"):
        blk.tail = ("\n" + blk.tail) if blk.tail else "\n"
    return normalize_text(el.text_content()) or None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    from extract_pages import build_warc, read_pages

    from goldpan.extract.compare import token_prf
    from goldpan.extract.encoding import decode_page
    from goldpan.extract.extractors import make_extractor
    from goldpan.extract.html_text import ParsedHtml
    from goldpan.extract.normalize import normalize_text

    pages = read_pages(build_warc())
    if args.quick:
        pages = pages[::10]
    items = []
    for p in pages:
        html = decode_page(p["content"], p["charset_declared"]).text
        g = gold_text(html, p["kind"])
        if g and len(g) >= 200:
            items.append((p["kind"], html, g))
    results: dict = {"gold_pages": len(items), "by_kind": {}, "extractors": {}}
    for k in GOLD_XPATH:
        results["by_kind"][k] = sum(1 for it in items if it[0] == k)
    for label, name, opts in VARIANTS:
        ext = make_extractor(name, opts)
        t0 = time.process_time()
        per_kind: dict[str, list] = {}
        for kind, html, g in items:
            try:
                text = normalize_text(ext.extract(ParsedHtml(html)))
            except Exception:  # noqa: BLE001 -- a crash scores as an empty extraction
                text = ""
            per_kind.setdefault(kind, []).append(token_prf(text, g))
        cpu = time.process_time() - t0
        allp = [x for v in per_kind.values() for x in v]

        def mean(xs, attr):
            return round(sum(getattr(x, attr) for x in xs) / len(xs), 4) if xs else None

        results["extractors"][label] = {
            "precision": mean(allp, "precision"),
            "recall": mean(allp, "recall"),
            "f1": mean(allp, "f1"),
            "f1_by_kind": {k: mean(v, "f1") for k, v in per_kind.items()},
            "cpu_s": round(cpu, 2),
        }
        print(f"{label:<32} {json.dumps(results['extractors'][label])}", flush=True)
    print()
    kinds = list(results["by_kind"])
    print(f"{'extractor':<32} {'P':>6} {'R':>6} {'F1':>6} " + " ".join(f"{k:>10}" for k in kinds))
    for label, r in results["extractors"].items():
        print(f"{label:<32} {r['precision']:>6} {r['recall']:>6} {r['f1']:>6} "
              + " ".join(f"{r['f1_by_kind'].get(k)!s:>10}" for k in kinds))
    print(f"gold pages: {results['by_kind']}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "extract_quality.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
