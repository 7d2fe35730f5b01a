"""`goldpan sweep <rule> [--lang L] [--source S] [--thresholds a,b,c] [--svg FILE]`: kept-token curve.

Answers from stored signals (`doc_signals`, joined to documents/pages for the source) how many
documents and tokens each threshold of one filter rule keeps, per language and source; then, per
language, the share of documents the whole recipe keeps and the share of spam (built from that
language's own documents, `goldpan.filter.spam`) it removes at each threshold.
"""

from __future__ import annotations

import sys
import time

from goldpan.commands._lake import open_lake


def _ruleset(recipe_path: str | None):
    from goldpan.filter.rules import ruleset_from_section
    from goldpan.recipe import FilterSection
    from goldpan.recipe_loader import load_recipe

    return ruleset_from_section(load_recipe(recipe_path).filter if recipe_path else FilterSection())


def run(args) -> int:
    from goldpan.filter.sweep import (
        find_spec,
        format_language_table,
        format_table,
        language_curves,
        svg_chart,
        sweep,
    )

    thresholds = None
    if args.thresholds:
        try:
            thresholds = [float(x) for x in args.thresholds.replace(" ", "").split(",") if x]
        except ValueError:
            sys.exit(f"goldpan sweep: --thresholds must be numbers separated by commas, got {args.thresholds!r}")
    lake = open_lake(args)
    if lake.version("doc_signals") is None:
        sys.exit("goldpan sweep: the lake has no doc_signals table yet (materialize the filter stage first)")
    ruleset = _ruleset(args.recipe)
    t0 = time.perf_counter()
    try:
        with lake.connect(tables=["doc_signals", "documents", "pages", "rejections"]) as con:
            points = sweep(con, ruleset, args.rule, thresholds, args.lang, args.source, args.batch, args.points)
            by_lang = [] if args.no_spam else language_curves(
                con, ruleset, args.rule, thresholds, args.lang, points=args.points)
    except ValueError as exc:
        sys.exit(f"goldpan sweep: {exc}")
    elapsed = time.perf_counter() - t0
    if not points:
        print("no documents with signals match the selection")
        return 0
    op = find_spec(ruleset, args.rule, points[0].lang if points[0].lang != "unknown" else None).op
    print(format_table(points, args.rule, op))
    if by_lang:
        print()
        print(format_language_table(by_lang, args.rule))
    print(f"({len(points)} points from stored signals in {elapsed:.2f} s)")
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(svg_chart(points, args.rule))
        print(f"chart written to {args.svg}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sweep", help="documents and tokens each threshold of a filter rule keeps (kept-token curve)")
    p.add_argument("rule", help="rule name as in rejections.rule, e.g. gopher_alpha_words, fineweb_char_dup_ratio")
    p.add_argument("--lang", help="only this language (default: every language, one curve each)")
    p.add_argument("--source", help="only this source (pages.source: crawl, warc, wet)")
    p.add_argument("--batch", help="only this batch")
    p.add_argument("--thresholds", help="comma-separated thresholds (default: deciles of the signal + the recipe's)")
    p.add_argument("--points", type=int, default=11, help="how many default thresholds (default 11)")
    p.add_argument("--recipe", default=None, help="recipe whose thresholds are marked (default: goldpan's defaults)")
    p.add_argument("--svg", help="also draw the curve to this SVG file")
    p.add_argument("--no-spam", action="store_true",
                   help="skip the per-language keep rate / spam removal table (spam built from each language's documents)")
    p.set_defaults(fn=run)
