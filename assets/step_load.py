"""What each step asks of the run process, as a Dagster op tag the executor limits (assets/executor.py).

`heavy` steps feed the worker pool, train models or write large tables: their Python work holds the run
process's GIL and most of its memory, so two of them side by side slow each other more than they gain
(measured: `doc_signals` with both model trainings beside it, 48.7 s against 42.0 s for the three in
turn on 1,000 real pages). `light` steps read and check: the GX suites, consent's header parsing, small
views; they run beside a heavy step on the core its pool leaves between batches. Every step of the
graph carries the tag (tests/unit/test_threaded_executor.py checks it), so a new step has to choose.
"""

STEP_LOAD_TAG = "goldpan/step_load"
HEAVY_STEP = {STEP_LOAD_TAG: "heavy"}
LIGHT_STEP = {STEP_LOAD_TAG: "light"}
