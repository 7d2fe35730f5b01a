"""`goldpan funnel [--batch B]`: rows in, kept, rejected by rule and errored per stage."""

from __future__ import annotations

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.lineage.report import format_funnel

    print(format_funnel(open_lake(args), args.batch))
    return 0


def register(sub) -> None:
    p = sub.add_parser("funnel", help="rows in, kept, rejected by rule and errored per stage")
    p.add_argument("--batch")
    p.set_defaults(fn=run)
