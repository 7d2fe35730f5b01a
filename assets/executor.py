"""An in-process executor that runs independent steps at the same time, on threads of one process.

Why: `goldpan run` runs the whole graph in one process so that its steps share one worker pool and
one set of loaded models (`goldpan.engine`). Dagster's `in_process_executor` runs those steps one
after the other, so every step that does not use the pool (fastText training of `quality_model` and
`domain_models`, the GX suites of each stage, candidate assembly) left one of two cores idle while
the steps that do not depend on it waited. The multiprocess executor would overlap them, but each
step would start its own interpreter, worker pool and models (seconds per step, 22 steps).

Here a step starts as soon as its upstream steps succeeded, on its own thread, up to
`max_concurrent` at once; the pool's processes serve every step's batches (its `submit` is
thread-safe, each stage keeps its own ordered window, so a stage writes the same rows whatever runs
beside it). Steps that touch the same table are ordered by the graph, so outputs are those of the
serial executor (bench/stage_hashes.py compares them). Events are produced on the step threads
(where Dagster stores them, as its multiprocess executor's children do) and handed to this thread,
which alone updates the plan's state: `ActiveExecution` is not thread-safe and need not be.

Per-step CPU in the assets' metadata is the process's CPU while the step ran: with steps running
side by side it includes their neighbours' work (the run's total is exact; bench/end_to_end.py
prints the timeline with the cores busy in each interval).

Measured (bench/graph_hashes.py, bench/end_to_end.py --serial-steps, a 2-core machine loaded 7-11 by
other work): same rows in every table; wall 1.04x and 1.09x faster with 3 steps at once on 300 and
1,000 pages, 0.78x on 6,000: the trainings beside `doc_signals` slowed it more than they saved (their
Python work shares the driver's GIL with the stage feeding the pool, and no core was idle). Hence the
heavy/light tag (assets/step_load.py) and Dagster's run-scoped tag limit: at most `heavy_at_once`
heavy steps, while light ones (GX suites, consent, small views) run beside them. On 6,000 real pages
with 2 workers (4 alternated runs each, a quieter machine): 55.7 s mean with 2 steps of which 1 heavy,
60.0 s one step at a time, 55.5 s with both heavy (one bench/end_to_end.py run: 55.6 s against 56.0 s);
the default is 2 steps, 1 heavy, where a pool of workers does the per-document work
(goldpan.engine.resolve_concurrent_steps).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import dagster as dg
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.api import ExecuteRunWithPlanIterable
from dagster._core.execution.compute_logs import create_compute_log_file_key
from dagster._core.execution.context.system import PlanExecutionContext, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import PlanExecutionContextManager
from dagster._core.execution.plan.execute_plan import _trigger_hook, dagster_event_sequence_for_step
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode, get_retries_config
from dagster._core.executor.base import Executor
from dagster._core.storage.tags import PRIORITY_TAG
from dagster._utils.error import serializable_error_info_from_exc_info

from assets.step_load import HEAVY_STEP, STEP_LOAD_TAG

DEFAULT_MAX_CONCURRENT = 2
#: heavy steps (assets/step_load.py) at once; light steps fill the other slots
DEFAULT_HEAVY_AT_ONCE = 1

_DONE = object()  # a step thread's last message: its event sequence ended


class _Raised:
    """A step thread's message: its event sequence raised (exc_info), outside Dagster's own handling."""

    def __init__(self, exc_info) -> None:
        self.exc_info = exc_info


class ThreadedInProcessExecutor(Executor):
    """Runs the plan in this process, each ready step on a thread, at most `max_concurrent` at once."""

    def __init__(self, retries: RetryMode, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                 heavy_at_once: int = DEFAULT_HEAVY_AT_ONCE) -> None:
        self._retries = retries
        self.max_concurrent = max(1, int(max_concurrent))
        self.heavy_at_once = max(1, int(heavy_at_once))

    @property
    def retries(self) -> RetryMode:
        return self._retries

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        keys = execution_plan.step_keys_to_execute
        yield DagsterEvent.engine_event(
            plan_context,
            f"Executing steps in process (pid: {os.getpid()}), up to {self.max_concurrent} at once on threads "
            f"({self.heavy_at_once} heavy)",
            event_specific_data=EngineEventData.in_process(os.getpid(), keys),
        )
        yield from ExecuteRunWithPlanIterable(
            execution_plan=plan_context.execution_plan,
            iterator=self._iterator,
            execution_context_manager=PlanExecutionContextManager(
                job=plan_context.job,
                retry_mode=plan_context.retry_mode,
                execution_plan=plan_context.execution_plan,
                run_config=plan_context.run_config,
                dagster_run=plan_context.dagster_run,
                instance=plan_context.instance,
                raise_on_error=plan_context.raise_on_error,
                output_capture=plan_context.output_capture,
            ),
        )
        yield DagsterEvent.engine_event(
            plan_context, f"Finished steps in process (pid: {os.getpid()})",
            event_specific_data=EngineEventData.in_process(os.getpid(), keys),
        )

    def _iterator(self, job_context: PlanExecutionContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        with InstanceConcurrencyContext(job_context.instance, job_context.dagster_run) as concurrency:
            yield from threaded_plan_iterator(job_context, execution_plan, self.max_concurrent, concurrency,
                                              heavy_at_once=self.heavy_at_once)


def _run_step(step_context, inbox: queue.Queue) -> None:
    """On a step thread: the step's events into `inbox`, then _DONE (also after an unexpected error)."""
    key = step_context.step.key
    try:
        for event in dagster_event_sequence_for_step(step_context):
            inbox.put((key, event))
    except BaseException:  # noqa: BLE001 - reported as the step's failure by the main thread
        inbox.put((key, _Raised(sys.exc_info())))
    finally:
        inbox.put((key, _DONE))


def critical_first(execution_plan: ExecutionPlan):
    """Sort key of ready steps: Dagster's priority tag first, then the step with the most steps
    downstream of it. Why: when more steps are ready than may run, the one on the long chain to the
    release (a pooled stage) must not wait behind a leaf (a stage's GX suite, a model's report)."""
    deps = execution_plan.get_executable_step_deps()
    children: dict[str, set[str]] = {k: set() for k in deps}
    for key, ups in deps.items():
        for up in ups:
            children.setdefault(up, set()).add(key)
    below: dict[str, int] = {}

    def downstream(key: str) -> set[str]:
        seen: set[str] = set()
        todo = [key]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    for key in children:
        below[key] = len(downstream(key))

    def key_fn(step) -> float:
        return -1_000_000.0 * int(step.tags.get(PRIORITY_TAG, 0)) - below.get(step.key, 0)

    return key_fn


class _StepThreads:
    """The steps running on threads and the inbox their events arrive in (read by one thread only)."""

    def __init__(self) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self.running: dict[str, tuple[threading.Thread, list[DagsterEvent], object]] = {}

    def start(self, job_context: PlanExecutionContext, active, limit: int) -> None:
        """Start every ready step, up to `limit` running at once."""
        for step in active.get_steps_to_execute(limit=limit - len(self.running)):
            step_context = job_context.for_step(step, active.get_known_state())
            thread = threading.Thread(target=_run_step, args=(step_context, self.inbox),
                                      name=f"step-{step.key}", daemon=True)
            self.running[step.key] = (thread, [], step_context)
            thread.start()

    def handle_next(self, job_context: PlanExecutionContext, active) -> Iterator[DagsterEvent]:
        """Wait for the next message of any step: pass its event on, or finish the step it ends."""
        key, msg = self.inbox.get()
        thread, events, step_context = self.running[key]
        if msg is _DONE:
            thread.join()
            del self.running[key]
            active.verify_complete(job_context, key)
            for event in active.plan_events_iterator(job_context):
                events.append(event)
                yield event
            yield from _trigger_hook(step_context, events)
        elif isinstance(msg, _Raised):  # Dagster's own failure handling raised: the step ends unknown
            job_context.log.error(f"Step {key} raised outside Dagster's error boundary: "
                                  f"{serializable_error_info_from_exc_info(msg.exc_info).to_string()}")
        else:
            events.append(msg)
            yield msg
            active.handle_event(msg)


def threaded_plan_iterator(
    job_context: PlanExecutionContext,
    execution_plan: ExecutionPlan,
    max_concurrent: int,
    concurrency: InstanceConcurrencyContext | None = None,
    heavy_at_once: int = DEFAULT_HEAVY_AT_ONCE,
) -> Iterator[DagsterEvent]:
    """Dagster's `inner_plan_execution_iterator` with ready steps started on threads, not one by one;
    Dagster's own run-scoped tag limit keeps heavy steps (`STEP_LOAD_TAG`) to `heavy_at_once`."""
    steps = _StepThreads()
    limits = [{"key": STEP_LOAD_TAG, "value": HEAVY_STEP[STEP_LOAD_TAG], "limit": heavy_at_once}]
    with (execution_plan.start(retry_mode=job_context.retry_mode, sort_key_fn=critical_first(execution_plan),
                               max_concurrent=max_concurrent, tag_concurrency_limits=limits,
                               instance_concurrency_context=concurrency,
                               step_dependency_config=job_context.step_dependency_config) as active,
          ExitStack() as capture_stack):
        yield from _capture_logs(job_context, execution_plan, capture_stack)
        while not active.is_complete or steps.running:
            if not active.is_complete:
                steps.start(job_context, active, max_concurrent)
                yield from active.concurrency_event_iterator(job_context)
            if not steps.running:
                yield from active.plan_events_iterator(job_context)  # skips after a failure
                active.sleep_til_ready()
                continue
            yield from steps.handle_next(job_context, active)
        try:
            capture_stack.close()
        except Exception:  # noqa: BLE001 - as Dagster's own executor
            yield DagsterEvent.engine_event(
                job_context, "Exception while cleaning up compute log capture",
                EngineEventData(error=serializable_error_info_from_exc_info(sys.exc_info())))


def _capture_logs(job_context: PlanExecutionContext, execution_plan: ExecutionPlan,
                  capture_stack: ExitStack) -> Iterator[DagsterEvent]:
    """Capture the process's output for the whole run, as Dagster's in-process executor does."""
    manager = job_context.instance.compute_log_manager
    step_keys = [step.key for step in execution_plan.get_steps_to_execute_in_topo_order()]
    log_key = manager.build_log_key_for_run(job_context.run_id, create_compute_log_file_key())
    try:
        log_context = capture_stack.enter_context(manager.capture_logs(log_key))
        yield DagsterEvent.capture_logs(job_context, step_keys, log_key, log_context)
    except Exception:  # noqa: BLE001 - as Dagster's own executor: the run goes on without captured logs
        yield DagsterEvent.engine_event(
            job_context, "Exception while setting up compute log capture",
            EngineEventData(error=serializable_error_info_from_exc_info(sys.exc_info())))


def executor_config(section=None) -> dict:
    """This executor's config for a recipe's `engine` section (None: the defaults), the environment
    overriding it: what `definitions.py` and `goldpan run` (assets/launch.py) both configure."""
    from goldpan.engine import resolve_concurrent_steps, resolve_heavy_steps

    return {"max_concurrent": resolve_concurrent_steps(section), "heavy_at_once": resolve_heavy_steps(section)}


@dg.executor(
    name="goldpan_threaded_in_process",
    config_schema={
        "retries": get_retries_config(),
        "max_concurrent": dg.Field(int, default_value=DEFAULT_MAX_CONCURRENT, is_required=False,
                                   description="steps run at once (threads of the one process)"),
        "heavy_at_once": dg.Field(int, default_value=DEFAULT_HEAVY_AT_ONCE, is_required=False,
                                  description=f"steps tagged {STEP_LOAD_TAG}=heavy run at once (pooled "
                                  "stages, model training, large writes); light steps fill the other slots"),
    },
)
def threaded_in_process_executor(init_context: dg.InitExecutorContext) -> ThreadedInProcessExecutor:
    """Dagster executor definition of `ThreadedInProcessExecutor` (config: max_concurrent, retries)."""
    cfg = init_context.executor_config
    return ThreadedInProcessExecutor(retries=RetryMode.from_config(cfg["retries"]),  # type: ignore[arg-type]
                                     max_concurrent=cfg["max_concurrent"], heavy_at_once=cfg["heavy_at_once"])
