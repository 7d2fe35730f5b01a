"""Batches processed at the same time give the same corpus as one after the other (issue 22).

Two real runs of `full_batch_job`, each in its own process against one Dagster instance and one lake:
the sample site's WARC and its WET file, which hold the same pages, so the second batch's dedup must
see the first's. Their result is compared with the same two batches run one after the other, in batch
order, on a fresh instance and lake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel
from resources.instance import prepare_instance

# Four real runs of the whole graph: ~3 min on an idle 2-core machine, far more on a loaded one.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(2400)]

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "tests" / "integration" / "job_process.py"
WARC = str(REPO / "sample" / "warc" / "eskerford-sample.warc.gz")
WET = str(REPO / "sample" / "warc" / "eskerford-sample.warc.wet.gz")
BATCHES = [("b20260101T000000-warc", WARC), ("b20260101T000001-wet", WET)]

# What must be identical: every decision, keyed by the ids that link it upstream.
COMPARED = {
    "pages": "SELECT page_id, batch_id, status, reason FROM pages",
    "documents": "SELECT doc_id, page_id, status, rule FROM documents",
    "dedup_clusters": "SELECT doc_id, status, rule, duplicate_of, is_representative, cluster_id, cluster_size, "
                      "paragraphs_removed FROM dedup_clusters",
    "rejections": "SELECT doc_id, stage, rule, round(value, 6), threshold FROM rejections",
    "doc_scores": "SELECT doc_id, round(quality_score, 4), domain FROM doc_scores",
    "mix_decisions": "SELECT doc_id, status, rule, repeat FROM mix_decisions",
    "training_corpus": "SELECT doc_id, md5(text), repeat FROM training_corpus",
    "corpus_releases": "SELECT release, status, n_docs, content_sha1 FROM corpus_releases",
}


def _env(home: Path, lake: Path) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(home), "GOLDPAN_LAKE": str(lake),
            "GOLDPAN_RECIPE": str(REPO / "recipes" / "demo.yaml")}


def _register(home: Path) -> None:
    import dagster as dg

    from assets.partitions import crawl_batches

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(crawl_batches.name, [b for b, _ in BATCHES])


def _start(batch: str, source: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(RUNNER), batch, source], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen) -> list[str]:
    """The run's failed steps. Only the release gate may refuse (the WET batch changes the filter
    rates beyond the recipe's stability band, so its release is refused in the sequential run too)."""
    out, _ = proc.communicate(timeout=900)
    line = [x for x in out.splitlines() if "failed_steps=" in x]
    assert line, out[-4000:]
    failed = json.loads(line[-1].split("failed_steps=", 1)[1])
    assert set(failed) <= {"corpus_candidate_candidate_gate"}, out[-4000:]
    return failed


def _tables(lake_root: Path) -> dict[str, list[tuple]]:
    lake = Lake(lake_root)
    with lake.connect() as con:
        return {name: sorted(con.sql(sql).fetchall(), key=repr) for name, sql in COMPARED.items()}


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    seq_home, seq_lake = tmp_path_factory.mktemp("seq_home"), tmp_path_factory.mktemp("seq") / "lake"
    con_home, con_lake = tmp_path_factory.mktemp("con_home"), tmp_path_factory.mktemp("con") / "lake"
    for home in (seq_home, con_home):
        prepare_instance(home)
        _register(home)
    seq_failed = {batch: _finish(_start(batch, source, _env(seq_home, seq_lake)))  # one after the other
                  for batch, source in BATCHES}
    procs = {batch: _start(batch, source, _env(con_home, con_lake)) for batch, source in reversed(BATCHES)}
    con_failed = {batch: _finish(p) for batch, p in procs.items()}
    return seq_lake, con_lake, (seq_failed, con_failed)


def test_concurrent_batches_decide_as_sequential_ones(lakes):
    seq_lake, con_lake, (seq_failed, con_failed) = lakes
    assert con_failed == seq_failed  # the same gate verdicts
    seq, con = _tables(seq_lake), _tables(con_lake)
    # The WET batch really depends on the WARC batch: its near-duplicates are found against it.
    assert any(r[1] != "kept" and r[3] for r in seq["dedup_clusters"])
    for name in COMPARED:
        assert con[name] == seq[name], f"{name} differs between the concurrent and the sequential run"


def test_every_batch_is_balanced_and_released(lakes):
    _, con_lake, _ = lakes
    lake = Lake(con_lake)
    with lake.connect() as con:
        rows = compute_funnel(con)
        released = con.sql("SELECT count(*) FROM corpus_releases WHERE status = 'promoted'").fetchall()[0][0]
    assert {r.batch_id for r in rows if r.stage == "dedup"} == {b for b, _ in BATCHES}
    assert all(r.balanced for r in rows), [r for r in rows if not r.balanced]
    assert released >= 1


def test_instance_prepared_once_under_concurrency(tmp_path):
    """Four processes preparing one fresh DAGSTER_HOME at the same moment: none dies in a migration."""
    home = tmp_path / "home"
    code = "import sys; sys.path.insert(0, '.'); from resources.instance import prepare_instance; prepare_instance()"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "DAGSTER_HOME": str(home)},
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errs
    assert "max_concurrent_runs" in (home / "dagster.yaml").read_text()
