# qcapp: `make run` serves the app, `make test` runs the test suite. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app qcapp
INSTALLED := $(VENV)/.installed
RUN_INSTALLED := $(VENV)/.installed-run
E2E_INSTALLED := $(VENV)/.installed-e2e
AXE := tests/e2e/node_modules/axe-core/axe.min.js

export HOST PORT

.PHONY: install run test e2e lint setup clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

# `make run` needs only the service's own dependencies, not the test tools.
$(RUN_INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

## Upgrade the database, train the default model when there is none, serve with gunicorn.
run: setup
	$(BIN)/gunicorn --config gunicorn.conf.py 'qcapp:create_app()'

setup: $(RUN_INSTALLED)
	$(FLASK) db upgrade
	$(FLASK) qc setup

## Run the whole test suite.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(E2E_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev,e2e]'
	touch $@

# axe-core, injected into pages by the accessibility checks; pinned by package-lock.json.
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund --silent
	touch $@

## Run the browser tests (system Chromium, /usr/bin/chromium); artifacts in tests/e2e/artifacts/.
e2e: install $(E2E_INSTALLED) $(AXE)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

## Several hosts on this machine: PostgreSQL, Redis, app hosts on 5101 and 5102, one worker.
.PHONY: cluster cluster-test
cluster: install
	$(BIN)/python ops/cluster.py

## Start that cluster, run tests/cluster against it, stop it.
cluster-test: install
	$(BIN)/python -m pytest tests/cluster $(PYTEST_ARGS)

## Install the optional sentence-embeddings extra (CPU torch first: other specs pull CUDA).
.PHONY: embeddings finetune
embeddings: install
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[embeddings]'

## The fine-tuned tier (`qc train --features finetune`) needs the same extra.
finetune: embeddings

lint: install
	$(BIN)/ruff check qcapp training tests bench ops

clean-venv:
	rm -rf $(VENV)
