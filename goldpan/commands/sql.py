"""`goldpan sql ["<query>"]`: one DuckDB query, or an interactive shell, over every lake table as a view.

Without a query it reads statements from standard input (terminated by `;`), so it works both at a
terminal and in a pipe: `echo "SELECT count(*) FROM pages;" | goldpan sql`. `.tables` lists the
views, `.quit` (or end of input) leaves.
"""

from __future__ import annotations

import sys

from goldpan.commands._lake import open_lake


def _show(con, query: str, as_json: bool, out=None) -> None:
    out = out or sys.stdout
    res = con.sql(query)
    if res is None:
        return
    df = res.fetchdf()
    print(df.to_json(orient="records") if as_json else df.to_string(max_colwidth=60), file=out)


def repl(con, tables: list[str], stdin=None, out=None) -> int:
    """Read `;`-terminated statements and print each result; errors are printed, not fatal."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        print(f"goldpan sql: {len(tables)} lake tables as views ({', '.join(tables)}); end statements with ';', "
              ".tables, .quit", file=out)
    buf: list[str] = []
    failures = 0
    while True:
        if interactive:
            print("goldpan> " if not buf else "    ...> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            break
        s = line.strip()
        if not buf and s in (".quit", ".exit", "\\q"):
            break
        if not buf and s == ".tables":
            print("\n".join(tables), file=out)
            continue
        if s:
            buf.append(line)
        if s.endswith(";"):
            stmt = "".join(buf).strip()
            buf = []
            try:
                _show(con, stmt, False, out)
            except Exception as exc:  # noqa: BLE001 -- a shell reports a bad query and goes on
                failures += 1
                print(f"error: {exc}", file=out)
    if buf and "".join(buf).strip():
        try:
            _show(con, "".join(buf), False, out)
        except Exception as exc:  # noqa: BLE001
            failures += 1
            print(f"error: {exc}", file=out)
    return 1 if failures and not interactive else 0


def run(args) -> int:
    lake = open_lake(args)
    with lake.connect() as con:
        if args.query is None:
            return repl(con, lake.list_tables())
        _show(con, args.query, args.json)
    return 0


def register(sub) -> None:
    p = sub.add_parser("sql", help="a DuckDB query (or a shell, without one) over every lake table")
    p.add_argument("query", nargs="?", help="the query; omit for an interactive shell reading stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
