"""Import Great Expectations without loading what only its unused expectations need.

Why: `import great_expectations` imports every built-in expectation, and some of them (KL divergence,
the Kolmogorov-Smirnov metrics) import `scipy.stats` at module level for use inside their methods only.
goldpan's suites (quality_checks/suites.py) never use them, and that import costs the run process
~0.4 s of CPU and 54 MB of resident memory (measured in a process that had loaded `definitions`, GX
imported and one suite validated: 2.35-2.43 s and 350 MB against 1.93-1.97 s and 296 MB). It is
registered as a lazy module (the standard library's `importlib.util.LazyLoader`): the first attribute
used loads the real module, so an expectation that does need it still works, it only pays then.
(`altair`, imported beside it, is used at import time elsewhere in GX: deferring it saves nothing.)
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

#: modules GX imports at import time and uses only inside expectations goldpan does not run
DEFERRED = ("scipy.stats",)
_LOCK = threading.Lock()


def _defer(name: str) -> None:
    """Put a lazy module for `name` in sys.modules (and on its parent package), unless it is loaded."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        # `from scipy import stats` reads the attribute; without it scipy's own __getattr__ would import
        # the real module through the import system, which touches the lazy module and loads it
        setattr(sys.modules[parent], child, module)


def import_gx() -> ModuleType:
    """`great_expectations`, imported once per process with `DEFERRED` left lazy. Under a lock: light
    Dagster steps run on threads, and two suites may start at once."""
    with _LOCK:
        if "great_expectations" not in sys.modules:
            for name in DEFERRED:
                _defer(name)
        import great_expectations as gx

        return gx
