"""`goldpan report [release] --out FILE`: one self-contained HTML page with the corpus charts."""

from __future__ import annotations

import sys

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.lineage.diff import ReleaseNotFound
    from goldpan.lineage.html import write_report

    try:
        path = write_report(open_lake(args), args.out, args.release)
    except ReleaseNotFound as exc:
        print(f"goldpan report: {exc}", file=sys.stderr)
        return 1
    print(f"report written to {path}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="self-contained HTML report (funnel, rules, shares, scores, dedup, diff)")
    p.add_argument("release", nargs="?", default=None, help="release name (default: latest)")
    p.add_argument("--out", default="goldpan-report.html")
    p.set_defaults(fn=run)
