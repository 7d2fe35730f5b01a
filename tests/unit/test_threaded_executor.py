"""The executor of `goldpan run` (assets/executor.py): independent steps at once, dependencies respected,
at most `max_concurrent` steps, a failure stops only what depends on it.

The graph: `left` and `right` have no dependency between them; `joined` needs both; `fails` raises and
`after_failure` needs it. `left` and `right` meet at a barrier that only two concurrent threads can
pass, so the test fails if they run one after the other (the in-process executor's order).
"""

from __future__ import annotations

import threading
import time

import dagster as dg
import pytest

from assets.executor import threaded_in_process_executor
from assets.step_load import HEAVY_STEP, LIGHT_STEP, STEP_LOAD_TAG

MEET = threading.Barrier(2, timeout=20)
LOG: list[tuple[str, str, float]] = []  # (asset, "start"/"end", time)
RUNNING: list[str] = []
PEAK = [0]
JOINED = [0]  # what `joined` computed from its inputs
LOCK = threading.Lock()


def _enter(name: str) -> None:
    with LOCK:
        LOG.append((name, "start", time.perf_counter()))
        RUNNING.append(name)
        PEAK[0] = max(PEAK[0], len(RUNNING))


def _leave(name: str) -> None:
    with LOCK:
        RUNNING.remove(name)
        LOG.append((name, "end", time.perf_counter()))


@dg.asset(config_schema={"meet": bool})
def left(context) -> int:
    _enter("left")
    if context.op_config["meet"]:
        MEET.wait()  # raises BrokenBarrierError after 20 s alone: `right` never ran beside it
    time.sleep(0.2)
    _leave("left")
    return 1


@dg.asset(config_schema={"meet": bool})
def right(context) -> int:
    _enter("right")
    if context.op_config["meet"]:
        MEET.wait()
    time.sleep(0.2)
    _leave("right")
    return 2


@dg.asset
def joined(left: int, right: int) -> int:
    _enter("joined")
    JOINED[0] = left + right
    _leave("joined")
    return left + right


@dg.asset
def fails() -> int:
    raise ValueError("a bad batch")


@dg.asset
def after_failure(fails: int) -> int:
    return fails


def concurrent_job() -> dg.JobDefinition:
    return dg.Definitions(
        assets=[left, right, joined, fails, after_failure],
        jobs=[dg.define_asset_job("j", executor_def=threaded_in_process_executor)],
    ).resolve_job_def("j")


def _run(max_concurrent: int, meet: bool) -> tuple[bool, dict[str, str], int]:
    """(run succeeded, last event type per step, `joined`'s output) of one run of the graph."""
    MEET.reset()
    LOG.clear()
    PEAK[0] = JOINED[0] = 0
    with dg.DagsterInstance.ephemeral() as instance, dg.execute_job(
        dg.reconstructable(concurrent_job), instance=instance, raise_on_error=False,
        run_config={"execution": {"config": {"max_concurrent": max_concurrent}},
                    "ops": {"left": {"config": {"meet": meet}}, "right": {"config": {"meet": meet}}}},
    ) as result:
        steps = {e.step_key: e.event_type_value for e in result.all_events
                 if e.step_key and e.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")}
        return result.success, steps, JOINED[0]


def test_independent_steps_run_at_once_and_dependencies_wait() -> None:
    success, steps, joined_value = _run(max_concurrent=3, meet=True)
    # `after_failure` never starts: its upstream failed; the independent branch completes
    assert steps == {"left": "STEP_SUCCESS", "right": "STEP_SUCCESS", "joined": "STEP_SUCCESS",
                     "fails": "STEP_FAILURE"}, steps
    assert not success  # one step failed: the run says so
    at = {(name, what): t for name, what, t in LOG}
    assert at[("joined", "start")] >= max(at[("left", "end")], at[("right", "end")])
    assert joined_value == 3


def test_max_concurrent_one_runs_steps_one_after_the_other() -> None:
    _success, steps, _joined = _run(max_concurrent=1, meet=False)
    assert steps["joined"] == "STEP_SUCCESS" and "after_failure" not in steps
    assert PEAK[0] == 1


def test_the_run_job_takes_its_concurrency_from_env_over_the_recipe(monkeypatch) -> None:
    from goldpan.engine import resolve_concurrent_steps
    from goldpan.recipe import EngineSection

    assert resolve_concurrent_steps(EngineSection(concurrent_steps=4), env={}) == 4
    assert resolve_concurrent_steps(EngineSection(concurrent_steps=4), env={"GOLDPAN_CONCURRENT_STEPS": "1"}) == 1
    with pytest.raises(ValueError, match="GOLDPAN_CONCURRENT_STEPS"):
        resolve_concurrent_steps(EngineSection(), env={"GOLDPAN_CONCURRENT_STEPS": "0"})


def test_steps_at_once_default_to_two_only_where_the_work_leaves_the_run_process() -> None:
    """A light step beside a stage that runs in the run process only takes turns with it for the GIL."""
    from goldpan.engine import resolve_concurrent_steps
    from goldpan.recipe import EngineSection

    assert resolve_concurrent_steps(EngineSection(), env={"GOLDPAN_WORKERS": "2"}) == 2
    assert resolve_concurrent_steps(EngineSection(workers=4), env={}) == 2
    assert resolve_concurrent_steps(EngineSection(), env={"GOLDPAN_WORKERS": "1"}) == 1
    assert resolve_concurrent_steps(EngineSection(workers=1), env={}) == 1
    assert resolve_concurrent_steps(EngineSection(kind="inprocess", workers=4), env={}) == 1
    assert resolve_concurrent_steps(EngineSection(workers=4), env={"GOLDPAN_ENGINE": "inprocess"}) == 1
    assert resolve_concurrent_steps(EngineSection(kind="ray", workers=1), env={}) == 2
    assert resolve_concurrent_steps(EngineSection(workers=1, concurrent_steps=3), env={}) == 3
    with pytest.raises(ValueError, match="GOLDPAN_ENGINE"):
        resolve_concurrent_steps(EngineSection(), env={"GOLDPAN_ENGINE": "spark"})


# --- heavy and light steps (assets/step_load.py) ---------------------------------------------------------


ALL_THREE = threading.Barrier(3, timeout=20)


def _tagged(name: str, tags: dict):
    @dg.asset(name=name, op_tags=tags, config_schema={"meet": bool})
    def _step(context) -> int:
        _enter(name)
        if context.op_config["meet"]:
            ALL_THREE.wait()  # only passes when all three steps run at once
        time.sleep(0.3)
        _leave(name)
        return 1

    return _step


TAGGED = [_tagged("heavy_a", HEAVY_STEP), _tagged("heavy_b", HEAVY_STEP), _tagged("light_c", LIGHT_STEP)]


def tagged_job() -> dg.JobDefinition:
    return dg.Definitions(assets=TAGGED, jobs=[dg.define_asset_job("t", executor_def=threaded_in_process_executor)]
                          ).resolve_job_def("t")


def _run_tagged(heavy_at_once: int, meet: bool) -> bool:
    ALL_THREE.reset()
    LOG.clear()
    PEAK[0] = 0
    with dg.DagsterInstance.ephemeral() as instance, dg.execute_job(
        dg.reconstructable(tagged_job), instance=instance, raise_on_error=False,
        run_config={"execution": {"config": {"max_concurrent": 3, "heavy_at_once": heavy_at_once}},
                    "ops": {n: {"config": {"meet": meet}} for n in ("heavy_a", "heavy_b", "light_c")}},
    ) as result:
        return result.success


def _spans() -> dict[str, tuple[float, float]]:
    at = {(name, what): t for name, what, t in LOG}
    return {n: (at[(n, "start")], at[(n, "end")]) for n in ("heavy_a", "heavy_b", "light_c")}


def test_one_heavy_step_at_a_time_with_light_steps_beside_it() -> None:
    assert _run_tagged(heavy_at_once=1, meet=False)
    s = _spans()
    (a0, a1), (b0, b1) = s["heavy_a"], s["heavy_b"]
    assert a1 <= b0 or b1 <= a0, s  # the two heavy steps never overlap
    c0 = s["light_c"][0]
    assert c0 < min(a1, b1) and PEAK[0] == 2, (s, PEAK)  # the light step ran beside the first heavy one


def test_heavy_at_once_two_lets_both_heavy_steps_run_together() -> None:
    assert _run_tagged(heavy_at_once=2, meet=True)  # the barrier needs all three steps at once
    assert PEAK[0] == 3


def test_every_step_of_the_code_location_says_its_load() -> None:
    """A new asset or check must choose heavy or light: an untagged step escapes the executor's limit."""
    import definitions

    for job_name in ("full_batch_job", "process_batch_job", "crawl_job", "warc_import_job", "goldpan_run_job"):
        job = definitions.defs.resolve_job_def(job_name)
        untagged = sorted(n for n, node in job.graph.node_dict.items()
                          if node.definition.tags.get(STEP_LOAD_TAG) not in ("heavy", "light"))
        assert not untagged, (job_name, untagged)
    heavy = {n for n, node in definitions.defs.resolve_job_def("full_batch_job").graph.node_dict.items()
             if node.definition.tags[STEP_LOAD_TAG] == "heavy"}
    assert {"documents", "dedup_clusters", "doc_signals", "domain_models"} <= heavy
    assert not any(n.endswith(("_suite", "_gate")) for n in heavy)


def test_heavy_steps_come_from_env_over_the_recipe() -> None:
    from goldpan.engine import resolve_heavy_steps
    from goldpan.recipe import EngineSection

    assert resolve_heavy_steps(EngineSection(heavy_steps=3), env={}) == 3
    assert resolve_heavy_steps(EngineSection(heavy_steps=3), env={"GOLDPAN_HEAVY_STEPS": "1"}) == 1
    assert resolve_heavy_steps(None, env={}) == EngineSection().heavy_steps
    with pytest.raises(ValueError, match="GOLDPAN_HEAVY_STEPS"):
        resolve_heavy_steps(EngineSection(), env={"GOLDPAN_HEAVY_STEPS": "many"})
