"""The `goldpan` command: audit a lake without Dagster (trace, funnel, releases, sql)."""

from __future__ import annotations

import argparse
import json
import os
import sys


def _lake(args):
    from goldpan.lake import Lake

    root = args.lake or os.environ.get("GOLDPAN_LAKE", "lake")
    if "://" not in root and not os.path.isdir(root):
        sys.exit(f"goldpan: no lake at {root} (run `make demo` or pass --lake)")
    return Lake(root)


def cmd_trace(args) -> int:
    from goldpan.lineage.trace import TraceNotFound, format_trace, trace

    try:
        t = trace(_lake(args), args.target)
    except TraceNotFound as exc:
        print(f"goldpan: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(t.as_dict(), indent=2, default=str) if args.json else format_trace(t))
    return 0


def cmd_funnel(args) -> int:
    from goldpan.lineage.report import format_funnel

    print(format_funnel(_lake(args), args.batch))
    return 0


def cmd_releases(args) -> int:
    from goldpan.release.promote import releases

    rows = releases(_lake(args))
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print(f"{'release':<9}{'status':<11}{'corpus v':>9}{'cand v':>8}{'docs':>7}{'words':>9}  decided_at")
    for r in rows:
        cv = "" if r["corpus_version"] is None else r["corpus_version"]
        print(f"{r['release'] or '-':<9}{r['status']:<11}{cv:>9}{r['candidate_version']:>8}{r['n_docs']:>7}"
              f"{r['n_words']:>9}  {r['decided_at']:%Y-%m-%d %H:%M:%S}")
        if r["status"] == "refused":
            failed = [x for x in json.loads(r["gate_json"]).get("results", []) if not x["success"]]
            for x in failed:
                print(f"{'':<9}failed {x['table']}.{x['column'] or ''} {x['expectation']} "
                      f"(unexpected {x['unexpected_count']}) {x['sample']}")
    return 0


def cmd_sql(args) -> int:
    with _lake(args).connect() as con:
        res = con.sql(args.query)
        if res is None:
            return 0
        df = res.fetchdf()
    print(df.to_string(max_colwidth=60) if not args.json else df.to_json(orient="records"))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="goldpan", description="Audit a goldpan lake.")
    p.add_argument("--lake", help="lake root (default: $GOLDPAN_LAKE or ./lake)")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("trace", help="one document's path through every table")
    t.add_argument("target", help="a URL, doc_id or page_id")
    t.add_argument("--json", action="store_true")
    t.set_defaults(fn=cmd_trace)
    f = sub.add_parser("funnel", help="rows in, kept, rejected by rule and errored per stage")
    f.add_argument("--batch")
    f.set_defaults(fn=cmd_funnel)
    r = sub.add_parser("releases", help="every promotion attempt")
    r.add_argument("--json", action="store_true")
    r.set_defaults(fn=cmd_releases)
    s = sub.add_parser("sql", help="a DuckDB query over every lake table")
    s.add_argument("query")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_sql)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
