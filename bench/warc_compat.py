"""Compatibility table: every file of warcio's public test set (../shared/data/warc-fixtures),
imported by goldpan -- pages kept, rejected, errors, documents extracted, records that are not
pages -- next to what warcio reads from the same file, and what goldpan's importer on `main`
(before issue 24) kept.

    .venv/bin/python bench/warc_compat.py [--fixtures DIR] [--baseline main]

warcio columns: `records` read from the file as it is (and why it stopped, if it did), and `pages`
in its reading of the decompressed file (goldpan.warc.conformance: the records goldpan should keep).
`same` says whether goldpan's kept pages equal warcio's (URL and decoded body). Writes
bench/out/warc_compat.json and .md. Skipped (exit 0) when the fixtures are absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
FIXTURES = ROOT / ".." / "shared" / "data" / "warc-fixtures"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", type=Path, default=FIXTURES)
    ap.add_argument("--quick", action="store_true", help="no effect (the set is 16 small files)")
    ap.add_argument("--baseline", default="main", help="git revision of the importer to compare with ('' = none)")
    args = ap.parse_args()
    files = sorted(p for p in args.fixtures.glob("*") if p.is_file() and p.name != "README.md")
    if not files:
        print(f"no fixtures in {args.fixtures}: skipped")
        return 0

    from goldpan.extract.langid import LanguageIdentifier
    from goldpan.extract.stage import extract_documents
    from goldpan.recipe import WarcSection
    from goldpan.warc.conformance import warcio_reading
    from goldpan.warc.importer import WarcStats, rows_from_file

    old = None
    if args.baseline:
        from warc_baseline import load_importer

        old = load_importer(args.baseline)
    lid = LanguageIdentifier()
    table = []
    for path in files:
        stats = WarcStats()
        rows = list(rows_from_file(str(path), "b-compat", WarcSection(), stats))
        kept = [r for r in rows if r["status"] == "kept"]
        docs = list(extract_documents(kept, lid))
        ref = warcio_reading(path)
        same = Counter((r["url"], r["content"]) for r in kept) == Counter(ref.pages)
        before = None
        if old is not None:
            try:
                got = [r for r in old.rows_from_file(str(path), "b-compat", old.WarcSection(), old.WarcStats())
                       if r["status"] == "kept"]  # fmt: skip
                same_before = Counter((r["url"], r["content"]) for r in got) == Counter(ref.pages)
                before = f"{len(got)} ({'same' if same_before else 'differs'})"
            except Exception as exc:  # noqa: BLE001 -- the old importer may crash on a file: say so
                before = f"crash: {type(exc).__name__}"
        table.append({
            "file": path.name,
            "warcio_records": ref.records_direct, "warcio_stopped": ref.error_direct, "warcio_pages": len(ref.pages),
            "pages": len(kept), "rejected": sum(r["status"] == "rejected" for r in rows),
            "errors": sum(r["status"] == "error" for r in rows),
            "error_reasons": sorted({r["reason"] for r in rows if r["status"] == "error"}),
            "documents": sum(d["status"] == "kept" for d in docs),
            "not_pages": dict(sorted(stats.skipped_types.items())),
            "decoded": dict(stats.decoded), "flags": dict(stats.flags), "revisits_resolved": stats.revisits_resolved,
            "same_as_warcio": same, "pages_before": before,
        })  # fmt: skip

    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "warc_compat.json").write_text(json.dumps(table, indent=2))
    lines = [("| file | warcio records (as is) | warcio pages | goldpan pages | rejected | errors | documents | "
              "not pages (counted) | same pages as warcio | before (main): pages, vs warcio |"),
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for t in table:
        stopped = f" (stops: {t['warcio_stopped'][:40]})" if t["warcio_stopped"] else ""
        errs = f"{t['errors']} {', '.join(t['error_reasons'])}" if t["errors"] else "0"
        notp = ", ".join(f"{k} {v}" for k, v in t["not_pages"].items()) or "-"
        lines.append(f"| {t['file']} | {t['warcio_records']}{stopped} | {t['warcio_pages']} | {t['pages']} | "
                     f"{t['rejected']} | {errs} | {t['documents']} | {notp} | {'yes' if t['same_as_warcio'] else 'NO'} "
                     f"| {t['pages_before']} |")  # fmt: skip
    md = "\n".join(lines)
    (out / "warc_compat.md").write_text(md + "\n")
    print(md)
    print(f"\nfiles: {len(table)}; same pages as warcio: {sum(t['same_as_warcio'] for t in table)}")
    return 0 if all(t["same_as_warcio"] for t in table) else 1


if __name__ == "__main__":
    sys.exit(main())
