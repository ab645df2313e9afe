# DataBridge developer tasks. The two entry points are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp
# Versions measured to work together (Airflow 3.3.2, Python 3.11); scripts/constraints.py writes it from .venv.
CONSTRAINTS := constraints-3.11.txt
DATABRIDGE_HOME ?= $(CURDIR)/.databridge
export DATABRIDGE_HOME
PYTEST_ARGS ?=
# pip lists the machine's extra local indexes that hold no such package; those warnings are noise.
PIP_QUIET := { grep -v "WARNING: Location 'file:///opt/pypi" || true; }

.PHONY: help venv demo test lint airflow bench clean

help:
	@echo "make demo     venv + embedded PostgreSQL + demo SQLite shop + run the demo_shop DAG + report"
	@echo "make test     start PostgreSQL/MariaDB/Redis if down, then ruff, mypy, the test servers (MongoDB wire) and pytest (PYTEST_ARGS=...)"
	@echo "make lint     ruff (check and format --check) + mypy"
	@echo "make airflow  Airflow (api-server, scheduler, dag-processor, triggerer) on http://127.0.0.1:8080 (AIRFLOW_PORT=...); users admin, viewer"
	@echo "make bench    DataBridge vs the raw pipe, pgloader and dlt on 1M rows (BENCH_ARGS=--quick|--10m|--rounds N|--schema: a 12-table schema vs pgloader)"
	@echo "make venv     create/update .venv from requirements-dev.txt and the package"
	@echo "make clean    stop the embedded PostgreSQL and remove the state in $(DATABRIDGE_HOME)"

venv: $(STAMP)
	@:

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml $(CONSTRAINTS)
	@scripts/system_deps.sh
	@test -x $(PY) || { echo "venv: creating $(VENV) with $$(python3 --version)"; python3 -m venv $(VENV); }
	@echo "venv: installing requirements-dev.txt and the databridge package (a few minutes on a cold cache)"
	@$(PY) -m pip install --quiet --progress-bar off --upgrade pip 2>&1 | $(PIP_QUIET)
	@$(PY) -m pip install --quiet --progress-bar off -c $(CONSTRAINTS) -r requirements-dev.txt 2>&1 | $(PIP_QUIET)
	@$(PY) -m pip install --quiet --progress-bar off -c $(CONSTRAINTS) -e . 2>&1 | $(PIP_QUIET)
	@touch $@
	@echo "venv: ready"

demo: venv
	@scripts/demo.sh

test: venv
	@scripts/services.sh
	$(VENV)/bin/ruff check plugins dags tests scripts
	$(VENV)/bin/ruff format --check plugins dags tests scripts
	$(VENV)/bin/mypy
	@# The test servers (MongoDB wire, CouchDB, S3) run only as long as pytest: stopped by PID even when it fails.
	trap 'scripts/test_servers.sh stop' EXIT; scripts/test_servers.sh start; \
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check plugins dags tests scripts
	$(VENV)/bin/ruff format --check plugins dags tests scripts
	$(VENV)/bin/mypy

AIRFLOW_PORT ?= 8080
airflow: venv
	@AIRFLOW_PORT=$(AIRFLOW_PORT) scripts/airflow.sh serve

BENCH_ARGS ?=
bench: venv
	@scripts/services.sh postgres mariadb
	$(PY) scripts/bench/bench.py $(BENCH_ARGS)

clean:
	@if [[ -d "$(DATABRIDGE_HOME)/pg" && -x $(PY) ]]; then $(PY) scripts/embedded_pg.py stop --dir "$(DATABRIDGE_HOME)/pg"; fi
	rm -rf "$(DATABRIDGE_HOME)"/{pg,airflow,demo,logs}
	@rmdir "$(DATABRIDGE_HOME)" 2>/dev/null || true
