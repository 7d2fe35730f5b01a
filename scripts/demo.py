"""`make demo`: serve the bundled sample site on 127.0.0.1, run the whole graph for one crawl batch,
stop the server, and print the funnel and the corpus release.

The run is recorded in the Dagster instance under $DAGSTER_HOME (default .dagster_home), so
`make ui` shows it afterwards.

Every run tells the same story with the same numbers: the demo lake (marked by DEMO_MARKER when the
demo creates it) is rebuilt from scratch, the batch id is fixed, and the site's URLs stay
http://127.0.0.1:8765/... even when that port is taken (the crawl then connects to the port the site
really got, through the recipe's `crawl.connect_to`), so page and document ids, model training
samples and release contents repeat exactly. A lake the demo did not create is never touched.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))


def ensure_dagster_home() -> None:
    from resources.instance import prepare_instance

    prepare_instance(os.environ["DAGSTER_HOME"])  # run queue, monitoring, telemetry and community prompt off


# A fixed id in the batch-id format (`b<UTC time>-<label>`): timestamps would change page and
# document ids, hence the classifiers' seeded samples and every number the demo prints.
DEMO_BATCH = "b20260101T000000-demo"
DEMO_MARKER = ".goldpan-demo"  # written into a lake the demo created; only such a lake is reset


def demo_batch(instance, partitions_name: str) -> str:
    if not instance.has_dynamic_partition(partitions_name, DEMO_BATCH):
        instance.add_dynamic_partitions(partitions_name, [DEMO_BATCH])
    return DEMO_BATCH


def reset_demo_lake(lake_root: str) -> None:
    """Start from an empty lake so every run prints the same; refuse to touch a lake the demo did
    not create (GOLDPAN_LAKE may point at real data)."""
    import shutil

    root = Path(lake_root)
    if "://" in lake_root:
        raise SystemExit(f"demo: GOLDPAN_LAKE={lake_root} is an object store; the demo only runs on a local folder")
    if root.exists() and any(root.iterdir()):
        if not (root / DEMO_MARKER).exists():
            raise SystemExit(f"demo: {root.resolve()} holds a lake the demo did not create; it is left alone. "
                             "Point GOLDPAN_LAKE at another folder (or `make clean` if it is an old demo lake).")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / DEMO_MARKER).write_text("created by scripts/demo.py; `make demo` rebuilds this lake from scratch\n")


DEMO_PORT = 8765  # the recipe's seed port: URLs, and so ids, are http://127.0.0.1:8765/... on every run


def _start_site(site_cls):
    """Serve on DEMO_PORT, or on a free port with the crawl connecting there (URLs unchanged)."""
    try:
        return site_cls(port=DEMO_PORT).start()
    except OSError:
        site = site_cls(port=0).start()
        print(f"port {DEMO_PORT} is busy: sample site on port {site.port}; URLs keep :{DEMO_PORT} "
              "(crawl.connect_to maps them to the real port)")
        return site


# Dagster's console log at CRITICAL: the demo prints its own summary (the UI keeps every event).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
DEMO_TAKEDOWN = "/en/articles/bird-notebook.html"  # the page whose author asks for removal in the demo
RELEASE_STEP = ["curated_documents", "doc_tokens", "mix_decisions", "corpus_candidate", "training_corpus",
                "corpus_releases"]


def release_step(instance, lake_root: str, recipe: str):
    """Re-run only the mix and release assets (and the gate) with another recipe."""
    import dagster as dg

    from definitions import ASSETS, build_resources
    from quality_checks.checks import ASSET_CHECKS

    selection = dg.AssetSelection.assets(*RELEASE_STEP) | dg.AssetSelection.checks_for_assets("corpus_candidate")
    return dg.materialize([*ASSETS, *ASSET_CHECKS], selection=selection, instance=instance,
                          resources=build_resources(lake_root, recipe), raise_on_error=False, run_config=QUIET)


def print_release(lake, row) -> None:
    import json

    stats = json.loads(row["stats_json"] or "{}")
    gate = json.loads(row["gate_json"] or "{}")
    print(f"release {row['release'] or '-'}: {row['status']} (recipe {row['recipe_id']}, candidate v{row['candidate_version']}"
          + (f", training_corpus v{row['corpus_version']}" if row["corpus_version"] is not None else "") + ")")
    print(f"  {row['n_docs']} documents, {row['n_tokens']} tokens (GPT-2 BPE, x repeat), {row['n_words']} words")
    print("  tokens by source: " + ", ".join(f"{k} {v}" for k, v in stats.get("tokens_by_source", {}).items()))
    print("  tokens by language: " + ", ".join(f"{k} {v}" for k, v in stats.get("tokens_by_lang", {}).items()))
    if stats.get("previous_release"):
        removed = stats.get("removed_vs_previous") or {}
        print(f"  removed vs {stats['previous_release']}: " + (", ".join(f"{k} {v}" for k, v in removed.items()) or "none"))
    failed = [r for r in gate.get("results", []) if not r["success"]]
    metrics, bounds = gate.get("metrics", {}), gate.get("bounds", {})
    for r in failed:
        col = r["column"] or ""
        if r["table"] == "release_metrics" and col in bounds:
            lo, hi = bounds[col]
            print(f"  FAILED {col} = {metrics.get(col):.4f}, allowed {lo:.4f} .. {hi:.4f}")
        else:
            print(f"  FAILED {r['table']}.{col} {r['expectation']} (unexpected {r['unexpected_count']})")


def main() -> int:
    import hashlib
    import shutil
    import warnings

    warnings.filterwarnings("ignore")
    ensure_dagster_home()
    import dagster as dg

    from assets.partitions import crawl_batches
    from definitions import defs
    from goldpan.export.writer import ExportError, export_release
    from goldpan.lake import Lake
    from goldpan.lineage.report import format_funnel
    from goldpan.mix.stage import plan_from_lake
    from goldpan.recipe_loader import load_recipe
    from goldpan.release.promote import releases
    from sample.server import SampleSite

    lake_root = os.environ.get("GOLDPAN_LAKE", "lake")
    recipe_path = os.environ.get("GOLDPAN_RECIPE", "recipes/demo.yaml")
    broken_recipe = "recipes/demo-broken-gate.yaml"
    out_root = Path(os.environ.get("GOLDPAN_EXPORT_DIR", "out/export"))
    t0 = time.monotonic()
    reset_demo_lake(lake_root)
    _recover_killed_runs(lake_root)
    # The demo crawls its own site on 127.0.0.1: that is the opt-in crawl.allow_private requires.
    os.environ["GOLDPAN_ALLOW_PRIVATE"] = "1"
    with dg.DagsterInstance.get() as instance:
        batch = demo_batch(instance, crawl_batches.name)
        with _start_site(SampleSite) as site:
            os.environ["GOLDPAN_SAMPLE_ADDR"] = f"127.0.0.1:{site.port}"
            print(f"sample site serving http://127.0.0.1:{DEMO_PORT}/ ; crawling batch {batch} into "
                  f"{Path(lake_root).resolve()}")
            job = defs.resolve_job_def("full_batch_job")
            result = job.execute_in_process(instance=instance, partition_key=batch, raise_on_error=False,
                                            run_config=QUIET)
        print("sample site stopped")
        lake = Lake(lake_root)
        print()
        print(f"funnel for batch {batch} (mix and candidate span all batches):")
        print(format_funnel(lake, batch))
        print()
        recipe = load_recipe(recipe_path)
        print(f"mix plan of {recipe.recipe_id} (target vs achieved, tokens):")
        print(plan_from_lake(lake, recipe))
        history = releases(lake)
        first = history[-1] if history else None
        if first is None or first["status"] not in ("promoted", "unchanged"):
            print("quality gate FAILED: the corpus stays at its previous version")
            if first is not None:
                print_release(lake, first)
            return 1
        print()
        print_release(lake, first)
        release = "v1"  # the first release: its export must stay reproducible whatever came after
        out_a = out_root / f"{release}-a"
        shutil.rmtree(out_a, ignore_errors=True)
        exp_a = export_release(lake, release, out_a, recipe.export.shard_docs, recipe.export.zstd_level)
        print(f"  exported {release}: {len(exp_a.manifest['shards'])} shards x (jsonl.zst + parquet) -> {out_a}")

        print()
        print(f"second run with {broken_recipe} (expects 80% English tokens):")
        broken = release_step(instance, lake_root, broken_recipe)
        refused = releases(lake)[-1]
        print_release(lake, refused)
        print(f"  training_corpus still at version {lake.version('training_corpus')}")

        print()
        # A takedown request arrives for one page of release v1: the next release drops it (rule takedown).
        url = f"http://127.0.0.1:{DEMO_PORT}{DEMO_TAKEDOWN}"
        if not _in_release(lake, url):
            print(f"demo: {url} is not in the first release; the takedown step has nothing to show")
            return 1
        _request_takedown(lake, url)
        print(f"takedown requested for {url}; release run with {recipe_path}:")
        again = release_step(instance, lake_root, recipe_path)
        print_release(lake, releases(lake)[-1])

        print()
        out_b = out_root / f"{release}-b"
        shutil.rmtree(out_b, ignore_errors=True)
        # An audit copy of v1 after its page was taken down: export refuses unless told, and names it.
        try:
            export_release(lake, release, out_b, recipe.export.shard_docs, recipe.export.zstd_level)
            refused_export = False
        except ExportError:
            refused_export = True
            print(f"export of {release} refused: it holds pages taken down after it was made")
        exp_b = export_release(lake, release, out_b, recipe.export.shard_docs, recipe.export.zstd_level,
                               on_takedown="warn")
        print("  audit copy exported with --allow-takedowns; it still holds: "
              + ", ".join(u for u, _ in exp_b.taken_down))
        same = all(
            hashlib.sha256((out_a / f).read_bytes()).digest() == hashlib.sha256((out_b / f).read_bytes()).digest()
            for s in exp_a.manifest["shards"] for f in (s["files"]["jsonl.zst"]["name"], s["files"]["parquet"]["name"])
        ) and (out_a / "manifest.json").read_bytes() == (out_b / "manifest.json").read_bytes()
        print(f"re-export of {release} after later releases (Delta time travel to version {exp_b.manifest['corpus_version']}): "
              f"{'byte-identical' if same else 'DIFFERENT'} to the first export ({len(exp_b.manifest['shards'])} shards)")
        ok = result.success and not broken.success and again.success and same and refused_export
        print(f"demo {'succeeded' if ok else 'FAILED'} in {time.monotonic() - t0:.1f}s "
              f"(runs: first {result.run_id[:8]}, refused {broken.run_id[:8]}, after takedown {again.run_id[:8]})")
        print("next: `make ui` to browse it, `.venv/bin/goldpan releases`, `.venv/bin/goldpan export v1 --out DIR`")
        _print_llm_next_step()
        return 0 if ok else 1


def _print_llm_next_step() -> None:
    """The synthesize stage is not part of the demo: its runtime builds from source once (7-12 min on
    2 cores), so the demo names the command instead of waiting for the build."""
    from goldpan.llm.server import runtime_available

    run = ("`.venv/bin/python -m sample.server --port 8765 &` then "
           "`GOLDPAN_ALLOW_PRIVATE=1 .venv/bin/goldpan run --crawl --recipe recipes/demo-synth.yaml`")
    if runtime_available():
        print(f"models in the loop (rewrites, QA pairs, perplexity, guarded and traced): {run}")
    else:
        print("models in the loop: `make llm` first (builds llama-cpp-python from source once, 7-12 min on 2 cores), "
              f"then {run}")


def _recover_killed_runs(lake_root: str) -> None:
    """Runs of an earlier demo or UI session whose process was killed are marked failed."""
    import dagster as dg

    from assets.recovery import recover
    from goldpan.lake import Lake

    with dg.DagsterInstance.get() as instance:
        res = recover(instance, Lake(lake_root))
    for run_id in res.failed_runs:
        print(f"run {run_id[:8]} of an earlier session was killed: marked failed")


def _in_release(lake, url: str) -> bool:
    rows = lake.iter_rows("SELECT count(*) AS n FROM training_corpus WHERE url = ?", params=[url],
                          tables=["training_corpus"])
    return next(iter(rows))["n"] > 0


def _request_takedown(lake, url: str) -> None:
    """Take a page down as `goldpan takedown --url` does: record the request (the `takedowns` table), then delete
    its rows from every derived table and mark the frontier; once per URL."""
    from goldpan.audit.erase import apply_takedown
    from goldpan.audit.takedowns import TakedownMatcher, record_request

    if TakedownMatcher.from_lake(lake).match(url) is not None:
        return
    req = record_request(lake, "url", url, "demo: the author asked for removal", requested_by="demo")
    res = apply_takedown(lake, req)
    deleted = ", ".join(f"{t} {n}" for t, n in sorted(res.rows_deleted.items()) if n) or "nothing"
    print(f"takedown request recorded: rows deleted: {deleted}")


if __name__ == "__main__":
    sys.exit(main())
