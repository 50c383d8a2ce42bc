# Adviestraject. `make run` and `make test` work on a fresh machine (Python 3.11).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check bench docs serve worker clean assets screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: set up, create the SQLite database with the demo organisations, run the guided demo,
## then serve the web interface (printing a sign-in link for each demo role) and run the worker
run: $(STAMP)
	$(BIN)/advies init --demo
	$(BIN)/advies demo
	$(BIN)/advies serve --inloglinks

## test: set up, start PostgreSQL when installed, run every test (SQLite and PostgreSQL)
test: $(STAMP)
	@bash scripts/postgres-up.sh || echo "PostgreSQL niet beschikbaar: de PostgreSQL-tests worden overgeslagen."
	@bash scripts/chromium-up.sh
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

## docs: docs/flows/<flow>.md for every flow, generated from its definition
docs: $(STAMP)
	for flow in $$($(BIN)/python -c "from flows import all_flows; print(*all_flows())"); do \
	  $(BIN)/advies flows show $$flow --format md > docs/flows/$$flow.md; done

## bench: the benchmark suite (issue 9; not part of make test): every figure beside its reference
## measured in the same run, on SQLite and PostgreSQL; a table and bench/results.json (BENCHMARKS.md).
## Small sizes by default (under 2 minutes); make bench FULL=1 for the issue's sizes
bench: $(STAMP)
	@bash scripts/postgres-up.sh || echo "PostgreSQL niet beschikbaar: de PostgreSQL-cijfers worden overgeslagen."
	BENCH_FULL=$(FULL) $(BIN)/python -m benchmarks

## assets: copy the NL Design System CSS (into web/static) and axe-core (beside the browser tests)
## from the npm registry, with their licences; the copies are committed, so installing needs no Node.js
assets:
	bash scripts/assets.sh

## screenshots: docs/screenshots/*.png of the main pages, from a fresh demo in headless chromium
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py docs/screenshots

serve: $(STAMP)
	$(BIN)/advies serve

clean:
	rm -rf $(VENV) advies.db advies.db-wal advies.db-shm advies.db.sleutel mail
