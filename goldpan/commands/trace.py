"""`goldpan trace <url|doc_id|page_id>`: one document's path through every table."""

from __future__ import annotations

import json
import sys

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.lineage.trace import TraceNotFound, format_trace, trace

    try:
        t = trace(open_lake(args), args.target)
    except TraceNotFound as exc:
        print(f"goldpan: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(t.as_dict(), indent=2, default=str) if args.json else format_trace(t))
    return 0


def register(sub) -> None:
    p = sub.add_parser("trace", help="one document's path through every table")
    p.add_argument("target", help="a URL, doc_id or page_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
