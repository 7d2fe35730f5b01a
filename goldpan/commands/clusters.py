"""`goldpan clusters [--batch B] [--top N] [--doc DOC_ID|URL] [--json]`: the dedup cluster report."""

from __future__ import annotations

import json
import sys

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.dedup import report

    lake = open_lake(args)
    if not lake.exists("dedup_clusters"):
        print("goldpan: no dedup_clusters table yet", file=sys.stderr)
        return 1
    tables = ["dedup_clusters"] + (["dedup_merges"] if lake.exists("dedup_merges") else [])
    with lake.connect(tables=tables) as con:
        if args.doc:
            doc = args.doc
            if "://" in doc:  # a URL: its newest document
                row = con.execute("SELECT doc_id FROM dedup_clusters WHERE url = ? ORDER BY batch_id DESC LIMIT 1",
                                  [doc]).fetchone()
                if row is None:
                    print(f"goldpan: no document for {doc}", file=sys.stderr)
                    return 1
                doc = row[0]
            members = report.cluster_members(con, doc)
            if not members:
                print(f"goldpan: no document {doc}", file=sys.stderr)
                return 1
            history = report.cluster_history(con, doc)
            if args.json:
                print(json.dumps({"members": members, "merges": history}, indent=2, default=str))
            else:
                print(f"cluster of {doc}: {len(members)} member(s)")
                for m in members:
                    tag = "representative" if m["is_representative"] else (m["rule"] or m["status"])
                    sim = "" if m["similarity"] is None else f" sim={m['similarity']:.3f}"
                    print(f"  {m['doc_id']}  {m['batch_id']}  {tag}{sim}  {m['url']}")
                for h in history:
                    what = (f"cluster {h['cluster_id']} merged into {h['into_cluster_id']}"
                            if h["reason"] == "clusters_linked" else f"cluster {h['cluster_id']} re-represented")
                    print(f"  batch {h['batch_id']}: {what}: {h['via_doc_id']} matched {h['linked_to']} "
                          f"({h['match']} {h['similarity']:.3f}); representative {h['old_representative']} -> "
                          f"{h['new_representative']} (rule {h['representative_rule']})")
            return 0
        dist = report.size_distribution(con, args.batch)
        top = report.largest_clusters(con, args.top)
        counts = report.outcome_counts(con, args.batch)
    if args.json:
        print(json.dumps({"outcomes": counts, "size_distribution": dist, "largest": top}, indent=2))
        return 0
    print("outcomes: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    print("cluster size  clusters")
    for s, n in dist:
        print(f"{s:>12}  {n}")
    if top:
        print("largest clusters:")
        for t in top:
            print(f"  {t['size']:>4}  {t['cluster_id']}  {t['representative_url']}")
            for u in t["sample_urls"]:
                print(f"          {u}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("clusters", help="dedup clusters: size distribution, largest clusters, one document's cluster")
    p.add_argument("--batch", help="only clusters touched by this batch (size distribution, outcomes)")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--doc", help="show the members of this document's cluster (doc_id or URL)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=run)
