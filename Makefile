# tracesync — `make demo` runs the main job on embedded defaults, `make test` runs every test.
# Both set up everything they need on a fresh machine: the virtualenv, the Kafka and registry
# jars (from Maven Central) and PostgreSQL (from Debian's packages).
# Every target carries a `## description`; `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv deps jars postgres lint typecheck
.PHONY: test test-unit test-integration test-e2e demo bench clean
.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z0-9-]*:.*## / {printf "make %-17s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv with the pinned dependencies (constraints.txt)

jars: venv ## fetch the Kafka and schema-registry jars from Maven Central into var/cache/
	$(BIN)/tracesync kafka fetch
	$(BIN)/tracesync registry fetch

postgres: ## install and start PostgreSQL from Debian's packages (as root)
	bash deploy/postgres/setup.sh

deps: venv jars postgres ## everything the tests need: venv, jars, PostgreSQL

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv ## mypy, strict on tracesync, producers, streams, sinks
	$(BIN)/mypy

test: deps lint typecheck ## set up, lint, type-check and run every test tier
	$(BIN)/pytest -q --durations=15

test-unit: venv ## the unit tier (no broker, registry or database)
	$(BIN)/pytest tests/unit -q -m unit

test-integration: deps ## the integration tier (real Kafka, registry, PostgreSQL)
	$(BIN)/pytest tests/integration -q -m integration --durations=10

test-e2e: deps ## the end-to-end tier (the whole pipeline, kills and restarts, the demo)
	$(BIN)/pytest tests/e2e -q -m e2e --durations=10

demo: venv jars ## set up and run the whole pipeline on embedded defaults
	$(BIN)/tracesync demo

bench: venv jars ## measure throughput, latency and memory (not part of make test)
	$(BIN)/tracesync bench

clean: ## stop local Kafka and registry, remove var/
	-$(BIN)/tracesync kafka down --all
	-$(BIN)/tracesync registry down
	rm -rf var
