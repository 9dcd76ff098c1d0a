# make serve: set up, fetch GDSC, train if no champion model exists, serve on :3000
# make test:  set up with test extras, lint, type-check and run the whole test suite
# make bento: as serve, then pin the champion and build a Bento (bentoml build)
# make lock:  re-lock requirements.txt and requirements-test.txt from pyproject.toml
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: serve train bento test lint lock audit bench bench-gate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs are the locked versions, checked against their hashes (the lock files
# are `make lock`'s output); the project itself goes in editable, without deps.
# Stamps re-run the install whenever a lock file or pyproject.toml changes.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@

$(VENV)/.installed-test: requirements-test.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.txt
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@ $(VENV)/.installed

# Resolves pyproject.toml's lower bounds for every platform on Python 3.11+, keeping
# the versions already locked unless LOCK_ARGS=--upgrade; the test lock is held to
# the serving lock's versions.
UV_VERSION := 0.13.8
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command 'make lock' $(LOCK_ARGS)
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(LOCK) --output-file requirements.txt
	$(LOCK) --extra test --constraint requirements.txt --output-file requirements-test.txt

# Known vulnerabilities in the locked set (pip-audit); fails on one a release fixes,
# and when the vulnerability service cannot be asked (unless AUDIT_ARGS=--allow-unaudited).
audit: $(VENV)/.installed-test
	$(BIN)/python scripts/audit_lock.py requirements-test.txt $(AUDIT_ARGS)

# The champion is also pinned into BentoML's model store, so `bentoml build` works next.
serve: $(VENV)/.installed
	$(BIN)/rediscover data fetch gdsc
	$(BIN)/rediscover train --if-missing
	$(BIN)/rediscover bento --pin-only
	$(BIN)/rediscover serve --host $(HOST) --port $(PORT)

bento: $(VENV)/.installed
	$(BIN)/rediscover data fetch gdsc
	$(BIN)/rediscover train --if-missing
	$(BIN)/rediscover bento

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
