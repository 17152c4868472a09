# qcapp: `make run` serves the app, `make test` runs the test suite. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app qcapp
INSTALLED := $(VENV)/.installed

export HOST PORT

.PHONY: install run test lint setup clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(INSTALLED)

## Upgrade the database, train the default model when there is none, serve with gunicorn.
run: setup
	$(BIN)/gunicorn --config gunicorn.conf.py 'qcapp:create_app()'

setup: install
	$(FLASK) db upgrade
	$(FLASK) qc setup

## Run the whole test suite.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check qcapp training tests bench

clean-venv:
	rm -rf $(VENV)
