"""`goldpan releases`: every promotion attempt, with the expectations that refused it."""

from __future__ import annotations

import json

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.release.promote import releases

    rows = releases(open_lake(args))
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print(f"{'release':<9}{'status':<11}{'corpus v':>9}{'cand v':>8}{'docs':>7}{'words':>9}{'tokens':>9}  decided_at")
    for r in rows:
        cv = "" if r["corpus_version"] is None else r["corpus_version"]
        print(f"{r['release'] or '-':<9}{r['status']:<11}{cv:>9}{r['candidate_version']:>8}{r['n_docs']:>7}"
              f"{r['n_words']:>9}{r.get('n_tokens') or 0:>9}  {r['decided_at']:%Y-%m-%d %H:%M:%S}")
        stats = json.loads(r.get("stats_json") or "{}")
        if stats.get("tokens_by_source"):
            print(f"{'':<9}tokens by source: " + ", ".join(f"{k} {v}" for k, v in stats["tokens_by_source"].items()))
        if stats.get("removed_vs_previous"):
            print(f"{'':<9}removed vs {stats.get('previous_release')}: "
                  + ", ".join(f"{k} {v}" for k, v in stats["removed_vs_previous"].items()))
        if r["status"] == "refused":
            failed = [x for x in json.loads(r["gate_json"]).get("results", []) if not x["success"]]
            gate = json.loads(r["gate_json"])
            for x in failed:
                col = x["column"] or ""
                if x["table"] == "release_metrics" and col in gate.get("bounds", {}):
                    lo, hi = gate["bounds"][col]
                    print(f"{'':<9}failed {col} = {gate['metrics'].get(col)}, allowed {lo:.4g} .. {hi:.4g}")
                else:
                    print(f"{'':<9}failed {x['table']}.{col} {x['expectation']} "
                          f"(unexpected {x['unexpected_count']}) {x['sample']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("releases", help="every promotion attempt")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
