"""`goldpan takedown --url|--domain|--pattern V --reason R [--vacuum]`: remove a site or page for good.

Records the request in `takedowns` (the crawler and the mixer consult it from then on), deletes
every derived row with Delta deletes, and says which published releases still hold the documents.
"""

from __future__ import annotations

import json
import sys

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.audit.erase import apply_takedown
    from goldpan.audit.takedowns import TakedownError, record_request, requests

    lake = open_lake(args)
    if args.list:
        rows = requests(lake)
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
        for r in [] if args.json else rows:
            print(f"{r['request_id']}  {r['requested_at']:%Y-%m-%d %H:%M}  {r['kind']:<7} {r['value']}  "
                  f"({r['reason']}; by {r['requested_by']}; deleted {r['rows_deleted_json'] or 'pending'})")
        return 0
    kind, value = next(((k, getattr(args, k)) for k in ("url", "domain", "pattern") if getattr(args, k)), (None, None))
    if args.apply:
        req = next((r for r in requests(lake) if r["request_id"] == args.apply), None)
        if req is None:
            print(f"goldpan takedown: no recorded request {args.apply}", file=sys.stderr)
            return 2
        kind = req["kind"]
    elif kind is None:
        print("goldpan takedown: give --url, --domain or --pattern (or --list, --apply ID)", file=sys.stderr)
        return 2
    else:
        try:
            req = record_request(lake, kind, value, args.reason or "", requested_by=args.by or "", vacuum=args.vacuum)
        except TakedownError as exc:
            print(f"goldpan takedown: {exc}", file=sys.stderr)
            return 2
    res = apply_takedown(lake, req, vacuum=args.vacuum)
    if args.json:
        print(json.dumps(res.as_dict() | {"request": req}, indent=2, default=str))
        return 0
    verb = "re-applied" if args.apply else "recorded"
    print(f"takedown {req['request_id']} {verb}: {kind} {req['value']} ({req['reason']})")
    print(f"matched {len(res.matches.page_ids)} pages, {len(res.matches.doc_ids)} documents, "
          f"{len(res.matches.urls)} URLs")
    for t, n in sorted(res.rows_deleted.items()):
        vac = f", vacuumed {res.vacuumed[t]} files" if t in res.vacuumed else ""
        print(f"  {t:<20} {n:>6} rows deleted (Delta v{res.versions[t]}{vac})")
    if res.frontier_marked:
        print(f"  crawl_frontier       {res.frontier_marked:>6} URLs set to state 'takedown' (never fetched again)")
    if not res.rows_deleted:
        print("  nothing in the lake matched yet; the crawler and the mixer will refuse it from now on")
    if res.releases_holding:
        print("published releases that still hold these documents (training_corpus versions stay readable "
              "until vacuumed; the next promotion drops them):")
        for r in res.releases_holding:
            print(f"  release {r['release']} (training_corpus v{r['corpus_version']}): {r['documents']} documents")
    if args.vacuum:
        print("vacuum: files holding the deleted rows were removed; time travel to older versions of "
              + ", ".join(sorted(res.vacuumed)) + " no longer works")
    return 0


def register(sub) -> None:
    p = sub.add_parser("takedown", help="record a takedown request and delete matching rows everywhere")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--url", help="one page (matched in normalised form)")
    g.add_argument("--domain", help="a host and all its subdomains")
    g.add_argument("--pattern", help="a shell-style glob over normalised URLs")
    g.add_argument("--list", action="store_true", help="list recorded requests")
    g.add_argument("--apply", metavar="REQUEST_ID",
                   help="apply a recorded request again (after a crash, or to rows that arrived since)")
    p.add_argument("--reason", help="why (required: it is the audit record)")
    p.add_argument("--by", help="who asked (default: the current user)")
    p.add_argument("--vacuum", action="store_true",
                   help="also vacuum (retention 0) the Delta files that held the deleted rows")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
