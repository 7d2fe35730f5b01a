"""`goldpan why <url>`: the first stage and rule that kept a page out of the latest release."""

from __future__ import annotations

import json
import os

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.lineage.why import format_why, why

    ans = why(open_lake(args), args.url, recipe_path=args.recipe or os.environ.get("GOLDPAN_RECIPE"))
    print(json.dumps(ans.as_dict(), indent=2, default=str) if args.json else format_why(ans))
    return 0


def register(sub) -> None:
    p = sub.add_parser("why", help="why a page is not in the latest release (first stage and rule)")
    p.add_argument("url")
    p.add_argument("--recipe", help="recipe for the crawl-scope check when no release recorded one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
