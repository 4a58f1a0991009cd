# tracesync — `make demo` runs the main job on embedded defaults, `make test` runs every test.
# Both set up everything they need on a fresh machine: the virtualenv, the Kafka and registry
# jars (from Maven Central), PostgreSQL and the PDF libraries and tools (from Debian's
# packages), the AsyncAPI schemas (npm) and the Java example consumer (Maven).
# Every target carries a `## description`; `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv deps jars postgres system asyncapi-specs java-example lint typecheck
.PHONY: test test-unit test-integration test-e2e test-faults demo bench clean
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

system: ## install Debian's Pango, fonts and poppler-utils (PDF report and its checks)
	bash deploy/system/setup.sh

# the AsyncAPI JSON Schemas that tests validate docs/asyncapi.yaml against (npm's @asyncapi/specs)
ASYNCAPI_SPECS := deploy/asyncapi/node_modules/.package-lock.json
$(ASYNCAPI_SPECS): deploy/asyncapi/package.json deploy/asyncapi/package-lock.json
	npm ci --prefix deploy/asyncapi --no-audit --no-fund --loglevel=error
	touch $(ASYNCAPI_SPECS)

asyncapi-specs: $(ASYNCAPI_SPECS) ## install @asyncapi/specs from npm (deploy/asyncapi/)

# the Java example consumer: Maven fetches its dependencies (Maven Central) and builds it once;
# its test builds it again with `mvn -q package`, which then needs nothing from the network
JAVA_EXAMPLE := examples/java-consumer
JAVA_EXAMPLE_JAR := $(JAVA_EXAMPLE)/target/chain-consumer.jar
$(JAVA_EXAMPLE_JAR): $(JAVA_EXAMPLE)/pom.xml $(shell find $(JAVA_EXAMPLE)/src -type f)
	cd $(JAVA_EXAMPLE) && mvn -q package

java-example: $(JAVA_EXAMPLE_JAR) ## build the Java example consumer (examples/java-consumer/)

deps: venv jars postgres system asyncapi-specs java-example ## everything the tests need

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

# TRACESYNC_FAULT_SEED=N picks the kill moments (the seed is printed); counts: var/test/artifacts/
test-faults: deps ## the fault tier: >= 20 seeded SIGKILLs, PostgreSQL and registry outages
	$(BIN)/pytest tests/faults -q -m faults -rA --durations=5

demo: venv jars system ## set up and run the whole pipeline on embedded defaults
	$(BIN)/tracesync demo

bench: venv jars ## measure throughput, latency and memory (not part of make test)
	$(BIN)/tracesync bench

clean: ## stop local Kafka and registry, remove var/
	-$(BIN)/tracesync kafka down --all
	-$(BIN)/tracesync registry down
	rm -rf var
