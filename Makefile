# One command per task, shared by people and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test test-fast check format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

## install: Python environment and front-end packages
install: $(STAMP) node_modules/.package-lock.json

## demo: start the platform with a demo district on embedded storage
demo: install
	$(BIN)/shuzhi demo

## test: the whole suite, SQLite and PostgreSQL, DuckDB and Spark, with the real-browser tests
##       (one worker per core; the Spark tests form one group, so one worker starts one JVM)
test: install
	scripts/install-system-deps
	$(BIN)/pytest -q -n auto --dist loadgroup

## test-fast: skip the PostgreSQL and browser tests (local iteration only; CI runs everything)
test-fast: install
	$(BIN)/pytest -q -n auto --dist loadgroup -m "not postgres and not browser"

## check: formatting, lint and strict types
check: install
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## bench: run every benchmark and print comparison tables
bench: install
	scripts/install-system-deps
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
