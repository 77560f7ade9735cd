# meshvalue: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's printed URLs and e-mail links follow HOST and PORT (`make demo PORT=8080`).
export HOST PORT

# The demo's KPI warehouse (apps/sources/demo.py): seed_demo writes it, pulls read it.
DEMO_WAREHOUSE_URL := duckdb:///$(CURDIR)/demo-warehouse.duckdb
demo run worker beat: export MESHVALUE_SOURCE_DEMO_WAREHOUSE_URL ?= $(DEMO_WAREHOUSE_URL)

.PHONY: help install install-dev demo test lint format run worker beat bench bench-web bench-costs bench-ingest clean

help:
	@echo "make demo     install, load the demo portfolio into SQLite, then run web, worker and beat on http://$(HOST):$(PORT) (Ctrl-C stops all)"
	@echo "make test     install test dependencies and run the whole suite"
	@echo "make lint     ruff check, ruff format --check, the import contracts (layers), mypy on apps/ and config/"
	@echo "              (django-stubs, check_untyped_defs) and mypy --strict on meshvalue/"
	@echo "make run | worker | beat   the web server, a Celery worker on every queue, Celery beat"
	@echo "make bench    time the evaluation of a synthetic portfolio in PostgreSQL (BENCH_ARGS=--products N;"
	@echo "              BENCH_BROKER_URL=redis://... adds chunked runs on one and two real Celery workers)"
	@echo "make bench-web   time pages and API under gunicorn, bench portfolio against the demo (BENCH_WEB_ARGS=--reuse)"
	@echo "make bench-costs   time a 1,000,000-line FOCUS import against DuckDB alone (BENCH_COSTS_ARGS=--lines N)"
	@echo "make bench-ingest  time bulk JSON and CSV outcome imports against COPY (BENCH_INGEST_ARGS=--rows 1000,10000)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo_history
	$(BIN)/python manage.py demo_logins
	$(BIN)/python scripts/demo_run.py

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/mypy --strict meshvalue

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO -Q default,evaluations,imports,notifications

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

# A synthetic portfolio in its own PostgreSQL database (meshvalue_bench); BENCH_ARGS="--products 1000" etc.
# Two JSON lines: the evaluation against its SQL floor, then the decision-loop and readiness endpoints
# against their bare SQL (BENCH_LOOP_ARGS="--products 1000").
bench: install-dev
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_decision_loop.py $(BENCH_LOOP_ARGS)

# Pages and API endpoints under gunicorn (1 and 8 clients), the bench portfolio (meshvalue_bench_web) against the
# demo (meshvalue_bench_web_demo); one JSON line per page. BENCH_WEB_ARGS="--reuse --seconds 3" etc.
bench-web: install-dev
	$(BIN)/python scripts/bench_web.py $(BENCH_WEB_ARGS)

# A generated FOCUS csv.gz imported into a database of its own (created beside DATABASE_URL's, then dropped).
bench-costs: install-dev
	$(BIN)/python scripts/bench_costs.py $(BENCH_COSTS_ARGS)

# Outcome imports through the API (bulk JSON, CSV) against COPY into the same table, in a database of
# its own (meshvalue_bench_ingest, on DATABASE_URL's server); one JSON line per size and format.
bench-ingest: install-dev
	$(BIN)/python scripts/bench_ingest.py $(BENCH_INGEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles test-artifacts db.sqlite3
