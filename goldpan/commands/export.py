"""`goldpan export <release> --out DIR`: sharded JSONL.zst + Parquet + manifest, reproducible."""

from __future__ import annotations

import sys

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.export.writer import ExportError, export_release, takedown_message
    from goldpan.recipe import ExportSection

    defaults = ExportSection()
    try:
        res = export_release(open_lake(args), args.release, args.out, shard_docs=args.shard_docs or defaults.shard_docs,
                             zstd_level=args.zstd_level or defaults.zstd_level,
                             on_takedown="warn" if args.allow_takedowns else "refuse")
    except ExportError as exc:
        print(f"goldpan export: {exc}", file=sys.stderr)
        return 2
    if res.taken_down:
        print(f"goldpan export: WARNING: {takedown_message(args.release, list(res.taken_down))}", file=sys.stderr)
    m = res.manifest
    print(f"release {m['release']} (training_corpus version {m['corpus_version']}, recipe {m['recipe_id']}): "
          f"{m['documents']} documents, {m['tokens']} tokens in {len(m['shards'])} shard(s) -> {res.out_dir}")
    for src, tok in m["tokens_by_source"].items():
        print(f"  {src:<20}{m['documents_by_source'][src]:>8} docs{tok:>12} tokens")
    for s in m["shards"]:
        for f in s["files"].values():
            print(f"  {f['name']:<32}{f['bytes']:>10} B  sha256 {f['sha256'][:16]}…")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export", help="export a release as JSONL.zst + Parquet shards with a manifest")
    p.add_argument("release", help="release name, e.g. v1 (see `goldpan releases`)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--shard-docs", type=int, default=None, help="documents per shard (default 10000)")
    p.add_argument("--zstd-level", type=int, default=None, help="zstd level for both formats (default 10)")
    p.add_argument("--allow-takedowns", action="store_true",
                   help="export even if the release holds pages taken down since (an audit copy; they are listed)")
    p.set_defaults(fn=run)
