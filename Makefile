# tracesync — `make demo` runs the main job on embedded defaults, `make test` runs every test.
# Both set up everything they need on a fresh machine: the virtualenv, the Kafka and registry
# jars (from Maven Central), PostgreSQL and the PDF libraries and tools (from Debian's packages).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv deps jars postgres system asyncapi-specs java-example lint typecheck test test-unit demo bench clean

help:
	@echo "make demo   - set up and run the whole pipeline on embedded defaults"
	@echo "make test   - set up and run lint, type checks and all test tiers"
	@echo "make bench  - measure throughput, latency and memory (not part of make test)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

jars: venv
	$(BIN)/tracesync kafka fetch
	$(BIN)/tracesync registry fetch

postgres:
	bash deploy/postgres/setup.sh

# the AsyncAPI JSON Schemas that tests validate docs/asyncapi.yaml against (npm's @asyncapi/specs)
ASYNCAPI_SPECS := deploy/asyncapi/node_modules/.package-lock.json
$(ASYNCAPI_SPECS): deploy/asyncapi/package.json deploy/asyncapi/package-lock.json
	npm ci --prefix deploy/asyncapi --no-audit --no-fund --loglevel=error
	touch $(ASYNCAPI_SPECS)

asyncapi-specs: $(ASYNCAPI_SPECS)

# the Java example consumer: Maven fetches its dependencies (Maven Central) and builds it once;
# its test builds it again with `mvn -q package`, which then needs nothing from the network
JAVA_EXAMPLE := examples/java-consumer
JAVA_EXAMPLE_JAR := $(JAVA_EXAMPLE)/target/chain-consumer.jar
$(JAVA_EXAMPLE_JAR): $(JAVA_EXAMPLE)/pom.xml $(shell find $(JAVA_EXAMPLE)/src -type f)
	cd $(JAVA_EXAMPLE) && mvn -q package

java-example: $(JAVA_EXAMPLE_JAR)

system:
	bash deploy/system/setup.sh

deps: venv jars postgres system asyncapi-specs java-example

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

test-unit: venv
	$(BIN)/pytest tests/unit -q

test: deps lint typecheck
	$(BIN)/pytest -q --durations=15

demo: venv jars system
	$(BIN)/tracesync demo

bench: venv jars
	$(BIN)/tracesync bench

clean:
	-$(BIN)/tracesync kafka down --all
	-$(BIN)/tracesync registry down
	rm -rf var
