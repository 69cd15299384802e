# The two commands a newcomer needs: `make demo` and `make test`. CI runs `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
# The demo's data (history) stays in this checkout: demos of other checkouts keep their own.
DEMO_DATA_DIR ?= .demo-data
LINT_DIRS := src tests bench

.PHONY: demo test lint typecheck pytest bench bench-mqtt bench-live bench-consumer bench-devices bench-alerts bench-history bench-page setup system-deps clean page page-watch wheel

# The web page: our sources in frontend/, uPlot and esbuild from npm (frontend/package-lock.json),
# built into package data. Node.js builds it; roost never needs Node.js to run.
PAGE         := src/roost/web/static/dist/index.html
NPM_STAMP    := frontend/node_modules/.package-lock.json
PAGE_SOURCES := $(wildcard frontend/src/*) frontend/build.mjs src/roost/web/static/roost-live.js

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	scripts/system-deps.sh page
	# --ignore-scripts: no dependency runs code at install (esbuild needs no postinstall).
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(PAGE): $(NPM_STAMP) $(PAGE_SOURCES)
	cd frontend && node build.mjs

## Build the web page into src/roost/web/static/dist/
page: $(PAGE)

## Rebuild the page on every change (unminified), for development next to `make demo`
page-watch: $(NPM_STAMP)
	cd frontend && node build.mjs --watch

$(VENV)/.base: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh test
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.base $(PAGE)

## Run the simulated demo home on http://$(HOST):$(PORT)
demo: $(VENV)/.base $(PAGE)
	$(BIN)/roost demo --host $(HOST) --port $(PORT) --data-dir $(DEMO_DATA_DIR)

## Lint, type-check and run the whole test suite
test: $(VENV)/.test $(PAGE) lint typecheck pytest

lint: $(VENV)/.test
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)

typecheck: $(VENV)/.test
	$(BIN)/mypy

pytest: $(VENV)/.test $(PAGE)
	$(BIN)/pytest

## Benchmarks (they print their figures; nothing here is a pass/fail test)
bench: $(VENV)/.test
	scripts/system-deps.sh bench
	$(BIN)/python bench/http_state.py
	$(BIN)/python bench/footprint.py

## Live fan-out: 100/500/1000 WebSocket + 100 SSE clients, 10 changes/s (LIVE_ARGS="--repeat 3" for medians)
bench-live: $(VENV)/.test
	$(BIN)/python bench/live_fanout.py $(LIVE_ARGS)

## A consumer sleeping 1 s per batch at 1,000 changes/s: live p99 without and with it (~30 s; CONSUMER_ARGS="--rounds 4")
bench-consumer: $(VENV)/.test
	$(BIN)/python bench/slow_consumer.py $(CONSUMER_ARGS)

## MQTT bridge through a local Mosquitto: CPU, capacity, p99, a 10 s broker outage (MQTT_ARGS="--full" for 5 min)
bench-mqtt: $(VENV)/.test
	scripts/system-deps.sh test
	$(BIN)/python bench/mqtt.py $(MQTT_ARGS)

## History: ingest, bytes per sample, year chart, bytes written per hour (a few minutes)
bench-history: $(VENV)/.test
	$(BIN)/python bench/history.py

## Devices: 500 plugs with schedules, CPU per slot boundary and reading, memory, POST switch p99 (~10 s; DEVICES_ARGS="--devices 1000")
bench-devices: $(VENV)/.test
	$(BIN)/python bench/devices.py $(DEVICES_ARGS)

## Alerts: 1,000 threshold rules over 1,000 changes/s, CPU and for-elapsed-to-notice delay (~90 s; ALERTS_ARGS="--rounds 5")
bench-alerts: $(VENV)/.test
	$(BIN)/python bench/alerts.py $(ALERTS_ARGS)

## The page in headless Chromium: first live value, bytes transferred, year chart (PAGE_ARGS="--runs 9")
bench-page: $(VENV)/.test $(PAGE)
	$(BIN)/python bench/page.py $(PAGE_ARGS)

## A wheel with the built page inside, for machines without Node.js (into dist/)
wheel: $(VENV)/.base $(PAGE)
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

system-deps:
	scripts/system-deps.sh test bench page

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache \
		frontend/node_modules src/roost/web/static/dist
