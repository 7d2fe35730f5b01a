"""goldpan's line extractor on every gold page (all splits): kept text and features, dumped or compared.

Why: speed work on the line extractor (goldpan.extract.lines / source_context / learned) must not
change what it keeps. This dumps, for each of the ~2,000 gold pages (AEB, trafilatura eval, docs;
train and report halves), a sha1 of the kept text and of the feature matrix bytes, and compares two
dumps (before / after a change). It also times the two halves of the work on one core: resiliparse's
parse + main-content pass, and goldpan's own work (features, classifier, join).

    .venv/bin/python bench/extract_identity.py --dump /tmp/before.json
    .venv/bin/python bench/extract_identity.py --dump /tmp/after.json --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def load_pages(sets: list[str]) -> list[tuple[str, str, str]]:
    """(set, page id, decoded html) of every gold page of `sets`, both splits."""
    import extract_gold as eg

    from goldpan.extract.encoding import decode_page

    out = []
    for set_name in sets:
        for p in eg.SETS[set_name]():
            out.append((set_name, p.page_id, decode_page(p.html, p.charset).text))
    return out


def run(pages: list[tuple[str, str, str]], repeat: int = 1) -> tuple[dict, dict]:
    """({page id: {text, features}} sha1s, {set: [first-pass CPU s, own CPU s, pages]})."""
    from goldpan.extract.extractors import make_extractor
    from goldpan.extract.learned import classify_lines, first_pass, first_pass_tree, page_features

    ext = make_extractor("goldpan", {})
    model, threshold = ext.model, ext.options["threshold"]
    digests: dict = {}
    timing: dict = {}
    for _ in range(repeat):
        for set_name, page_id, html in pages:
            t0 = time.process_time()
            tree = first_pass_tree(html)
            first = first_pass(tree)
            title = tree.title
            t1 = time.process_time()
            lines, blank_before, x = page_features(first, html, title)
            _, _, text = classify_lines(lines, blank_before, x, model, threshold, title, True)
            t2 = time.process_time()
            row = timing.setdefault(set_name, [0.0, 0.0, 0])
            row[0] += t1 - t0
            row[1] += t2 - t1
            row[2] += 1
            digests[page_id] = {
                "text": hashlib.sha1(text.encode()).hexdigest(),
                "features": hashlib.sha1(x.tobytes()).hexdigest(),
            }
    return digests, timing


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="aeb,trafilatura,docs")
    ap.add_argument("--dump", type=Path, help="write the per-page digests here")
    ap.add_argument("--compare", type=Path, help="digests of an earlier run to compare with")
    ap.add_argument("--repeat", type=int, default=1, help="passes over the pages (timing only)")
    args = ap.parse_args()
    pages = load_pages(args.sets.split(","))
    run(pages[:20])  # warm-up: imports, model load
    digests, timing = run(pages, args.repeat)
    for set_name, (fp, own, n) in timing.items():
        print(f"{set_name:<12} {n:>5} page runs  first pass {1000 * fp / n:6.2f} ms/page  "
              f"goldpan's own work {1000 * own / n:6.2f} ms/page")
    if args.dump:
        args.dump.write_text(json.dumps(digests, indent=0, sort_keys=True))
    if args.compare:
        before = json.loads(args.compare.read_text())
        diff_text = [k for k in before if k in digests and before[k]["text"] != digests[k]["text"]]
        diff_feat = [k for k in before if k in digests and before[k]["features"] != digests[k]["features"]]
        missing = set(before) ^ set(digests)
        print(f"compared {len(set(before) & set(digests))} pages: kept text differs on {len(diff_text)}, "
              f"features differ on {len(diff_feat)}, pages in one run only {len(missing)}")
        for k in diff_text[:10]:
            print("  text differs:", k)
        return 1 if diff_text or missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
