"""The example consumers (examples/) read the chain topic of a simulated run like a downstream
team would: a Python one with confluent-kafka's AvroDeserializer, a Java one with kafka-clients
and Apicurio's Avro deserializer. Neither imports tracesync; what they print must equal what the
worker published (latest version per batch) and agree with the simulator's oracle.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from streams.bootstrap import worker_topics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.registry import RunningRegistry
from tests.slot import REPO_ROOT
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.devtools.simulator import Oracle
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.publish import (
    SimulationPublisher,
    simulator_producer_config,
    topic_names,
)
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import Settings

pytestmark = pytest.mark.integration

PYTHON_EXAMPLE = REPO_ROOT / "examples" / "python-consumer" / "chain_consumer.py"
JAVA_EXAMPLE = REPO_ROOT / "examples" / "java-consumer"
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class PublishedRun:
    settings: Settings
    chain_topic: str
    oracle: Oracle
    latest: dict[str, dict[str, Any]]
    """Per batch code, the chain with the highest version on the topic (decoded by tracesync)."""
    records: int
    """How many chain records the topic holds (older versions too)."""


def _newest(reader: TopicReader) -> dict[str, dict[str, Any]]:
    newest: dict[str, dict[str, Any]] = {}
    for message in reader.messages:
        chain = reader.decode(message.value())
        known = newest.get(chain["batch_code"])
        if known is None or known["version"] < chain["version"]:
            newest[chain["batch_code"]] = chain
    return newest


@pytest.fixture(scope="module")
def published_run(
    kafka_broker: KafkaBroker,
    schema_registry: RunningRegistry,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PublishedRun]:
    """A simulated plant through the registry wire format and `tracesync worker`, finished."""
    home = tmp_path_factory.mktemp("example-consumers")
    tag = uuid.uuid4().hex[:6]
    settings = Settings(
        home=home / "home",
        topic_prefix=f"ex{tag}.",
        source_partitions=3,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry=schema_registry.settings.registry,
        worker={"app_id": f"examples-worker-{tag}", "settle_s": 2.0},
    )
    bootstrap.ensure_topics(settings)
    rates = FaultRates(duplicates=0.05, reorder=0.05, late=0.0, malformed=0.0)
    sim = simulate(SimulationConfig(batches=40, seed=17, rates=rates))
    publisher = SimulationPublisher(
        simulator_producer_config(settings.kafka, settings.producer),
        topic_names(settings.topic_prefix),
    )
    publisher.publish(sim.records, bootstrap.envelope_serde(settings))
    topic = worker_topics(settings).chain
    reader = TopicReader(
        settings, topic, bootstrap.record_serde(settings, "TraceChain", topic).decode
    )
    worker = Component(["worker", "--loglevel", "warning"], settings, home / "worker.log").start()
    try:

        def all_equal() -> bool:
            reader.poll()
            return not mismatches(sim.oracle, reader.latest)

        finished = wait_for(all_equal, 300, interval_s=1.0, alive=[worker])
        assert finished, worker.log_tail()
    finally:
        worker.stop()
    reader.poll(2.0)  # whatever the worker sent before it stopped
    reader.close()
    yield PublishedRun(settings, topic, sim.oracle, _newest(reader), len(reader.messages))


@pytest.fixture(scope="session")
def java_consumer_jar() -> Path:
    """The Java example, built by Maven (dependencies from ~/.m2 once `make deps` got them)."""
    done = subprocess.run(
        ["mvn", "-q", "package"],
        cwd=JAVA_EXAMPLE,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    jar = JAVA_EXAMPLE / "target" / "chain-consumer.jar"
    if done.returncode != 0 or not jar.is_file():
        pytest.fail(f"mvn package of {JAVA_EXAMPLE} failed:\n{done.stdout}\n{done.stderr}"[-4000:])
    return jar


def _as_json(value: Any) -> Any:
    """A decoded chain in the examples' JSON conventions (decimals as strings, epoch units)."""

    def convert(item: Any) -> Any:
        if isinstance(item, Decimal):
            return format(item, "f")
        if isinstance(item, datetime):
            return round(item.timestamp() * 1000)
        if isinstance(item, date):
            return (item - EPOCH).days
        raise TypeError(type(item).__name__)

    return json.loads(json.dumps(value, default=convert))


def _run(command: list[str]) -> dict[str, dict[str, Any]]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stderr[-4000:]}"
    chains = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    codes = [c["batch_code"] for c in chains]
    assert codes == sorted(set(codes)), "one line per batch, sorted by batch code"
    return {c["batch_code"]: c for c in chains}


def _assert_matches_published(printed: dict[str, dict[str, Any]], run: PublishedRun) -> None:
    # older versions are on the topic too: printing the latest one is a choice the consumer makes
    assert run.records > len(run.latest)
    assert set(printed) == set(run.latest)
    assert len(printed) == len(run.oracle.chains)
    for code, chain in run.latest.items():
        assert printed[code] == _as_json(chain), code
    assert mismatches(run.oracle, printed) == {}


def test_the_python_example_prints_each_batchs_latest_chain(published_run: PublishedRun) -> None:
    registry = published_run.settings.registry
    printed = _run(
        [
            sys.executable,
            str(PYTHON_EXAMPLE),
            "--bootstrap-servers",
            published_run.settings.kafka.bootstrap_servers,
            "--registry-url",
            registry.url,
            "--topic",
            published_run.chain_topic,
            "--group",
            f"example-{uuid.uuid4().hex[:8]}",
        ]
    )
    _assert_matches_published(printed, published_run)


def test_the_java_example_prints_each_batchs_latest_chain(
    published_run: PublishedRun, java_consumer_jar: Path
) -> None:
    printed = _run(
        [
            "java",
            "-jar",
            str(java_consumer_jar),
            "--bootstrap-servers",
            published_run.settings.kafka.bootstrap_servers,
            "--registry-url",
            published_run.settings.registry.core_url,
            "--topic",
            published_run.chain_topic,
        ]
    )
    _assert_matches_published(printed, published_run)
