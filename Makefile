# wagtail-2fa-sessions development tasks (GNU make). `make help` lists them.
#
# Every target that needs Python installs what it needs first: it finds a Python >= 3.12
# (scripts/find-python), creates .venv if needed and installs the project with its test
# extras (scripts/ensure-venv, re-run only when pyproject.toml changes).

SHELL := /bin/sh
.DEFAULT_GOAL := help

VENV ?= .venv
VENV_OLDEST ?= .venv-oldest
PYTHON := $(VENV)/bin/python
PYTHON_OLDEST := $(VENV_OLDEST)/bin/python
# The oldest supported combination (the newest is whatever pyproject.toml resolves to).
OLDEST_PYTHON ?= 3.12
OLDEST_PINS ?= 'wagtail==7.0.*' 'django==5.2.*'
# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-x -k revoke'
PYTEST_ARGS ?=
# Extra arguments for benchmarks/run.py, e.g. make bench BENCH_ARGS=--quick
BENCH_ARGS ?=

# Run pytest with interpreter $(1); pytest's "no tests collected" (exit 5) gets a clear message.
define run_pytest
	@echo "==> $(1) -m pytest $(PYTEST_ARGS)"
	@$(1) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; \
	exit $$status
endef

.PHONY: help venv install demo test lint format bench test-oldest clean distclean

help:
	@echo "make demo         install, migrate, seed and run the sandbox on http://127.0.0.1:8000/admin/"
	@echo "make test         install and run the test suite (PYTEST_ARGS='...' passes options)"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make format       ruff format and ruff check --fix"
	@echo "make bench        run the benchmarks (benchmarks/run.py; BENCH_ARGS='...' passes options)"
	@echo "make test-oldest  run the tests on Python $(OLDEST_PYTHON) + wagtail 7.0 + Django 5.2 ($(VENV_OLDEST))"
	@echo "make install      only create $(VENV) and install the project"
	@echo "make clean        remove caches, build output, the sandbox database and media"
	@echo "make distclean    clean, and remove $(VENV) and $(VENV_OLDEST)"

venv install:
	@sh scripts/ensure-venv $(VENV)

demo: install
	@sh scripts/demo $(PYTHON)

test: install
	$(call run_pytest,$(PYTHON))

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PYTHON) benchmarks/run.py $(BENCH_ARGS)

test-oldest:
	@sh scripts/ensure-venv $(VENV_OLDEST) --prefer $(OLDEST_PYTHON) -- $(OLDEST_PINS)
	@$(PYTHON_OLDEST) -c 'import sys, django, wagtail; print("==> Python %s, Django %s, Wagtail %s" % (sys.version.split()[0], django.get_version(), wagtail.__version__))'
	$(call run_pytest,$(PYTHON_OLDEST))

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	rm -rf sandbox/media sandbox/static
	rm -f sandbox/*.sqlite3 sandbox/*.sqlite3-*
	find . -path ./$(VENV) -prune -o -path ./$(VENV_OLDEST) -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VENV_OLDEST)
