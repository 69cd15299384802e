# The two commands a newcomer needs: `make demo` and `make test`. CI runs `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
LINT_DIRS := src tests bench

.PHONY: demo test lint typecheck pytest bench bench-live bench-history setup system-deps clean

$(VENV)/.base: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh test
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.base

## Run the simulated demo home on http://$(HOST):$(PORT)
demo: $(VENV)/.base
	$(BIN)/roost demo --host $(HOST) --port $(PORT)

## Lint, type-check and run the whole test suite
test: $(VENV)/.test lint typecheck pytest

lint: $(VENV)/.test
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)

typecheck: $(VENV)/.test
	$(BIN)/mypy

pytest: $(VENV)/.test
	$(BIN)/pytest

## Benchmarks (they print their figures; nothing here is a pass/fail test)
bench: $(VENV)/.test
	scripts/system-deps.sh bench
	$(BIN)/python bench/http_state.py
	$(BIN)/python bench/footprint.py

## Live fan-out: 100/500/1000 WebSocket + 100 SSE clients, 10 changes/s (LIVE_ARGS="--repeat 3" for medians)
bench-live: $(VENV)/.test
	$(BIN)/python bench/live_fanout.py $(LIVE_ARGS)

## History: ingest, bytes per sample, year chart, bytes written per hour (a few minutes)
bench-history: $(VENV)/.test
	$(BIN)/python bench/history.py

system-deps:
	scripts/system-deps.sh test bench

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
