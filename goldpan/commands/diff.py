"""`goldpan diff <release A> <release B>`: documents added and removed, with the reason for each."""

from __future__ import annotations

import json
import sys

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.lineage.diff import ReleaseNotFound, diff_releases, format_diff

    try:
        d = diff_releases(open_lake(args), args.a, args.b)
    except ReleaseNotFound as exc:
        print(f"goldpan diff: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(d.as_dict(), indent=2, default=str) if args.json else format_diff(d, args.limit))
    return 0


def register(sub) -> None:
    p = sub.add_parser("diff", help="documents added and removed between two releases, and why")
    p.add_argument("a", nargs="?", default="previous", help="release name (v1), number, 'previous' (default)")
    p.add_argument("b", nargs="?", default="latest", help="release name, number, 'latest' (default)")
    p.add_argument("--limit", type=int, default=50, help="documents listed per side in the text output")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
