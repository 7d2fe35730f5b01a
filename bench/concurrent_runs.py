"""Batches of real pages processed one after the other, and all at once through Dagster's run queue.

Issue 22's measure: four batches of real documentation pages (Debian packages, bench/realdocs.py), each
holding copies of pages of the batch before it under mirror URLs, so every batch's dedup depends on the
one before. They are processed twice on fresh lakes:

- **sequential**: one `full_batch_job` run after the other, in batch order (tests/integration/job_process.py);
- **queued**: one backfill of all batches (`dagster job backfill`), launched by the real `dagster-daemon`
  through the instance's run queue (`instance/dagster.yaml`: four runs at once), so the runs overlap and
  the ordering of `assets/ordering.py` is what keeps their cross-batch steps in batch order.

It prints both wall times and whether every compared table (ids and decisions, see `COMPARED`) is
identical. The integration test `tests/integration/test_concurrent_runs.py` runs the same harness on
small batches.

    python bench/concurrent_runs.py [--per-batch 150] [--batches 4] [--job goldpan_run_job]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUNNER = ROOT / "tests" / "integration" / "job_process.py"

# Small packages (the ones tests/integration/test_real_size.py downloads too) in four languages.
PACKAGES = {
    "en": ("postgresql-doc-15",),
    "zh": ("libreoffice-help-zh-cn", "debian-reference-zh-cn"),
    "ja": ("libreoffice-help-ja", "maint-guide-ja"),
    "de": ("libreoffice-help-de", "debian-reference-de"),
}

# What must be identical between the two ways of running: every decision, keyed by the ids that link
# it upstream (no timestamps, no run ids).
COMPARED = {
    "pages": "SELECT page_id, batch_id, status, reason FROM pages",
    "documents": "SELECT doc_id, page_id, status, rule FROM documents",
    "dedup_clusters": "SELECT doc_id, status, rule, duplicate_of, is_representative, cluster_id, cluster_size, "
                      "paragraphs_removed FROM dedup_clusters",
    "rejections": "SELECT doc_id, stage, rule, round(value, 6), threshold FROM rejections",
    "quality_decisions": "SELECT doc_id, stage, rule, round(value, 6), threshold FROM quality_decisions",
    "doc_scores": "SELECT doc_id, round(quality_score, 4), domain FROM doc_scores",
    "mix_decisions": "SELECT doc_id, status, rule, repeat FROM mix_decisions",
    "training_corpus": "SELECT doc_id, md5(text), repeat FROM training_corpus",
    "corpus_releases": "SELECT release, status, n_docs, content_sha1 FROM corpus_releases",
}


def _realdocs():
    if "realdocs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("realdocs", ROOT / "bench" / "realdocs.py")
        mod = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        sys.modules["realdocs"] = mod  # its dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(mod)
    return sys.modules["realdocs"]


def real_batches(out_dir: Path, per_batch: int, n_batches: int = 4, copies: int = 8) -> list[tuple[str, Path]]:
    """`n_batches` WARCs of `per_batch` distinct real pages each; batch k>0 also holds `copies` pages of
    batch k-1 published under a mirror host, which its dedup can only find by looking at batch k-1.
    Raises realdocs.PackageUnavailable when no package can be downloaded."""
    rd = _realdocs()
    pages = rd.real_pages(per_batch * n_batches, list(PACKAGES), packages=PACKAGES)
    if len(pages) < per_batch * n_batches:
        raise RuntimeError(f"only {len(pages)} real pages in {PACKAGES}")
    out = []
    for k in range(n_batches):
        own = pages[k * per_batch:(k + 1) * per_batch]
        mirrored = []
        if k:
            prev = pages[(k - 1) * per_batch:k * per_batch]
            mirrored = [dataclasses.replace(p, url=p.url.replace("https://", f"https://mirror{k}.", 1))
                        for p in prev[:copies]]
        batch = f"b2026010{k + 1}T000000-real{k + 1}"
        out.append((batch, rd.write_warc(own + mirrored, Path(out_dir) / f"{batch}.warc.gz")))
    return out


def env_for(home: Path, lake: Path, recipe: Path, workers: int = 1, steps: int = 1) -> dict[str, str]:
    """The environment of a run: its instance, lake and recipe, `workers` engine workers and `steps`
    Dagster steps at once on the run's threads (GOLDPAN_CONCURRENT_STEPS)."""
    return {**os.environ, "DAGSTER_HOME": str(home), "GOLDPAN_LAKE": str(lake), "GOLDPAN_RECIPE": str(recipe),
            "GOLDPAN_WORKERS": str(workers), "GOLDPAN_CONCURRENT_STEPS": str(steps)}


def prepare(home: Path, lake: Path, batches: Sequence[tuple[str, Path]], recipe: Path) -> None:
    """A fresh instance with the project's config, the batches registered as partitions and, in the
    lake's batch registry, with their WARC files (what a backfill launched from the UI relies on: its
    runs carry no run config)."""
    import dagster as dg

    from assets.partitions import crawl_batches
    from goldpan.crawl.batch_table import WARC, record_batch
    from goldpan.lake import Lake
    from goldpan.recipe_loader import load_recipe
    from resources.instance import prepare_instance

    prepare_instance(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(crawl_batches.name, [b for b, _ in batches])
    lk, rc = Lake(str(lake)), load_recipe(str(recipe))
    for batch, warc in batches:
        record_batch(lk, batch, kind=WARC, sources=[str(warc)], recipe_id=rc.recipe_id, state="registered")


def run_sequential(env: dict[str, str], batches: Sequence[tuple[str, Path]],
                   one_process: bool = False) -> tuple[float, dict[str, list[str]]]:
    """Each batch's `full_batch_job`, one after the other, each in its own process or (`one_process`,
    the tests' reference: the same runs without a process start-up each) all in one process;
    (seconds, failed steps per batch)."""
    t0 = time.perf_counter()
    failed = {}
    if one_process:
        proc = subprocess.run([sys.executable, str(RUNNER), "--each", *(b for b, _ in batches)], cwd=ROOT, env=env,
                              capture_output=True, check=False, text=True, timeout=1800 * len(batches))
        out = proc.stdout + proc.stderr
        for batch, _ in batches:
            mine = [x for x in out.splitlines() if x.startswith(f"{batch}: ")]
            if not mine:
                raise RuntimeError(f"the run of {batch} printed no result:\n{out[-4000:]}")
            failed[batch] = _failed_steps(mine[-1])
        return time.perf_counter() - t0, failed
    for batch, _ in batches:
        proc = subprocess.run([sys.executable, str(RUNNER), batch], cwd=ROOT, env=env, capture_output=True, check=False,
                              text=True, timeout=1800)
        failed[batch] = _failed_steps(proc.stdout + proc.stderr)
    return time.perf_counter() - t0, failed


def run_at_once(env: dict[str, str], batches: Sequence[tuple[str, Path]]) -> tuple[float, dict[str, list[str]]]:
    """Each batch's `full_batch_job` in its own process, all started at the same moment (in batch order,
    as a queue submits them); (seconds until the last ended, failed steps per batch)."""
    t0 = time.perf_counter()
    procs = {batch: subprocess.Popen([sys.executable, str(RUNNER), batch], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True) for batch, _ in batches}
    failed = {batch: _failed_steps(proc.communicate(timeout=1800)[0]) for batch, proc in procs.items()}
    return time.perf_counter() - t0, failed


def _failed_steps(out: str) -> list[str]:
    line = [x for x in out.splitlines() if "failed_steps=" in x]
    if not line:
        raise RuntimeError(f"run printed no result:\n{out[-4000:]}")
    return json.loads(line[-1].split("failed_steps=", 1)[1])


def run_backfill(env: dict[str, str], batches: Sequence[tuple[str, Path]], job: str = "goldpan_run_job",
                 timeout_s: float = 3600) -> tuple[float, dict[str, dict]]:
    """One backfill of every batch, launched by a real `dagster-daemon` through the instance's run queue.
    Returns (seconds from submission until the last run ended, per batch: status and failed steps)."""
    import dagster as dg

    bindir = Path(sys.executable).parent
    home = env["DAGSTER_HOME"]
    # The daemon's output, and that of the runs it launches, goes to a file: a pipe nobody reads fills
    # up and blocks every process that writes to it (the runs would hang before reporting their end).
    log_path = Path(home) / "daemon.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed in the finally below
    daemon = subprocess.Popen([str(bindir / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.perf_counter()
        sub = subprocess.run([str(bindir / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", job,
                              "--partitions", ",".join(b for b, _ in batches), "--noprompt"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        if sub.returncode != 0:
            raise RuntimeError(f"dagster job backfill failed:\n{sub.stdout}\n{sub.stderr}")
        done = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
        with dg.DagsterInstance.from_config(home) as instance:
            while True:
                runs = {r.tags.get("dagster/partition"): r for r in instance.get_runs()}
                if len(runs) >= len(batches) and all(r.status in done for r in runs.values()):
                    break
                if time.perf_counter() - t0 > timeout_s:
                    raise TimeoutError(f"backfill unfinished after {timeout_s} s: "
                                       f"{ {b: r.status.value for b, r in runs.items()} }\n"
                                       f"{log_path.read_text(errors='replace')[-4000:]}")
                if daemon.poll() is not None:
                    raise RuntimeError(f"dagster-daemon exited:\n{log_path.read_text(errors='replace')[-4000:]}")
                time.sleep(2)
            seconds = time.perf_counter() - t0
            out = {}
            for batch, run in runs.items():
                events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
                out[batch] = {"status": run.status.value, "run_id": run.run_id,
                              "failed_steps": sorted({e.step_key for e in events})}
        return seconds, out
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        log.close()


def compared_tables(lake_root: Path) -> dict[str, list[tuple]]:
    from goldpan.lake import Lake

    with Lake(str(lake_root)).connect() as con:
        return {name: sorted(con.sql(sql).fetchall(), key=repr) for name, sql in COMPARED.items()}


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> dict[str, int]:
    """Per table, how many rows are in one and not the other (0 everywhere means identical)."""
    return {name: len(set(a[name]) ^ set(b[name])) for name in COMPARED}


def main(argv: Sequence[str] | None = None) -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-batch", type=int, default=150, help="distinct real pages per batch")
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--job", default="goldpan_run_job", help="the job the backfill runs")
    ap.add_argument("--recipe", default=str(ROOT / "recipes" / "warc.yaml"))
    ap.add_argument("--quick", action="store_true", help="40 pages per batch")
    args = ap.parse_args(argv)
    per = 40 if args.quick else args.per_batch
    work = Path(tempfile.mkdtemp(prefix="goldpan-concurrent-"))
    batches = real_batches(work / "warc", per, args.batches)
    recipe = Path(args.recipe)
    load0 = os.getloadavg()
    result: dict = {"batches": args.batches, "pages_per_batch": per, "job": args.job, "cpus": os.cpu_count()}
    seq_env = env_for(work / "seq_home", work / "seq_lake", recipe)
    prepare(work / "seq_home", work / "seq_lake", batches, recipe)
    result["sequential_s"], result["sequential_failed"] = run_sequential(seq_env, batches)
    q_env = env_for(work / "q_home", work / "q_lake", recipe)
    prepare(work / "q_home", work / "q_lake", batches, recipe)
    result["queued_s"], result["queued_runs"] = run_backfill(q_env, batches, job=args.job)
    diff = differences(compared_tables(work / "seq_lake"), compared_tables(work / "q_lake"))
    result["differing_rows"] = diff
    result["identical"] = not any(diff.values())
    result["loadavg_start"], result["loadavg_end"] = load0, os.getloadavg()
    print(f"{args.batches} batches x {per} real pages (+ mirrored copies of the batch before)")
    print(f"  sequential (one run after the other): {result['sequential_s']:8.1f} s")
    print(f"  queued backfill (dagster-daemon, {args.job}): {result['queued_s']:8.1f} s "
          f"({result['sequential_s'] / result['queued_s']:.2f}x)")
    print(f"  tables identical: {result['identical']}  {diff}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "concurrent_runs.json").write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
