# chengxin — the two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: run test lint typecheck test-sqlite test-postgres system-deps bench bench-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Debian packages the project needs: chromium for the browser tests (no browser download works
# here) and a CJK font (pages in the browser, later the PDF reports, print Chinese with it).
DEB_PACKAGES := chromium fonts-noto-cjk poppler-utils
system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/chengxin setup
	$(BIN)/chengxin serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

test-sqlite: $(STAMP) system-deps
	@echo "== tests on SQLite =="
	env -u CHENGXIN_TEST_DATABASE_URL $(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

# The PostgreSQL run: only the tests that touch the database (tests/conftest.py), the API fuzz with fewer
# examples per operation (the SQLite run has 25) to keep CI in its time budget.
test-postgres: $(STAMP) system-deps
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== tests on PostgreSQL ($(PG_TEST_URL)) =="; \
	  CHENGXIN_TEST_DATABASE_URL=$(PG_TEST_URL) CHENGXIN_FUZZ_EXAMPLES=$${CHENGXIN_FUZZ_EXAMPLES:-8} \
	    $(BIN)/pytest -q -n 2 $(PYTEST_ARGS); \
	else \
	  echo "!! PostgreSQL is not reachable at $(PG_TEST_URL): PostgreSQL tests NOT run"; \
	fi

test: lint typecheck test-sqlite test-postgres

BENCH_DEB_PACKAGES := wrk
bench-deps:
	@missing=""; for p in $(BENCH_DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

bench: $(STAMP) bench-deps
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/lookup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
