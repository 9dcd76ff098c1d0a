# make serve: set up, fetch GDSC, train if no champion model exists, serve on :3000
# make test:  set up with test extras, lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: serve train test lint bench bench-gate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable '.[test]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/rediscover data fetch gdsc
	$(BIN)/rediscover train --if-missing
	$(BIN)/rediscover serve --host $(HOST) --port $(PORT)

train: $(VENV)/.installed
	$(BIN)/rediscover data fetch gdsc
	$(BIN)/rediscover train

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Speed against floors measured in the same run (README, "Benchmarks"): trains all
# GDSC drugs once, then times start-up, HTTP and in-process scoring on that bundle;
# under 10 minutes on 2 cores. E.g. BENCH_ARGS="--sections http --bundle PATH".
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench.py --out bench.json $(BENCH_ARGS)

# The promotion gate on simulated DRUP batches, genuine and corrupted (README,
# "Retraining when data grow"); about 25 minutes on 2 cores.
bench-gate: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_gate.py --seeds 0 1 2 3 4 5 6 7 8 9 --out gate-bench.json

clean:
	rm -rf mlflow.db mlartifacts .cache .bentoml
