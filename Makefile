# The two commands a newcomer needs: `make demo` and `make test`. Only Python 3.11+ and make are required.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RESULTS := var/test-results
PYTEST_ARGS ?=
# pytest-xdist: one worker per core (at most 4); WORKERS=0 runs in one process.
WORKERS ?= auto
PYTEST := $(BIN)/pytest -q -n $(WORKERS) --maxprocesses 4

.PHONY: demo demo-dates test lint typecheck test-sqlite test-postgres messages check-messages install install-dev clean

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
	DATABASE_URL= $(PYTEST) --junitxml=$(RESULTS)/sqlite.xml $(PYTEST_ARGS)

# The demo's dates do not depend on the database: its date-spread check (tests/core/test_demo_dates.py) runs on
# SQLite only.
test-postgres: install-dev
	@mkdir -p $(RESULTS)
	$(BIN)/python tests/pgserver.py $(PYTEST) -m "not demo_dates" --junitxml=$(RESULTS)/postgresql.xml $(PYTEST_ARGS)

# Before you stop, when you touched the demo or anything dated: the demo's story on days spread over a year.
demo-dates: install-dev
	DATABASE_URL= $(PYTEST) -m demo_dates $(PYTEST_ARGS)

# Every part runs even when one fails (-k): the summary reports both databases and names the failing tests.
test: install-dev
	@rm -rf $(RESULTS)
	@status=0; \
	$(MAKE) --no-print-directory -k lint typecheck check-messages test-sqlite test-postgres || status=1; \
	$(BIN)/python tests/report.py $(RESULTS)/sqlite.xml $(RESULTS)/postgresql.xml || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) var/test-results .pytest_cache .mypy_cache .ruff_cache
