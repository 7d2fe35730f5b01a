"""`goldpan sql "<query>"`: a DuckDB query with every lake table registered as a view."""

from __future__ import annotations

from goldpan.commands._lake import open_lake


def run(args) -> int:
    with open_lake(args).connect() as con:
        res = con.sql(args.query)
        if res is None:
            return 0
        df = res.fetchdf()
    print(df.to_string(max_colwidth=60) if not args.json else df.to_json(orient="records"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("sql", help="a DuckDB query over every lake table")
    p.add_argument("query")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
