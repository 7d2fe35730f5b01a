"""End to end on real volume: goldpan's whole graph vs datatrove's FineWeb-style pipeline, same WARC.

The WARC: >= 5,000 real documentation pages in 20 languages (Chinese and Japanese included) from
Debian documentation packages, built by bench/realdocs.py into its cache, split into 4 shard files
so both systems can spread the files over their 2 workers (datatrove parallelises by file).

Runs, one after the other in this one invocation, on the same shards:
1. goldpan: `goldpan run --warc <shards>` with a fresh lake and Dagster instance (the whole graph:
   import, extract, dedup, filter, classify incl. training its models, mix, candidate, gate, release),
   with GOLDPAN_WORKERS=1 and =2.
2. datatrove 0.10.1 in its own venv (bench/.venv-datatrove, as bench/datatrove_agreement.py), built from
   its own classes by bench/datatrove_fineweb.py with LocalPipelineExecutor(tasks=4, workers=2): WarcReader,
   Trafilatura, LanguageFilter, GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter,
   then MinHash dedup (signatures, buckets, clusters, filter), as datatrove's examples/fineweb.py.

Prints wall time, CPU time (user + system of the whole process tree, from wait4) and peak RSS (sum of the
tree's resident sets, sampled every 0.2 s) for each, and the ratios. Writes bench/out/end_to_end.json.
The machine may be shared: ratios from this one run are what to compare.

`--quick`: 1,000 pages, goldpan with 2 workers and datatrove only. `--ui-job`: also `full_batch_job` with
2 workers as the UI, schedule and sensors launch it (bench/full_batch_job_run.py), under the code
location's executor and under Dagster's multiprocess executor (one process per step).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

SHARDS = 4


def shard_warcs(pages: int) -> list[Path]:
    """The first `pages` real pages as SHARDS WARC files (cached next to realdocs' own WARCs)."""
    import realdocs

    folder = realdocs.cache_dir() / "warc" / f"end_to_end-{pages}"
    files = [folder / f"shard-{i}.warc.gz" for i in range(SHARDS)]
    if all(f.exists() for f in files):
        return files
    docs = realdocs.real_pages(pages)
    for i, f in enumerate(files):
        realdocs.write_warc(docs[i::SHARDS], f)
    return files


class TreeSampler:
    """Peak of the summed RSS of a process and all its descendants, and their CPU seconds, sampled on a
    thread. CPU is sampled too because wait4 only counts descendants their parents reaped: a
    forkserver outlives the run's main process and its workers' time never reaches wait4."""

    # PSS comes from /proc/PID/smaps_rollup, which the kernel builds by walking every page: ~40 ms per
    # sample over a run's 9 processes, 15 % of a core at 5 samples/s (measured), taken from the runs it
    # measures (on 2 cores a 2-worker run has no idle core to absorb it; a 1-worker run has). So PSS is
    # read every 2 s, and sooner when the RSS sum has grown 5 % past its value at the last PSS read
    # (a new peak the reported PSS should cover); RSS and CPU (cheap: statm, stat) at every sample.
    PSS_EVERY_S = 2.0
    PSS_GROWTH = 1.05

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self._last_pss = 0.0
        self._rss_at_pss = 0
        self.peak = 0
        self.peak_by_role: dict[str, int] = {}  # the tree's RSS at its peak, by role (driver, forkserver, worker...)
        self._roles: dict[int, str] = {}
        self.peak_pss = 0  # proportional set size: a page shared by n processes counts 1/n in each
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> last user+system seconds
        self.series: list[tuple[float, float]] = []  # (epoch seconds, CPU seconds of the tree so far)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                roles: dict[str, int] = {}
                alive = []
                for p in procs:
                    try:
                        rss = p.memory_info().rss
                        total += rss
                        role = self._role(p)
                        roles[role] = roles.get(role, 0) + rss
                        t = p.cpu_times()
                        self.cpu[(p.pid, p.create_time())] = t.user + t.system
                        alive.append(p.pid)
                    except psutil.Error:
                        pass
                now = time.monotonic()
                new_peak = total > self.peak
                if new_peak:
                    self.peak, self.peak_by_role = total, roles
                # PSS <= RSS: a sum of RSS at or below the PSS peak so far cannot raise it
                if total > self.peak_pss and (now - self._last_pss >= self.PSS_EVERY_S
                                              or (new_peak and total > self.PSS_GROWTH * self._rss_at_pss)):
                    self._last_pss, self._rss_at_pss = now, total
                    self.peak_pss = max(self.peak_pss, sum(_pss(pid) for pid in alive))
                self.series.append((time.time(), self.cpu_s))
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def _role(self, p: psutil.Process) -> str:
        """driver (the measured command), forkserver, worker (forked by a forkserver, or a child of the
        driver), tracker (multiprocessing's resource tracker) or other."""
        if p.pid not in self._roles:
            try:
                cmd = " ".join(p.cmdline())
                parent = p.ppid()
            except psutil.Error:
                return "other"
            if p.pid == self.proc.pid:
                role = "driver"
            elif "resource_tracker" in cmd:
                role = "tracker"
            elif "forkserver" in cmd and parent == self.proc.pid:
                role = "forkserver"
            elif "forkserver" in cmd or "python" in cmd:
                role = "worker"
            else:
                role = "other"
            self._roles[p.pid] = role
        return self._roles[p.pid]

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _pss(pid: int) -> int:
    """Proportional set size of `pid` in bytes (0 when unavailable). Why beside the RSS sum: forked
    workers share their parent's pages, and a sum of RSS counts every shared page once per process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def measure(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict:
    """Run `cmd`; wall and CPU seconds of its whole tree, peak tree RSS, exit code."""
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
        with TreeSampler(proc.pid) as sampler:
            _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    cpu = max(ru.ru_utime + ru.ru_stime, sampler.cpu_s)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_rss_mb": round(sampler.peak / 2**20), "peak_pss_mb": round(sampler.peak_pss / 2**20),
            "peak_rss_by_role_mb": {k: round(v / 2**20) for k, v in sorted(sampler.peak_by_role.items())},
            "exit": proc.returncode, "log": str(log), "cpu_series": sampler.series}


BATCH = "b20260101T000000-end-to-end"


def run_goldpan(shards: list[Path], workers: int, work: Path, steps: int | None = None) -> dict:
    """`goldpan run` over the shards with `workers` workers; `steps`: Dagster steps at once
    (GOLDPAN_CONCURRENT_STEPS) instead of the recipe's (2 at once, 1 heavy: assets/executor.py)."""
    name = f"{workers}{f'_steps{steps}' if steps else ''}"
    lake, home = work / f"gp{name}-lake", work / f"gp{name}-dagster"
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "GOLDPAN_WORKERS": str(workers), "DAGSTER_HOME": str(home), "GOLDPAN_LAKE": str(lake)}
    env.pop("GOLDPAN_ENGINE", None)
    env.pop("GOLDPAN_CONCURRENT_STEPS", None)
    if steps:
        env["GOLDPAN_CONCURRENT_STEPS"] = str(steps)
    # One batch id for every run: page ids, the keep-first order of duplicates and the batch's trained
    # quality model follow from it, so runs with other ids (the default is the time) release a document
    # more or less (2,579 against 2,580) where the worker count changes nothing (bench/graph_hashes.py).
    cmd = [sys.executable, "-m", "goldpan.cli", "--lake", str(lake), "run", "--recipe",
           str(ROOT / "recipes" / "warc.yaml"), "--batch", BATCH, "--warc", *map(str, shards)]
    res = measure(cmd, env, ROOT, OUT / f"end_to_end_goldpan_{name}.log")
    res.update(_goldpan_counts(lake))
    res["steps"] = step_metrics(home)
    res["timeline"] = timeline(step_spans(home), res.pop("cpu_series"))
    return res


def run_ui_job(shards: list[Path], workers: int, work: Path, executor: str) -> dict:
    """`full_batch_job`, as the UI, schedule and sensors launch it (bench/full_batch_job_run.py), under the
    code location's executor (`location`) or Dagster's multiprocess executor (`multiprocess`)."""
    name = f"ui_{workers}_{executor}"
    lake, home = work / f"{name}-lake", work / f"{name}-dagster"
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "GOLDPAN_WORKERS": str(workers), "DAGSTER_HOME": str(home), "GOLDPAN_LAKE": str(lake),
           "GOLDPAN_RECIPE": str(ROOT / "recipes" / "warc.yaml")}
    env.pop("GOLDPAN_ENGINE", None)
    env.pop("GOLDPAN_CONCURRENT_STEPS", None)
    cmd = [sys.executable, str(ROOT / "bench" / "full_batch_job_run.py"), "b20260101T000000-e2e",
           *map(str, shards), "--executor", executor]
    res = measure(cmd, env, ROOT, OUT / f"end_to_end_goldpan_{name}.log")
    res.update(_goldpan_counts(lake))
    res["steps"] = step_metrics(home)
    res["timeline"] = timeline(step_spans(home), res.pop("cpu_series"))
    return res


STEP_KEYS = ("stage_seconds", "cpu_s", "cpu_ms_per_doc", "cpu_ms_per_row", "docs_per_s", "rows_per_s", "pages_per_s",
             "peak_rss_mb", "peak_rss_driver_mb", "peak_rss_max_worker_mb")


def step_metrics(dagster_home: Path) -> dict[str, dict]:
    """Per-asset wall, CPU, throughput and peak tree RSS of the run, from its materialization metadata."""
    import subprocess as sp

    code = (
        "import json, dagster as dg\n"
        "inst = dg.DagsterInstance.get()\n"
        "recs = inst.get_event_records(dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_MATERIALIZATION), "
        "limit=500)\n"
        "out = {}\n"
        "for r in recs:\n"
        "    m = r.event_log_entry.dagster_event.event_specific_data.materialization\n"
        f"    md = {{k: getattr(v, 'value', v) for k, v in m.metadata.items() if k in {STEP_KEYS!r}}}\n"
        "    out.setdefault(m.asset_key.to_user_string(), md)\n"
        "print(json.dumps(out))\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    proc = sp.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, cwd=ROOT)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {}


def step_spans(dagster_home: Path) -> dict[str, tuple[float, float]]:
    """Each step's (start, end) epoch seconds in the instance's last run, from its event log (the UI's
    timeline)."""
    import subprocess as sp

    code = (
        "import json, dagster as dg\n"
        "inst = dg.DagsterInstance.get()\n"
        "run = inst.get_runs(limit=1)[0]\n"
        "spans = {}\n"
        "for e in inst.all_logs(run.run_id):\n"
        "    ev = e.dagster_event\n"
        "    if ev is None or not ev.step_key: continue\n"
        "    if ev.event_type_value == 'STEP_START': spans[ev.step_key] = [e.timestamp, None]\n"
        "    elif ev.event_type_value in ('STEP_SUCCESS', 'STEP_FAILURE') and ev.step_key in spans:\n"
        "        spans[ev.step_key][1] = e.timestamp\n"
        "print(json.dumps(spans))\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    proc = sp.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, cwd=ROOT)
    try:
        spans = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {}
    return {k: (a, b) for k, (a, b) in spans.items() if b is not None}


def timeline(spans: dict[str, tuple[float, float]], series: list[tuple[float, float]],
             busy_below: float = 1.5) -> dict:
    """Where the wall time went: per step its span and the cores the run's process tree kept busy
    meanwhile (CPU seconds / wall seconds), and the time with fewer than `busy_below` cores busy (one
    core idle on 2 cores) charged to the steps running then ("between steps" when none ran: start-up,
    Dagster's own work). Why from samples of the whole tree: a step's metadata CPU cannot show what
    the other core did while it ran."""
    if len(series) < 2:
        return {}
    t_first, t_last = series[0][0], series[-1][0]
    underused: dict[str, float] = {}
    total_under = 0.0
    for (t0, c0), (t1, c1) in itertools.pairwise(series):
        dt = t1 - t0
        if dt <= 0 or (c1 - c0) / dt >= busy_below:
            continue
        total_under += dt
        mid = (t0 + t1) / 2
        running = [k for k, (a, b) in spans.items() if a <= mid < b] or ["between steps"]
        for k in running:
            underused[k] = underused.get(k, 0.0) + dt / len(running)

    def cpu_at(t: float) -> float:
        for (ta, ca), (tb, cb) in itertools.pairwise(series):
            if ta <= t <= tb:
                return ca + (cb - ca) * ((t - ta) / (tb - ta) if tb > ta else 0.0)
        return series[-1][1] if t > t_last else series[0][1]

    steps = {}
    for k, (a, b) in sorted(spans.items(), key=lambda kv: kv[1][0]):
        steps[k] = {"start_s": round(a - t_first, 1), "wall_s": round(b - a, 2),
                    "cores_busy": round((cpu_at(b) - cpu_at(a)) / (b - a), 2) if b > a else 0.0,
                    "underused_s": round(underused.get(k, 0.0), 1)}
    return {"wall_s": round(t_last - t_first, 1), "busy_below": busy_below,
            "underused_s": round(total_under, 1), "between_steps_underused_s": round(underused.get("between steps", 0.0), 1),
            "steps": steps}


def print_timeline(name: str, tl: dict) -> None:
    if not tl:
        return
    print(f"\n{name}: timeline (start s, wall s, cores busy in the tree meanwhile, s with < {tl['busy_below']} cores "
          f"busy charged to the step); {tl['underused_s']} s of {tl['wall_s']} s had < {tl['busy_below']} cores busy, "
          f"{tl['between_steps_underused_s']} s of them between steps")
    for step, m in tl["steps"].items():
        print(f"  {step:<44}{m['start_s']:>8}{m['wall_s']:>8}{m['cores_busy']:>7}{m['underused_s']:>7}")


def print_steps(name: str, steps: dict[str, dict]) -> None:
    print(f"\n{name}: per step (wall s, CPU s of the process and its workers, CPU ms per row, rows/s, peak RSS MB of "
          "the tree, of the driver alone, of its largest child process)")
    for step, m in sorted(steps.items(), key=lambda kv: -float(kv[1].get("cpu_s") or 0)):
        rate = m.get("docs_per_s", m.get("pages_per_s", m.get("rows_per_s", "")))
        per = m.get("cpu_ms_per_doc", m.get("cpu_ms_per_row", ""))
        print(f"  {step:<20}{m.get('stage_seconds', ''):>10}{m.get('cpu_s', ''):>10}{per:>10}{rate:>10}"
              f"{m.get('peak_rss_mb', ''):>10}{m.get('peak_rss_driver_mb', ''):>10}{m.get('peak_rss_max_worker_mb', ''):>10}")


def _goldpan_counts(lake: Path) -> dict:
    from goldpan.lake import Lake

    lk = Lake(lake)
    if not lk.exists("documents"):
        return {}
    with lk.connect() as con:
        q = lambda sql: con.execute(sql).fetchone()[0]
        return {
            "records": q("SELECT count(*) FROM pages"),
            "documents_kept": q("SELECT count(*) FROM documents WHERE status = 'kept'"),
            "after_filter": q("SELECT count(*) FROM doc_signals s WHERE status = 'kept' AND doc_id NOT IN "
                              "(SELECT doc_id FROM rejections WHERE stage = 'filter')"),
            "release_docs": q("SELECT count(*) FROM training_corpus") if lk.exists("training_corpus") else 0,
        }


def run_datatrove(shards: list[Path], work: Path) -> dict:
    from datatrove_agreement import ensure_datatrove_venv

    from goldpan.extract.langid import default_model_path

    py = ensure_datatrove_venv(extra=["warcio==1.8.1", "trafilatura>=2.3,<2.4", "fasttext-numpy2-wheel", "xxhash<4", "tokenizers", "fasteners", "faust-cchardet", "python-magic", "orjson",
                                         "lxml_html_clean"])
    out = work / "datatrove"
    shutil.rmtree(out, ignore_errors=True)
    data = work / "dt-input"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    for s in shards:
        os.symlink(s, data / s.name)
    cmd = [str(py), str(BENCH / "datatrove_fineweb.py"), "--input", str(data), "--output", str(out),
           "--lid-model", default_model_path(), "--tasks", str(SHARDS), "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    res = measure(cmd, env, ROOT, OUT / "end_to_end_datatrove.log")
    res.pop("cpu_series", None)
    counts = out / "counts.json"
    if counts.exists():
        res.update(json.loads(counts.read_text()))
    return res


def _brief(res: dict) -> dict:
    return {k: v for k, v in res.items() if k not in ("steps", "timeline")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=6000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--workers", default="1,2", help="goldpan worker counts to run (default 1,2)")
    ap.add_argument("--concurrent-steps", type=int, default=0, metavar="N",
                    help="also run goldpan with 2 workers and N Dagster steps at once (GOLDPAN_CONCURRENT_STEPS)")
    ap.add_argument("--ui-job", action="store_true",
                    help="also run full_batch_job with 2 workers as the UI launches it, under the code location's "
                         "executor and under Dagster's multiprocess executor")
    args = ap.parse_args(argv)
    pages = 1000 if args.quick else args.pages
    workers = [2] if args.quick else [int(w) for w in args.workers.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    shards = shard_warcs(pages)
    mb = sum(s.stat().st_size for s in shards) / 1e6
    print(f"WARC: {pages} real pages in {len(shards)} shards, {mb:.1f} MB; machine: {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    loads = [os.getloadavg()[0]]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="goldpan-e2e-") as tmp:
        work = Path(tmp)
        # goldpan with 2 workers first, then the baseline, then goldpan with 1 worker: the figures
        # that matter most are in even if the run is cut short.
        order = sorted(workers, key=lambda w: (w != 2, -w))
        for i, w in enumerate(order):
            print(f"goldpan whole graph ({w} worker{'s' if w > 1 else ''}) ...", flush=True)
            results[f"goldpan_{w}"] = run_goldpan(shards, w, work)
            print(f"  {_brief(results[f'goldpan_{w}'])}", flush=True)
            loads.append(os.getloadavg()[0])
            if i == 0 and args.concurrent_steps:
                key = f"goldpan_2_steps{args.concurrent_steps}"
                print(f"goldpan whole graph (2 workers, {args.concurrent_steps} steps at once) ...", flush=True)
                results[key] = run_goldpan(shards, 2, work, steps=args.concurrent_steps)
                print(f"  {_brief(results[key])}", flush=True)
                loads.append(os.getloadavg()[0])
            if i == 0 and args.ui_job:
                for executor in ("location", "multiprocess"):
                    key = f"goldpan_ui_2_{executor}"
                    print(f"goldpan full_batch_job as the UI runs it (2 workers, {executor} executor) ...", flush=True)
                    results[key] = run_ui_job(shards, 2, work, executor)
                    print(f"  {_brief(results[key])}", flush=True)
                    loads.append(os.getloadavg()[0])
            if i == 0 and not args.skip_datatrove:
                print("datatrove FineWeb pipeline (2 workers) ...", flush=True)
                results["datatrove_2"] = run_datatrove(shards, work)
                print(f"  {results['datatrove_2']}", flush=True)
                loads.append(os.getloadavg()[0])
    print()
    print(f"{'run':<14}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}{'peak PSS MB':>13}{'exit':>6}   output")
    for name, r in results.items():
        extra = {k: v for k, v in r.items()
                 if k not in ("wall_s", "cpu_s", "peak_rss_mb", "peak_pss_mb", "exit", "log", "steps",
                              "peak_rss_by_role_mb")}
        print(f"{name:<14}{r['wall_s']:>9}{r['cpu_s']:>9}{r['peak_rss_mb']:>13}{r.get('peak_pss_mb', ''):>13}"
              f"{r['exit']:>6}   {extra}")
    print("\nthe process tree's RSS at its peak, by process role (MB):")
    for name, r in results.items():
        print(f"  {name:<14}{r.get('peak_rss_by_role_mb')}")
    for name, r in results.items():
        if r.get("steps"):
            print_steps(name, r["steps"])
    for name, r in results.items():
        print_timeline(name, r.get("timeline") or {})
    ratios = {}
    gp2, dt = results.get("goldpan_2"), results.get("datatrove_2")
    if gp2 and dt:
        ratios["datatrove_over_goldpan_wall"] = round(dt["wall_s"] / gp2["wall_s"], 2)
        ratios["datatrove_over_goldpan_cpu"] = round(dt["cpu_s"] / gp2["cpu_s"], 2)
        ratios["goldpan_over_datatrove_peak_rss"] = round(gp2["peak_rss_mb"] / dt["peak_rss_mb"], 2)
        if dt.get("peak_pss_mb"):
            ratios["goldpan_over_datatrove_peak_pss"] = round(gp2["peak_pss_mb"] / dt["peak_pss_mb"], 2)
    conc = results.get(f"goldpan_2_steps{args.concurrent_steps}")
    if gp2 and conc:
        ratios["goldpan_2_one_step_over_concurrent_steps_wall"] = round(gp2["wall_s"] / conc["wall_s"], 2)
    if gp2 and results.get("goldpan_1"):
        ratios["goldpan_1_over_2_workers_wall"] = round(results["goldpan_1"]["wall_s"] / gp2["wall_s"], 2)
        ratios["goldpan_2_over_1_workers_cpu"] = round(gp2["cpu_s"] / results["goldpan_1"]["cpu_s"], 2)
    print()
    for k, v in ratios.items():
        print(f"{k:<36}{v:>8}")
    print("targets: datatrove/goldpan wall >= 10, goldpan/datatrove peak RSS <= 1, goldpan 1/2 workers >= 1.8")
    print(f"1-minute load average at the start and after each run: {', '.join(f'{x:.1f}' for x in loads)} "
          f"({os.cpu_count()} cores)")
    (OUT / "end_to_end.json").write_text(json.dumps({"pages": pages, "shards": [str(s) for s in shards],
                                                     "load_averages": loads, "results": results, "ratios": ratios},
                                                    indent=2))
    return 0 if all(r["exit"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
