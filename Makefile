# Two set-up commands, both safe on a fresh machine with Python 3.11+ and make:
#   make validate   create the environment if missing, validate, print the report
#   make test       create the environment if missing, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install validate test fmt fmt-check refresh check-generated build benchmark clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

validate: $(STAMP)
	$(BIN)/sifc validate --docs-dir build/data-docs --output build/validation-report.json

test: $(STAMP)
	$(BIN)/python -m pytest -q

fmt: $(STAMP)
	$(BIN)/sifc fmt

fmt-check: $(STAMP)
	$(BIN)/sifc fmt --check

refresh: $(STAMP)
	$(BIN)/sifc refresh

check-generated: $(STAMP)
	$(BIN)/sifc refresh --check

build: $(STAMP)
	$(BIN)/sifc build --out dist

benchmark: $(STAMP)
	$(BIN)/python benchmarks/validate.py

clean:
	rm -rf build dist .pytest_cache
