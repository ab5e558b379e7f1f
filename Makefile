# Two set-up commands, both safe on a fresh machine with Python 3.11+ and make:
#   make validate   create the environment if missing, validate, print the report
#   make test       create the environment if missing, run the tests
# `make` (= `make install`) also installs the pre-commit hook in a git checkout.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := install
.PHONY: install hooks validate test fmt fmt-check refresh check-generated build site benchmark clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) hooks

# The pre-commit hook in .githooks/ (quick checks of the staged changes).
# Only in a git checkout of this repository, and never over a hooks folder
# someone configured on purpose.
hooks:
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ]; then \
	  current="$$(git config --get core.hooksPath || true)"; \
	  if [ -z "$$current" ] || [ "$$current" = .githooks ]; then \
	    git config core.hooksPath .githooks && echo "pre-commit hook installed (.githooks/pre-commit; git commit --no-verify skips it)"; \
	  else \
	    echo "core.hooksPath is already $$current: not changed; run .githooks/pre-commit from your own hook to get the checks"; \
	  fi; \
	fi

validate: $(STAMP)
	$(BIN)/sifc validate --docs-dir build/data-docs --output build/validation-report.json

# -n auto: one pytest worker per core (pytest-xdist); --dist loadfile keeps each
# test module on one worker, so a module's shared fixtures are built once.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

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

site: $(STAMP)
	$(BIN)/sifc site --out build/site

benchmark: $(STAMP)
	$(BIN)/python benchmarks/validate.py

clean:
	rm -rf build dist .pytest_cache
