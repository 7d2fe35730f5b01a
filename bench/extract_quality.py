"""Extraction quality and speed, news and documentation reported apart, every extractor in one run.

Gold sets (bench/extract_gold.py), *report* halves only (goldpan's line classifier is trained on the
other halves by scripts/train_extract_model.py):
- `aeb`: ScrapingHub article-extraction-benchmark, news/blog pages with full article bodies,
  scored by its 4-token-shingle metric (precision/recall averaged per page);
- `trafilatura`: trafilatura's own evaluation corpus (must / must-not snippets), scored by its rules;
- `docs`: documentation pages (Python 3.11 docs from Debian's python3.11-doc, the sample site) whose
  gold is the author-marked main container; bag-of-words token F1 averaged per page.

Speed: pages / CPU second of this process for the extractor call alone, on HTML already decoded
(the same for all), parse included: "pages/s per core". The extractors run interleaved page by page,
so a load change during the run hits all of them alike. Ratios between extractors in one run are
what to compare; absolute figures move with the machine's load.

    .venv/bin/python bench/extract_quality.py [--quick] [--sets aeb,trafilatura,docs] [--model PATH]

`--sets` may add `wcxb` (bench/extract_gold.py: 1,000 modern pages with LLM-written, people-checked gold;
report half only, never trained on).
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

# (label, extractor name, options); None name = plain resiliparse 2.0.1 with its own defaults.
VARIANTS = [
    ("goldpan (learned lines)", "goldpan", {}),
    ("goldpan, headline not forced", "goldpan", {"keep_headline": False}),
    ("goldpan cascade", "cascade", {}),
    ("goldpan resiliparse (old default)", "resiliparse", {}),
    ("goldpan resiliparse + strip", "resiliparse", {"strip_boilerplate_elements": True}),
    ("plain resiliparse", None, {}),
    ("trafilatura (default)", "trafilatura", {}),
    ("trafilatura favor_precision", "trafilatura", {"favor_precision": True}),
]


def gold_text(html: str, kind: str) -> str | None:
    """Text of the author-marked main container (scripts, styles, header links removed)."""
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
    # Table cells are separated (a tab, as resiliparse writes them): glued cells made every table
    # row of the gold a run of merged tokens, so no extractor's rows could match it, and the line
    # classifier's training labels called real table rows boilerplate.
    for cell in el.xpath(".//td|.//th"):
        cell.tail = ("\t" + cell.tail) if cell.tail else "\t"
    return normalize_text(el.text_content()) or None


class PlainResiliparse:
    name = "resiliparse-plain"

    def extract_with_path(self, page):
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        return extract_plain_text(HTMLTree.parse(page.html), main_content=True), "plain"


def run_variants(exts: list, items: list[str]) -> list[tuple[list[str], float, dict]]:
    """Every extractor on every page, interleaved page by page: (texts, CPU seconds, paths) each.

    Interleaved, not one extractor after the other: on a shared machine the load changes within a
    run (trafilatura's pages/s moved from 27 to 48 between runs of the same pages), and a change
    that hit only the later extractors skewed the speed ratios.

    The order is shuffled page by page (a fixed seed), so no extractor always runs right after the
    same other one on the same page, with its page string, parser and allocator warm. With a fixed
    order, "goldpan, headline not forced" (the same work less one small step) ran at 413 pages/s
    right after "goldpan" against 341 for "goldpan" right after trafilatura, and trafilatura
    `favor_precision` always ran right after trafilatura's default; rotating the first extractor
    kept those pairs (561 against 469 pages/s).
    """
    from goldpan.extract.html_text import ParsedHtml
    from goldpan.extract.normalize import normalize_text

    rng = random.Random(16)
    order = list(range(len(exts)))
    out = [([], 0.0, {}) for _ in exts]
    for html in items:
        rng.shuffle(order)
        for k in order:
            ext = exts[k]
            texts, cpu, paths = out[k]
            t0 = time.process_time()
            try:
                text, path = ext.extract_with_path(ParsedHtml(html))
            except Exception:  # noqa: BLE001 -- a crash scores as an empty extraction
                text, path = "", "error"
            out[k] = (texts, cpu + time.process_time() - t0, paths)
            texts.append(normalize_text(text or ""))
            paths[path] = paths.get(path, 0) + 1
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="every 4th report page")
    ap.add_argument("--sets", default="aeb,trafilatura,docs")
    ap.add_argument("--only", default="", help="variant labels (substring match), separated by ';'")
    ap.add_argument("--model", action="append", default=[],
                    help="also run goldpan with this line-model file (before/after a retrain in one run)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "extract_quality.json")
    args = ap.parse_args()
    import extract_gold as eg

    from goldpan.extract.encoding import decode_page
    from goldpan.extract.extractors import make_extractor
    from goldpan.extract.html_text import ParsedHtml

    candidates = VARIANTS + [(f"goldpan (model {Path(m).name})", "goldpan", {"model": m}) for m in args.model]
    variants = [v for v in candidates if not args.only or any(o in v[0] for o in args.only.split(";"))]
    results: dict = {"split": "report", "sets": {}}
    for set_name in args.sets.split(","):
        pages = [p for p in eg.ALL_SETS[set_name]() if p.split == "report"]
        if args.quick:
            pages = pages[::4]
        htmls = [decode_page(p.html, p.charset).text for p in pages]
        res_set = results["sets"].setdefault(set_name, {"pages": len(pages), "extractors": {}})
        print(f"\n== {set_name}: {len(pages)} report pages", flush=True)
        exts = [PlainResiliparse() if name is None else make_extractor(name, opts) for _, name, opts in variants]
        for ext in exts:  # warm-up: imports, model load
            ext.extract_with_path(ParsedHtml(htmls[0]))
        for (label, _, _), ext, (texts, cpu, paths) in zip(variants, exts, run_variants(exts, htmls)):
            sc = eg.score(set_name, texts, pages)
            row = {k: round(v, 4) for k, v in sc.items()}
            row.update(cpu_s=round(cpu, 2), pages_per_cpu_s=round(len(pages) / cpu, 1) if cpu else None,
                       paths=paths, version=getattr(ext, "version", "2.0.1"))
            res_set["extractors"][label] = row
            print(f"{label:<36} F1 {row['f1']:.4f}  P {row['precision']:.4f}  R {row['recall']:.4f}  "
                  f"{row['pages_per_cpu_s']:>7} pages/s  {paths}", flush=True)
    print()
    for set_name, res_set in results["sets"].items():
        ex = res_set["extractors"]
        base = ex.get("trafilatura favor_precision")
        print(f"{set_name} ({res_set['pages']} pages)")
        print("| extractor | F1 | precision | recall | pages/s per core | x trafilatura fp |")
        print("|---|---|---|---|---|---|")
        for label, r in ex.items():
            ratio = (r["pages_per_cpu_s"] / base["pages_per_cpu_s"]) if base and r["pages_per_cpu_s"] else None
            print(f"| {label} | {r['f1']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | "
                  f"{r['pages_per_cpu_s']} | {ratio and round(ratio, 1)} |")
        print()
    results["load_average"] = [round(v, 2) for v in os.getloadavg()]
    print(f"load average at the end: {results['load_average']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
