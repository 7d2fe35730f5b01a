"""`make demo`: serve the bundled sample site on 127.0.0.1, run the whole graph for one crawl batch,
stop the server, and print the funnel and the corpus release.

The run is recorded in the Dagster instance under $DAGSTER_HOME (default .dagster_home), so
`make ui` shows it afterwards. The demo batch id is reused on later runs: re-running replaces that
batch (predicate overwrite) instead of adding a new one, so row counts stay the same.
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
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text("telemetry:\n  enabled: false\n")


def demo_batch(instance, partitions_name: str) -> str:
    from assets.triggers import new_batch_id

    existing = [k for k in instance.get_dynamic_partitions(partitions_name) if k.endswith("-demo")]
    if existing:
        return min(existing)
    batch = new_batch_id("demo")
    instance.add_dynamic_partitions(partitions_name, [batch])
    return batch


DEMO_PORT = 8765  # the recipe's default seed; a fixed port keeps URLs, and so ids, stable across runs


def _start_site(site_cls):
    try:
        return site_cls(port=DEMO_PORT).start()
    except OSError:
        print(f"port {DEMO_PORT} is busy: serving the sample site on a free port (URLs, and so doc ids, will differ "
              "from earlier demo runs)")
        return site_cls(port=0).start()


def main() -> int:
    import warnings

    warnings.filterwarnings("ignore")
    ensure_dagster_home()
    import dagster as dg

    from assets.partitions import crawl_batches
    from definitions import defs
    from goldpan.lake import Lake
    from goldpan.lineage.report import format_funnel
    from goldpan.release.promote import releases
    from goldpan.sample_site import SampleSite

    lake_root = os.environ.get("GOLDPAN_LAKE", "lake")
    t0 = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        batch = demo_batch(instance, crawl_batches.name)
        with _start_site(SampleSite) as site:
            os.environ["GOLDPAN_SEED_URL"] = site.url("/")
            print(f"sample site serving {site.base_url} ; crawling batch {batch} into {Path(lake_root).resolve()}")
            job = defs.resolve_job_def("full_batch_job")
            result = job.execute_in_process(instance=instance, partition_key=batch, raise_on_error=False)
        print("sample site stopped")
        lake = Lake(lake_root)
        print()
        print(f"funnel for batch {batch} (mix and candidate span all batches):")
        print(format_funnel(lake, batch))
        print()
        gate = [e for e in result.get_asset_check_evaluations() if e.check_name == "candidate_gate"]
        history = releases(lake)
        last = history[-1] if history else None
        if gate and not gate[0].passed:
            print("quality gate FAILED: the corpus stays at its previous version")
            print("see `.venv/bin/goldpan releases` for the failed expectations")
        if last is not None and last["status"] in ("promoted", "unchanged"):
            print(f"training corpus: release {last['release']} ({last['status']}), Delta version {last['corpus_version']}, "
                  f"{last['n_docs']} documents, {last['n_words']} words")
            print(f"  path: {lake.uri('training_corpus')}")
        print(f"dagster run {result.run_id} {'succeeded' if result.success else 'FAILED'} in {time.monotonic() - t0:.1f}s")
        print("next: `make ui` to browse it, `.venv/bin/goldpan trace <url>` to follow a document")
        return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
