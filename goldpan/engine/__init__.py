"""The engine seam (issue "Real volume"; a Ray engine plugs in here for issue "Scale out").

Stages call `make_engine(recipe.engine).map_batches(fn, batches, context)`: `fn` is the stage's
pure per-batch function, the engine decides where it runs. See `base.py` for the contract.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from goldpan.engine.base import BatchFn, Engine
from goldpan.engine.cache import worker_cache
from goldpan.engine.local import LAKE_IO_MODES, EngineWorkerDied, InProcessEngine, LocalProcessEngine
from goldpan.engine.meter import StageMeter
from goldpan.engine.tally import WorkerTally
from goldpan.recipe import EngineSection

ENV_WORKERS = "GOLDPAN_WORKERS"
ENV_ENGINE = "GOLDPAN_ENGINE"
ENV_RAY_ADDRESS = "GOLDPAN_RAY_ADDRESS"
ENV_CONCURRENT_STEPS = "GOLDPAN_CONCURRENT_STEPS"
ENV_HEAVY_STEPS = "GOLDPAN_HEAVY_STEPS"
ENV_LAKE_IO = "GOLDPAN_LAKE_IO"
KINDS = ("local", "inprocess", "ray")


def resolve_workers(section: EngineSection | None = None, env: Mapping[str, str] | None = None) -> int:
    """Worker count: $GOLDPAN_WORKERS, else the recipe's `engine.workers`, else one per core."""
    env = os.environ if env is None else env
    raw = (env.get(ENV_WORKERS) or "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"{ENV_WORKERS} must be a positive integer, got {raw!r}") from None
        if n < 1:
            raise ValueError(f"{ENV_WORKERS} must be a positive integer, got {raw!r}")
        return n
    if section is not None and section.workers:
        return section.workers
    return os.cpu_count() or 1


def _positive_env(env: Mapping[str, str] | None, name: str) -> int | None:
    raw = ((os.environ if env is None else env).get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


def resolve_concurrent_steps(section: EngineSection | None = None, env: Mapping[str, str] | None = None) -> int:
    """Steps one `goldpan run` process runs at once: $GOLDPAN_CONCURRENT_STEPS, else the recipe's
    `engine.concurrent_steps`, else 2 where the per-document work runs outside the run process (a pool of
    two or more local workers, or Ray) and 1 where it runs inside it (one worker, `inprocess`).

    Why not 2 everywhere: a light step beside a stage whose work holds the run process's GIL only takes
    turns with it (measured with one worker: the `pages` suite took 13.0 s beside `documents` instead of
    0.3 s after it, and `documents` 40.7 s against 31.9 s in a run one step at a time)."""
    got = _positive_env(env, ENV_CONCURRENT_STEPS)
    if got is not None:
        return got
    section = section or EngineSection()
    if section.concurrent_steps is not None:
        return section.concurrent_steps
    kind = resolve_kind(section, env)
    pooled = kind == "ray" or (kind == "local" and resolve_workers(section, env) > 1)
    return 2 if pooled else 1


def resolve_heavy_steps(section: EngineSection | None = None, env: Mapping[str, str] | None = None) -> int:
    """Of those, heavy steps (assets/step_load.py) at once: $GOLDPAN_HEAVY_STEPS, else the recipe's
    `engine.heavy_steps`."""
    got = _positive_env(env, ENV_HEAVY_STEPS)
    return got if got is not None else (section or EngineSection()).heavy_steps


def resolve_kind(section: EngineSection | None = None, env: Mapping[str, str] | None = None) -> str:
    """The engine kind: $GOLDPAN_ENGINE, else the recipe's `engine.kind`; one of KINDS."""
    env = os.environ if env is None else env
    kind = (env.get(ENV_ENGINE) or (section or EngineSection()).kind).strip()
    if kind not in KINDS:
        raise ValueError(f"{ENV_ENGINE} must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def make_engine(section: EngineSection | None = None, env: Mapping[str, str] | None = None) -> Engine:
    """The engine a run uses: the recipe's `engine` section, overridden by the environment.

    One local worker runs in process: a pool of one only adds the cost of shipping batches. Ray
    keeps one worker as one Ray worker (a cluster's head should not do the work).
    """
    env = os.environ if env is None else env
    section = section or EngineSection()
    kind = resolve_kind(section, env)
    workers = resolve_workers(section, env)
    if kind == "ray":
        from goldpan.engine.ray_engine import RayEngine

        r = section.ray
        return RayEngine(workers, address=(env.get(ENV_RAY_ADDRESS) or r.address or None),
                         runtime_env=r.runtime_env, max_retries=r.max_retries,
                         object_store_memory=r.object_store_mb * 2**20 if r.object_store_mb else None,
                         slice_unit=r.slice_unit, tasks_per_worker=r.tasks_per_worker)
    if kind == "inprocess" or workers == 1:
        return InProcessEngine()
    lake_io = (env.get(ENV_LAKE_IO) or section.lake_io).strip()
    if lake_io not in LAKE_IO_MODES:  # named here: the bad value may come from the environment
        raise ValueError(f"{ENV_LAKE_IO} / engine.lake_io must be one of {', '.join(LAKE_IO_MODES)}, got {lake_io!r}")
    return LocalProcessEngine(workers, lake_io=lake_io)


def prestart_in_background(engine: Engine) -> None:
    """Start a local pool's forkserver and workers on a daemon thread, so their start (imports, models:
    seconds of one core) overlaps the run's own start and WARC import instead of the first pooled
    stage waiting for it. Other engines start when first used."""
    if isinstance(engine, LocalProcessEngine):
        threading.Thread(target=engine.prestart, name="engine-prestart", daemon=True).start()


__all__ = [
    "BatchFn",
    "Engine",
    "EngineWorkerDied",
    "InProcessEngine",
    "LocalProcessEngine",
    "StageMeter",
    "WorkerTally",
    "make_engine",
    "prestart_in_background",
    "resolve_concurrent_steps",
    "resolve_heavy_steps",
    "resolve_kind",
    "resolve_workers",
    "worker_cache",
]
