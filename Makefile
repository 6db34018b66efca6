# The two commands a newcomer needs: `make demo` and `make test`. Only Python 3.11+ and make are required.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RESULTS := var/test-results
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck test-sqlite test-postgres messages check-messages install install-dev clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Grenier needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/grenier demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy grenier tests

check-messages: install-dev
	$(BIN)/python tests/messages.py --check

messages: install-dev
	$(BIN)/python tests/messages.py --update

test-sqlite: install-dev
	@mkdir -p $(RESULTS)
	DATABASE_URL= $(BIN)/pytest -q --junitxml=$(RESULTS)/sqlite.xml $(PYTEST_ARGS)

test-postgres: install-dev
	@mkdir -p $(RESULTS)
	$(BIN)/python tests/pgserver.py $(BIN)/pytest -q --junitxml=$(RESULTS)/postgresql.xml $(PYTEST_ARGS)

test: install-dev
	@rm -rf $(RESULTS)
	$(MAKE) --no-print-directory lint typecheck check-messages
	$(MAKE) --no-print-directory test-sqlite test-postgres || true
	$(BIN)/python tests/report.py $(RESULTS)/sqlite.xml $(RESULTS)/postgresql.xml

clean:
	rm -rf $(VENV) var/test-results .pytest_cache .mypy_cache .ruff_cache
