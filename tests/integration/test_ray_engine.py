"""The Ray engine on a real local Ray instance (2 CPUs): order, per-worker tallies, the band-key
shuffle, every pooled stage's rows identical to the in-process engine, and a Ray worker killed
mid-stage (SIGKILL from outside): retried to the same rows, or, with no retries left, a failed stage
with the table at its previous version and a rerun that completes.
The whole graph on Ray over object storage: test_ray_graph.py.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from goldpan.dedup import stage as dedup_stage
from goldpan.dedup.candidates import band_pairs, band_pairs_grouped
from goldpan.engine import EngineWorkerDied, InProcessEngine, make_engine
from goldpan.engine.shuffle import local_group_by_key, ray_group_by_key
from goldpan.extract import stage as extract_stage
from goldpan.filter import stage as filter_stage
from goldpan.lake import Lake
from goldpan.recipe import DedupSection, EngineSection, ExtractSection, WarcSection
from goldpan.warc.importer import import_warc_batch
from tests.fixtures.real_pages import cached_real_warc
from tests.fixtures.stage_runs import DEDUP_TABLES, run_all_stages, slow_square, table_digest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BATCH = "b-engine"


def _numbers(n: int, pulled: list[int]):
    for i in range(n):
        pulled.append(i)
        yield pa.RecordBatch.from_pydict({"x": [i]})


def ray_engine(workers: int = 2, max_retries: int = 3, **ray):
    return make_engine(EngineSection(kind="ray", workers=workers, ray={"max_retries": max_retries, **ray}), env={})


def test_ray_engine_keeps_input_order_bounds_batches_and_tallies_each_worker(ray_local) -> None:
    engine = ray_engine()
    assert engine.name == "ray" and engine.workers == 2
    pulled: list[int] = []
    out = []
    for b in engine.map_batches(slow_square, _numbers(10, pulled), 0.02):
        out.append(b)
        assert len(pulled) - len(out) <= engine.in_flight
    assert [b.column("x")[0].as_py() for b in out] == list(range(10))
    assert [b.column("sq")[0].as_py() for b in out] == [i * i for i in range(10)]
    pids = {b.column("pid")[0].as_py() for b in out}
    assert os.getpid() not in pids
    per_worker = engine.tally.since({})
    assert sum(v["rows"] for v in per_worker.values()) == 10
    assert set(engine.tally.local_pids()) == pids
    assert all(v["rows_per_s"] > 0 for v in per_worker.values())


def test_band_key_shuffle_on_ray_gives_the_local_groups(ray_local) -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(-(2**63), 2**63 - 1, size=300, dtype=np.int64)
    keys = np.concatenate([keys, keys[:120], keys[:40], np.array([-1, -1, 5, 5, 5], np.int64)])  # shared band keys
    owners = rng.permutation(keys.size).astype(np.int64)
    local = local_group_by_key(keys, owners)
    assert len(local) == 120 + 2
    for parts in (1, 2, 3):
        got = ray_group_by_key(keys, owners, partitions=parts)
        assert len(got) == len(local)
        assert all(np.array_equal(a, b) for a, b in zip(got, local, strict=True))
    assert ray_group_by_key(keys[:1], owners[:1], partitions=2) == []
    # MinHash band-key candidate pairs as that shuffle: the DuckDB self-join's pairs, star cap included
    bands = pa.table({"rank": owners % 97, "key": keys})
    engine = ray_engine()
    assert engine.shuffles
    for cap in (2, 1000):
        assert np.array_equal(band_pairs_grouped(bands, cap, engine.group_by_key), band_pairs(bands, cap))


def test_decontamination_runs_on_ray_workers_with_the_in_process_hits(ray_local) -> None:
    from goldpan.decontam.batches import with_contamination
    from goldpan.decontam.index import DecontamIndex, contamination_of
    from tests.fixtures.decontam_texts import EVAL_EN, EVAL_ZH, docs_batches

    index = DecontamIndex(n=13)
    index.add("bench-en", [EVAL_EN])
    index.add("bench-zh", [EVAL_ZH])
    want = [(r["doc_id"], index.check(r["text"])) for b in docs_batches() for r in b.to_pylist()]
    engine = ray_engine()
    got = [(r["doc_id"], contamination_of(r, index)) for b in with_contamination(engine, docs_batches(), index)
           for r in b.to_pylist()]
    assert got == want and sum(1 for _, h in got if h is not None) == 4
    assert os.getpid() not in engine.tally.local_pids()


@pytest.fixture(scope="module")
def pages_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-engine") / "pages"
    import_warc_batch(Lake(root), [str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")], BATCH,
                      WarcSection(chunk_rows=16))
    return root


def test_every_pooled_stage_writes_identical_tables_on_ray(ray_local, pages_lake: Path, tmp_path) -> None:
    """Every table, the dedup index tables included, whatever the cut of the stages' input into tasks:
    runs of row groups (the default, several tasks per worker) or whole files."""
    digests = {}
    engines = (("inprocess", InProcessEngine()), ("ray2", ray_engine()),
               ("ray2-files", ray_engine(slice_unit="file", tasks_per_worker=2)))
    for name, engine in engines:
        root = tmp_path / name
        shutil.copytree(pages_lake, root)
        digests[name] = run_all_stages(Lake(root), engine, BATCH, rows=8)
    assert digests["inprocess"]["dedup_clusters"][0] > 0 and digests["inprocess"]["doc_signals"][0] > 0
    assert digests["inprocess"]["dedup_index"][0] > 0
    assert digests["ray2"] == digests["inprocess"]
    assert digests["ray2-files"] == digests["inprocess"]


@pytest.fixture(scope="module")
def real_extracted_lake(tmp_path_factory) -> Path:
    """80 real documentation pages (English, Chinese, ...) imported and extracted in process: their
    shared navigation and footer lines give paragraph dedup something to remove."""
    root = tmp_path_factory.mktemp("ray-dedup") / "lake"
    lake = Lake(root)
    import_warc_batch(lake, [str(cached_real_warc("ci-ray-dedup", 80))], BATCH, WarcSection(chunk_rows=16))
    extract_stage.run(lake, ExtractSection(), BATCH, engine=InProcessEngine())
    return root


def test_dedup_reads_and_writes_on_ray_workers_with_the_in_process_tables(ray_local, real_extracted_lake: Path,
                                                                          tmp_path) -> None:
    """The workers read the documents and write `dedup_clusters` (texts after paragraph dedup
    included); the driver decides without the texts: every dedup table as in process."""
    section = DedupSection(paragraph_min_docs=2, paragraph_min_chars=10)  # removals and paragraph rejections
    digests, runs = {}, {}
    for name, engine in (("inprocess", InProcessEngine()), ("ray2", ray_engine())):
        root = tmp_path / name
        shutil.copytree(real_extracted_lake, root)
        lake = Lake(root)
        runs[name] = dedup_stage.run(lake, section, BATCH, engine=engine, batch_rows=8)
        digests[name] = {t: table_digest(lake, t) for t in ("dedup_clusters", *DEDUP_TABLES) if lake.exists(t)}
    assert runs["inprocess"].extra["lake_io"] == "driver" and runs["ray2"].extra["lake_io"] == "workers"
    with Lake(tmp_path / "inprocess").connect(tables=["dedup_clusters"]) as con:
        texts, rules = con.execute("SELECT count(dedup_text), count(*) FILTER (WHERE rule LIKE 'paragraph%') "
                                   "FROM dedup_clusters").fetchone()
    assert texts > 0 and rules > 0, (texts, rules)
    assert digests["ray2"] == digests["inprocess"]
    assert runs["ray2"].outcomes == runs["inprocess"].outcomes
    ray_lake = Lake(tmp_path / "ray2")
    files = ray_lake.table("dedup_clusters").file_uris()
    assert files and all(re.search(r"/part-\d{5}-[0-9a-f]{32}\.snappy\.parquet$", f) for f in files), files
    assert ray_lake.version("dedup_clusters") == Lake(tmp_path / "inprocess").version("dedup_clusters")


# -- a Ray worker killed mid-stage ----------------------------------------------------------------

_CALLS: dict[int, int] = {}


def stall_once(batch: pa.RecordBatch, ctx: tuple) -> pa.RecordBatch:
    """The second batch of a task (its first is already in the task's Parquet part) records its worker's
    pid and waits to be killed, once in the whole run; every other call, and the retry, runs normally."""
    fn, marker, inner = ctx
    _CALLS[id(ctx)] = _CALLS.get(id(ctx), 0) + 1  # the context is deserialised afresh for every task
    if _CALLS[id(ctx)] < 2:
        return fn(batch, inner)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return fn(batch, inner)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(120)  # the test SIGKILLs this process long before
    return fn(batch, inner)


class StallingEngine:
    """A Ray engine whose tasks stall once until the test kills the worker (the stage is unchanged)."""

    def __init__(self, inner, marker: Path):
        self.inner, self.marker = inner, str(marker)
        self.name, self.workers, self.tally = inner.name, inner.workers, inner.tally
        self.workers_reach_lake = inner.workers_reach_lake

    def map_batches(self, fn, batches, context=None):
        return self.inner.map_batches(stall_once, batches, (fn, self.marker, context))

    def map_slices(self, fn, context, job):
        return self.inner.map_slices(stall_once, (fn, self.marker, context), job)

    def group_by_key(self, keys, owners):
        return self.inner.group_by_key(keys, owners)

    def worker_pids(self):
        return self.inner.worker_pids()

    def close(self):
        self.inner.close()


def _kill_when_stalled(marker: Path, killed: list[int]) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text():
                pid = int(marker.read_text())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _orphans(lake: Lake, table: str) -> set[str]:
    """Parquet files under the table that no version of its log references (written by a dead task)."""
    root = Path(lake.uri(table))
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*.parquet")}
    referenced = set()
    for v in range(lake.version(table) + 1):
        referenced |= {f.removeprefix("file://").removeprefix(str(root) + "/") for f in lake.table(table, v).file_uris()}
    return on_disk - referenced


@pytest.fixture(scope="module")
def deduped_lake(pages_lake: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-kill") / "lake"
    shutil.copytree(pages_lake, root)
    lake = Lake(root)
    extract_stage.run(lake, ExtractSection(), BATCH, engine=InProcessEngine())
    dedup_stage.run(lake, DedupSection(), BATCH, engine=InProcessEngine())
    return root


def test_a_killed_ray_worker_is_retried_and_the_stage_writes_the_same_rows(ray_local, deduped_lake, tmp_path) -> None:
    ref_root = tmp_path / "ref"
    shutil.copytree(deduped_lake, ref_root)
    filter_stage.run(Lake(ref_root), BATCH, engine=InProcessEngine(), batch_rows=4)
    expected = table_digest(Lake(ref_root), "doc_signals")

    root = tmp_path / "ray"
    shutil.copytree(deduped_lake, root)
    lake = Lake(root)
    marker, killed = tmp_path / "stalled.pid", []
    t = _kill_when_stalled(marker, killed)
    run = filter_stage.run(lake, BATCH, engine=StallingEngine(ray_engine(max_retries=2), marker), batch_rows=4)
    t.join(timeout=5)
    assert killed, "no worker stalled, so none was killed"
    assert run.extra["lake_io"] == "workers"  # the workers read their slices and wrote the parts
    assert run.written is not None and run.written.version == 0  # one commit
    assert table_digest(lake, "doc_signals") == expected
    assert _orphans(lake, "doc_signals"), "the killed task's part should be on disk, uncommitted"


def test_a_killed_ray_worker_without_retries_fails_the_stage_and_leaves_the_table_as_it_was(
        ray_local, deduped_lake, tmp_path) -> None:
    root = tmp_path / "lake"
    shutil.copytree(deduped_lake, root)
    lake = Lake(root)
    first = filter_stage.run(lake, BATCH, engine=ray_engine(), batch_rows=4)
    before = (lake.version("doc_signals"), table_digest(lake, "doc_signals"))
    assert before[0] == first.written.version

    marker, killed = tmp_path / "stalled.pid", []
    t = _kill_when_stalled(marker, killed)
    with pytest.raises(EngineWorkerDied, match="Ray worker died"):
        filter_stage.run(lake, BATCH, engine=StallingEngine(ray_engine(max_retries=0), marker), batch_rows=4)
    t.join(timeout=5)
    assert killed
    assert (lake.version("doc_signals"), table_digest(lake, "doc_signals")) == before  # nothing committed
    assert _orphans(lake, "doc_signals")  # parts of the failed attempt exist, referenced by no commit

    rerun = filter_stage.run(lake, BATCH, engine=ray_engine(), batch_rows=4)
    assert rerun.written.version == before[0] + 1
    assert table_digest(lake, "doc_signals") == before[1]


# -- the WARC import on Ray workers, files and lake on the local S3 server --------------------------

def _pages_rows(lake: Lake) -> list[tuple]:
    t = lake.read_table("pages")
    return sorted(tuple(repr(v) for v in r.values()) for r in t.select(sorted(t.column_names)).to_pylist())


def test_the_warc_import_on_ray_workers_reads_s3_and_writes_the_local_import_rows(ray_local, local_s3, tmp_path) -> None:
    """Every file is read by a task straight from S3 and its rows are a part the task wrote under the S3
    lake; one commit. Rows (ids, statuses, bodies, revisits resolved across files) equal the import in
    process; a file listed twice (ids shared by two files) falls back to the driver with the same rows."""
    from goldpan.warc import stage as warc_stage
    from tests.fixtures.warc_records import HTML, gz_members, warc_response, warc_revisit

    _endpoint, s3, opts = local_s3
    s3.create_bucket(Bucket="warc")
    s3.create_bucket(Bucket="lake")
    other = HTML.replace(b"Ferry", b"Tide")
    files = {  # a revisit whose original is in the next file, one in the same file, one never captured
        "a.warc.gz": gz_members([warc_revisit("http://harbour.example/mirror", other, "r-0", "o-2"),
                                 warc_response("http://harbour.example/ferry", HTML, "o-1"),
                                 warc_revisit("http://harbour.example/ferry?day=2", HTML, "r-1", "o-1"),
                                 warc_revisit("http://harbour.example/lost", b"never", "r-9", "o-9")]),
        "b.warc.gz": gz_members([warc_response("http://harbour.example/tide", other, "o-2")]),
    }
    for name, data in files.items():
        s3.put_object(Bucket="warc", Key=f"in/{name}", Body=data)
    for f in (REPO / "sample" / "warc").iterdir():  # the sample site as WARC and as WET (English and Chinese)
        s3.upload_file(str(f), "warc", f"in/{f.name}")
    section = WarcSection(storage_options=opts)
    ref = Lake(tmp_path / "ref")
    want = warc_stage.run(ref, section, "b-import", ["s3://warc/in/*"], recipe_id="r")
    lake = Lake("s3://lake/ray", opts)
    got = warc_stage.run(lake, section, "b-import", ["s3://warc/in/*"], recipe_id="r", engine=ray_engine())
    assert (want.lake_io, got.lake_io) == ("driver", "workers")
    assert got.engine == "ray" and sum(w["rows"] for w in got.per_worker.values()) == got.stats.rows
    assert got.stats.as_dict() == want.stats.as_dict()
    assert (got.stats.revisits_resolved, got.stats.revisits_unresolved) == (2, 1)
    assert _pages_rows(lake) == _pages_rows(ref)
    assert lake.version("pages") == 0  # one commit for the whole import
    files_written = lake.table("pages").file_uris()
    assert len(files_written) == len(want.uris) + 1  # a part per file and one of resolved revisits
    assert all(re.search(r"batch_id=b-import/part-\d{5}(-revisits)?-[0-9a-f]{32}\.snappy\.parquet$", f)
               for f in files_written)

    # extract on Ray over the S3 lake: each task reads only its own runs of row groups of the pages
    # partition (deltalake's dataset cut to those fragments' row groups), or whole files; same documents
    ext_ref = extract_stage.run(ref, ExtractSection(), "b-import", engine=InProcessEngine())
    ext = extract_stage.run(lake, ExtractSection(), "b-import", engine=ray_engine())
    assert (ext.extra["lake_io"], ext.extra["slices"]) == ("workers", "row_groups") and ext_ref.extra["lake_io"] == "driver"
    assert table_digest(lake, "documents") == table_digest(ref, "documents")
    ext = extract_stage.run(lake, ExtractSection(), "b-import", engine=ray_engine(slice_unit="file", tasks_per_worker=1))
    assert ext.extra["slices"] == "files" and table_digest(lake, "documents") == table_digest(ref, "documents")

    s3.copy_object(Bucket="warc", Key="in2/a-again.warc.gz", CopySource={"Bucket": "warc", "Key": "in/a.warc.gz"})
    s3.copy_object(Bucket="warc", Key="in2/a.warc.gz", CopySource={"Bucket": "warc", "Key": "in/a.warc.gz"})
    twice = ["s3://warc/in2/*"]
    ref2, lake2 = Lake(tmp_path / "ref2"), Lake("s3://lake/twice", opts)
    want2 = warc_stage.run(ref2, section, "b-twice", twice, recipe_id="r")
    got2 = warc_stage.run(lake2, section, "b-twice", twice, recipe_id="r", engine=ray_engine())
    assert got2.lake_io == "driver" and _pages_rows(lake2) == _pages_rows(ref2)
    assert got2.stats.as_dict() == want2.stats.as_dict()
