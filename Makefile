# Adviestraject. `make run` and `make test` work on a fresh machine (Python 3.11).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check bench docs serve worker clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: set up, create the SQLite database with the demo organisation, run the guided demo,
## then serve the answer pages and run the worker (Ctrl-C stops)
run: $(STAMP)
	$(BIN)/advies init --demo
	$(BIN)/advies demo
	$(BIN)/advies serve

## test: set up, start PostgreSQL when installed, run every test (SQLite and PostgreSQL)
test: $(STAMP)
	@bash scripts/postgres-up.sh || echo "PostgreSQL niet beschikbaar: de PostgreSQL-tests worden overgeslagen."
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

docs: $(STAMP)
	$(BIN)/advies flows show asked_advice --format md > docs/flows/asked_advice.md

## bench: speed of the engine (events per second on SQLite with synchronous=FULL)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_events.py

serve: $(STAMP)
	$(BIN)/advies serve

clean:
	rm -rf $(VENV) advies.db advies.db-wal advies.db-shm mail
