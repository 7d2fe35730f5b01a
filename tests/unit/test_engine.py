"""The engine seam: ordered, bounded, same rows whatever the engine and worker count.

The determinism test runs every pooled stage (extract, dedup features, signals, scores, tokens) over
the real pages of the bundled WARC, in process and on 2 and 4 local workers with tiny batches (so
every worker holds several and finishes them out of order), and compares each table's content
in key order (deltalake's writer does not keep row order, see tests/fixtures/stage_runs.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pyarrow as pa
import pytest

from goldpan.engine import (
    EngineWorkerDied,
    InProcessEngine,
    LocalProcessEngine,
    StageMeter,
    make_engine,
    resolve_workers,
)
from goldpan.extract import stage as extract_stage
from goldpan.lake import Lake
from goldpan.recipe import EngineSection, ExtractSection, WarcSection
from goldpan.recipe_loader import load_recipe
from goldpan.warc.importer import import_warc_batch
from tests.fixtures.stage_runs import run_all_stages, slow_square, table_digest

REPO = Path(__file__).resolve().parents[2]
BATCH = "b-engine"


# -- batch functions the workers import by name --------------------------------------------------

def burn_cpu(batch: pa.RecordBatch, seconds: float) -> pa.RecordBatch:
    """Spin on the CPU for `seconds` of this worker's CPU time."""
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return batch


def die_on_three(batch: pa.RecordBatch, _ctx: None) -> pa.RecordBatch:
    if 3 in batch.column("x").to_pylist():
        os._exit(17)  # a worker killed mid-batch (out of memory, native crash)
    return batch


def die_in_second_batch(batch: pa.RecordBatch, ctx: tuple) -> pa.RecordBatch:
    """The stage's own function, but the first worker to run it dies in its next batch: after its
    part holds a batch, before the part is closed (a worker killed mid-slice)."""
    fn, marker, inner = ctx
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
    except FileExistsError:
        if Path(marker).read_text() == str(os.getpid()):
            os._exit(17)
    return fn(batch, inner)


class DyingSliceEngine(LocalProcessEngine):
    """The local engine whose slices run `die_in_second_batch` around the stage's function."""

    def __init__(self, marker: Path):
        super().__init__(2, lake_io="workers")
        self.marker = str(marker)

    def map_slices(self, fn, context, job):
        return super().map_slices(die_in_second_batch, (fn, self.marker, context), job)


def sigterm_ignored(batch: pa.RecordBatch, _ctx: None) -> pa.RecordBatch:
    """This worker's SIGTERM disposition, as the kernel reports it (bit 15 of SigIgn)."""
    with open(f"/proc/{os.getpid()}/status") as fh:
        mask = int(next(ln for ln in fh if ln.startswith("SigIgn:")).split()[1], 16)
    return pa.RecordBatch.from_pydict({"ignored": [bool(mask & (1 << (signal.SIGTERM - 1)))],
                                       "pid": [os.getpid()]})


def _numbers(n: int, pulled: list[int]):
    for i in range(n):
        pulled.append(i)
        yield pa.RecordBatch.from_pydict({"x": [i]})


# -- configuration -------------------------------------------------------------------------------

def test_worker_count_from_env_then_recipe_then_cores() -> None:
    assert resolve_workers(EngineSection(workers=3), env={"GOLDPAN_WORKERS": "2"}) == 2
    assert resolve_workers(EngineSection(workers=3), env={}) == 3
    assert resolve_workers(EngineSection(), env={}) == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="GOLDPAN_WORKERS"):
        resolve_workers(EngineSection(), env={"GOLDPAN_WORKERS": "zero"})
    assert isinstance(make_engine(EngineSection(workers=1), env={}), InProcessEngine)
    assert isinstance(make_engine(EngineSection(workers=4), env={"GOLDPAN_ENGINE": "inprocess"}), InProcessEngine)
    eng = make_engine(EngineSection(workers=2), env={})
    assert isinstance(eng, LocalProcessEngine) and eng.workers == 2


def test_lake_io_from_env_then_recipe_and_a_bad_value_is_named() -> None:
    assert make_engine(EngineSection(workers=2), env={}).lake_io == "driver"
    assert make_engine(EngineSection(workers=2, lake_io="workers"), env={}).workers_reach_lake
    assert make_engine(EngineSection(workers=2), env={"GOLDPAN_LAKE_IO": "workers"}).lake_io == "workers"
    assert not make_engine(EngineSection(workers=2, lake_io="workers"), env={"GOLDPAN_LAKE_IO": "driver"}).workers_reach_lake
    with pytest.raises(ValueError, match="GOLDPAN_LAKE_IO"):
        make_engine(EngineSection(workers=2), env={"GOLDPAN_LAKE_IO": "both"})


def test_engine_section_does_not_change_the_recipe_id() -> None:
    rc = load_recipe(REPO / "recipes" / "demo.yaml")
    other = rc.model_copy(update={"engine": EngineSection(workers=7, kind="inprocess")})
    assert other.recipe_id == rc.recipe_id


# -- ordering, bounded memory, dead workers ------------------------------------------------------

def test_local_engine_keeps_input_order_and_bounds_batches_in_flight() -> None:
    engine = LocalProcessEngine(workers=2, in_flight=3)
    pulled: list[int] = []
    out = []
    for b in engine.map_batches(slow_square, _numbers(10, pulled), 0.02):
        out.append(b)
        # never more than `in_flight` batches taken from the input ahead of what was yielded
        assert len(pulled) - len(out) <= 3
    assert [b.column("x")[0].as_py() for b in out] == list(range(10))
    assert [b.column("sq")[0].as_py() for b in out] == [i * i for i in range(10)]
    assert len({b.column("pid")[0].as_py() for b in out}) == 2  # both workers did work
    assert os.getpid() not in {b.column("pid")[0].as_py() for b in out}


def test_a_dead_worker_fails_the_stage_loudly_and_the_next_run_gets_a_fresh_pool() -> None:
    engine = LocalProcessEngine(workers=2)
    with pytest.raises(EngineWorkerDied):
        list(engine.map_batches(die_on_three, _numbers(6, []), None))
    again = list(engine.map_batches(slow_square, _numbers(4, []), 0.0))
    assert [b.column("x")[0].as_py() for b in again] == [0, 1, 2, 3]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the signal mask from /proc")
def test_pool_workers_take_sigterm_when_the_driver_ignores_it() -> None:
    """A run started with SIGINT ignored (nohup, `cmd &`, cron) ignores SIGTERM after any Dagster step
    (Dagster maps SIGTERM to SIGINT's action), and ignored signals survive fork and exec. The workers
    reset it, so a broken pool's shutdown, which terminates and joins the surviving workers, ends."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = LocalProcessEngine(workers=2)
    try:
        out = list(engine.map_batches(sigterm_ignored, _numbers(4, []), None))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert [b.column("ignored")[0].as_py() for b in out] == [False] * 4
    pid = out[0].column("pid")[0].as_py()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists() and \
            "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]:
        time.sleep(0.05)
    gone = not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    engine.close()
    assert gone, "a pool worker survived SIGTERM"


def _pool_in_a_child(rows: int) -> None:
    """A multiprocessing child (as a step of Dagster's multiprocess executor is) that uses the pool."""
    out = list(LocalProcessEngine(workers=2).map_batches(burn_cpu, _numbers(rows, []), 0.0))
    assert [b.column("x")[0].as_py() for b in out] == list(range(rows))


def test_a_multiprocessing_child_that_used_the_pool_exits() -> None:
    """Before the fix, multiprocessing's exit joined the pool's workers before anything shut the pool
    down: a UI run (multiprocess executor) hung forever after its first pooled step."""
    import multiprocessing as mp

    child = mp.get_context("spawn").Process(target=_pool_in_a_child, args=(6,))
    child.start()
    child.join(120)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the child hung at exit, joining its pool's workers"
    assert child.exitcode == 0


def test_stage_meter_counts_the_worker_processes_memory() -> None:
    engine = LocalProcessEngine(workers=2)
    list(engine.map_batches(slow_square, _numbers(2, []), 0.0))  # pool started
    with StageMeter(interval=0.05) as m:
        list(engine.map_batches(slow_square, _numbers(4, []), 0.01))
    from goldpan.engine.meter import rss_bytes

    own = rss_bytes(os.getpid())
    assert m.peak_rss > own  # this process plus the forkserver and its workers
    assert m.wall_s > 0
    # which process holds it: this one, and the largest of the others (a worker or the forkserver)
    assert 0 < m.peak_driver_rss < m.peak_rss and 0 < m.peak_child_rss < m.peak_rss
    meta = m.as_metadata()
    assert meta["peak_rss_driver_mb"] > 0 and meta["peak_rss_max_worker_mb"] > 0


def test_pool_workers_drop_the_previous_stages_model() -> None:
    from tests.fixtures.memory_stages import batches_of_one, report_cached, score_with_big_model

    engine = LocalProcessEngine(workers=2)
    list(engine.map_batches(score_with_big_model, batches_of_one(6)))
    out = list(engine.map_batches(report_cached, batches_of_one(6)))
    assert not any(b.column("held")[0].as_py() for b in out)


def test_stage_meter_counts_the_workers_cpu_time_not_only_the_drivers() -> None:
    engine = LocalProcessEngine(workers=2)
    list(engine.map_batches(slow_square, _numbers(2, []), 0.0))  # pool started
    with StageMeter(interval=0.05) as m:
        m.docs = 4
        list(engine.map_batches(burn_cpu, _numbers(4, []), 0.15))
    # four batches of 0.15 s CPU each ran in the workers, while the driver mostly waited
    assert m.workers_cpu_s >= 0.5
    assert m.total_cpu_s == pytest.approx(m.cpu_s + m.workers_cpu_s)
    meta = m.as_metadata()
    assert meta["cpu_s"] >= 0.5 and meta["cpu_ms_per_doc"] >= 125


# -- every pooled stage writes the same rows on any engine ---------------------------------------

@pytest.fixture(scope="module")
def pages_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("engine") / "pages"
    lake = Lake(root)
    import_warc_batch(lake, [str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")], BATCH,
                      WarcSection(chunk_rows=16))
    return root


def test_every_pooled_stage_writes_identical_tables_on_1_2_and_4_workers(pages_lake: Path, tmp_path) -> None:
    digests = {}
    # local2/local4: rows through this process, which writes the table (the default); local2-workers:
    # the workers read their slices and write parts
    for name, engine in (("inprocess", InProcessEngine()), ("local2", LocalProcessEngine(2)),
                         ("local4", LocalProcessEngine(4)), ("local2-workers", LocalProcessEngine(2, lake_io="workers"))):
        root = tmp_path / name
        shutil.copytree(pages_lake, root)
        digests[name] = run_all_stages(Lake(root), engine, BATCH, rows=3)
    ref = digests["inprocess"]
    assert ref["documents"][0] >= 30 and ref["dedup_clusters"][0] > 0 and ref["doc_signals"][0] > 0
    assert ref["doc_tokens"][0] > 0
    assert digests["local2"] == ref
    assert digests["local4"] == ref
    assert digests["local2-workers"] == ref


def test_local_workers_write_the_parts_and_a_worker_killed_mid_slice_commits_nothing(pages_lake: Path,
                                                                                     tmp_path) -> None:
    ref_root = tmp_path / "ref"
    shutil.copytree(pages_lake, ref_root)
    extract_stage.run(Lake(ref_root), ExtractSection(), BATCH, engine=InProcessEngine(), batch_rows=3)
    root = tmp_path / "local"
    shutil.copytree(pages_lake, root)
    lake = Lake(root)
    with pytest.raises(EngineWorkerDied):
        extract_stage.run(lake, ExtractSection(), BATCH, engine=DyingSliceEngine(tmp_path / "died.pid"), batch_rows=3)
    assert (tmp_path / "died.pid").exists()
    assert not lake.exists("documents")  # nothing committed: the table is still at its previous (no) version
    orphans = list((root / "documents").rglob("part-*.parquet"))
    assert orphans, "the killed worker's half-written part should be on disk, uncommitted"
    run = extract_stage.run(lake, ExtractSection(), BATCH, engine=LocalProcessEngine(2, lake_io="workers"), batch_rows=3)
    assert run.extra["lake_io"] == "workers" and run.extra["tasks"] >= 2
    assert len(run.per_worker) == 2  # both workers took slices
    files = lake.table("documents").file_uris()
    assert len(files) >= 2 and not {Path(f).name for f in files} & {p.name for p in orphans}
    assert table_digest(lake, "documents") == table_digest(Lake(ref_root), "documents")


def test_a_bad_page_is_an_error_row_and_the_batch_still_extracts() -> None:
    from goldpan.extract.langid import default_model_path

    html = ("<html><head><title>Gärten</title></head><body><p>" + "Ein Garten ist ein Stück Land, das angebaut wird. " * 8
            + "</p><p>" + "花园是种植植物的地方，人们在这里休息。" * 6 + "</p></body></html>").encode()
    rows = [
        {"page_id": "p1", "batch_id": BATCH, "url": "https://example.org/a", "host": "example.org", "fetched_at": None,
         "content": html, "content_type": "text/html", "charset_declared": "utf-8", "source": "warc"},
        {"page_id": "p2", "batch_id": BATCH, "url": "https://example.org/b", "host": "example.org", "fetched_at": None,
         "content": None, "content_type": "text/html", "charset_declared": None, "source": "warc"},
        {"page_id": "p3", "batch_id": BATCH, "url": "https://example.org/c", "host": "example.org", "fetched_at": None,
         "content": bytes(range(256)) * 40, "content_type": "text/html", "charset_declared": "utf-8", "source": "warc"},
    ]
    ctx = extract_stage.ExtractContext(ExtractSection(), default_model_path())
    out = extract_stage.extract_batch(pa.RecordBatch.from_pylist(rows), ctx).to_pylist()
    assert [r["page_id"] for r in out] == ["p1", "p2", "p3"]
    assert out[0]["status"] == "kept" and out[0]["lang"] in ("de", "zh")
    assert out[1]["status"] == "error" and "no content" in out[1]["detail"]
    assert out[2]["doc_id"] == extract_stage.doc_id_for("p3")  # bytes that are not text still get their row


def test_ray_is_chosen_by_the_recipe_the_environment_or_the_recipe_resource() -> None:
    from goldpan.engine.ray_engine import RayEngine
    from resources import RecipeResource

    section = EngineSection(kind="ray", workers=3, ray={"address": "ray://head:10001", "max_retries": 1,
                                                        "runtime_env": {"env_vars": {"X": "1"}}})
    eng = make_engine(section, env={})
    assert isinstance(eng, RayEngine) and eng.workers == 3 and eng.address == "ray://head:10001"
    assert eng.max_retries == 1 and eng.runtime_env == {"env_vars": {"X": "1"}}
    # constructing the engine does not connect: nothing starts until a stage runs
    eng = make_engine(EngineSection(workers=2), env={"GOLDPAN_ENGINE": "ray", "GOLDPAN_RAY_ADDRESS": "auto"})
    assert isinstance(eng, RayEngine) and eng.address == "auto" and eng._handles == {}
    with pytest.raises(ValueError, match="GOLDPAN_ENGINE"):
        make_engine(EngineSection(), env={"GOLDPAN_ENGINE": "spark"})
    # the Dagster switch: same recipe (same id), engine from the resource
    base = RecipeResource(path=str(REPO / "recipes" / "warc.yaml")).load()
    on_ray = RecipeResource(path=str(REPO / "recipes" / "warc.yaml"), engine="ray", workers=2,
                            ray_address="ray://head:10001").load()
    assert on_ray.engine.kind == "ray" and on_ray.engine.workers == 2 and on_ray.engine.ray.address == "ray://head:10001"
    assert on_ray.recipe_id == base.recipe_id
    assert on_ray.engine.batch_rows == base.engine.batch_rows


def test_the_band_key_group_by_of_every_engine_gives_the_same_groups() -> None:
    import numpy as np

    from goldpan.engine.shuffle import local_group_by_key

    keys = np.array([5, -3, 5, 9, -3, 5, 7], dtype=np.int64)
    owners = np.array([4, 1, 0, 2, 3, 0, 6], dtype=np.int64)
    groups = local_group_by_key(keys, owners)
    assert [g.tolist() for g in groups] == [[1, 3], [0, 0, 4]]  # keys -3 and 5, in key order; 7 and 9 alone
    for engine in (InProcessEngine(), LocalProcessEngine(2)):
        assert [g.tolist() for g in engine.group_by_key(keys, owners)] == [[1, 3], [0, 0, 4]]


def test_the_candidate_redaction_writes_the_same_table_on_the_pool(tmp_path) -> None:
    """corpus_candidate's per-document work (PII redaction, token recount) runs on the engine: 2 workers,
    one document per batch, write the rows the in-process engine writes."""
    from goldpan.bpe.counter import TokenCounter
    from goldpan.lake.schemas import CURATED_DOCUMENTS, DOCUMENTS, MIX_DECISIONS
    from goldpan.release.candidate import write_candidate

    texts = {"en1": "Mail jane.doe@example.org or call +1 415 555 0199 before Friday.",
             "zh1": "欢迎来信：lin.wei@example.cn，我们会在三个工作日内回复。",
             "en2": "PostgreSQL keeps its data in a cluster of databases.",
             "zh2": "请拨打 +86 10 6552 9988 联系我们，或写信到 info@example.cn。"}
    counter = TokenCounter()
    docs = [dict.fromkeys(DOCUMENTS.names) | {"doc_id": d, "page_id": f"p-{d}", "batch_id": BATCH, "url": f"http://x/{d}",
                                              "host": "x", "status": "kept", "text": t, "lang": d[:2], "n_words": 9}
            for d, t in texts.items()]
    mix = [dict.fromkeys(MIX_DECISIONS.names) | {"doc_id": d, "batch_id": BATCH, "status": "kept", "source": "web",
                                                 "repeat": 1, "recipe_id": "r", "origin": "lake",
                                                 "n_tokens": counter.count(t)} for d, t in texts.items()]
    dedup = pa.schema([("doc_id", pa.string()), ("dedup_text", pa.large_string())])
    tables = {}
    for name, engine in (("inprocess", InProcessEngine()), ("local2", LocalProcessEngine(2))):
        lake = Lake(tmp_path / name)
        lake.write("documents", pa.Table.from_pylist(docs, schema=DOCUMENTS), DOCUMENTS)
        lake.write("dedup_clusters", pa.Table.from_pylist([], schema=dedup), dedup)
        lake.ensure("curated_documents", CURATED_DOCUMENTS)
        lake.write("mix_decisions", pa.Table.from_pylist(mix, schema=MIX_DECISIONS), MIX_DECISIONS)
        out = write_candidate(lake, redact=True, counter=counter, engine=engine, batch_rows=1)
        assert out.docs_redacted == 3 and out.redactions == {"email": 3, "phone": 2}, out
        tables[name] = lake.table("corpus_candidate").to_pyarrow_table().sort_by("doc_id")
    assert tables["local2"].equals(tables["inprocess"])
    assert "<EMAIL>" in tables["inprocess"].column("text")[3].as_py()
