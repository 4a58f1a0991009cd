"""The simulator publishes to the real broker; a consumer checks every record against the oracle."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer

from tests.fixtures.kafka import KafkaBroker
from tracesync.cli import main
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra import kafka as infra
from tracesync.devtools.simulator import Oracle, SimulationConfig, simulate
from tracesync.devtools.simulator.publish import (
    SimulationPublisher,
    simulator_producer_config,
    simulator_serde,
    topic_names,
)
from tracesync.errors import SerializationError
from tracesync.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration

PARTITIONS = 6
CONSUME_DEADLINE_S = 180.0


def _source_topics(broker: KafkaBroker, unique_topic: Callable[..., str]) -> dict[str, str]:
    prefix = unique_topic("sim", create=False) + "."
    topics = topic_names(prefix)
    for topic in topics.values():
        infra.ensure_topic(broker.bootstrap_servers, topic, PARTITIONS, 1)
    return topics


def _consume_all(bootstrap: str, group: str, topics: list[str], expected: int) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(topics)
    messages: list[Any] = []
    try:
        deadline = time.monotonic() + CONSUME_DEADLINE_S
        while len(messages) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=1.0):
                assert msg.error() is None, msg.error()
                messages.append(msg)
    finally:
        consumer.close()
    assert len(messages) == expected, f"read {len(messages)} of {expected} records"
    return messages


def _check_against_oracle(messages: list[Any], oracle: Oracle, topics: dict[str, str]) -> None:
    serde = EnvelopeSerde.single_object()
    system_of_topic = {topic: system for system, topic in topics.items()}
    ids: Counter[str] = Counter()
    malformed = 0
    partitions: dict[str, set[int]] = defaultdict(set)
    for msg in messages:
        key = msg.key().decode()
        partitions[key].add(msg.partition())
        try:
            envelope = serde.decode(msg.value())
        except SerializationError:
            malformed += 1
            continue
        ids[envelope["event_id"]] += 1
        assert envelope["batch_code"] == key
        assert envelope["source_system"] == system_of_topic[msg.topic()]
    duplicates = sum(1 for f in oracle.faults if f.kind == "duplicate")
    assert set(ids) == oracle.expected_event_ids
    assert sum(ids.values()) == len(oracle.expected_event_ids) + duplicates
    assert malformed == oracle.expected_malformed > 0
    split = {key: parts for key, parts in partitions.items() if len(parts) > 1}
    assert not split, f"codes spread over several partitions: {list(split.items())[:5]}"
    assert len({p for parts in partitions.values() for p in parts}) == PARTITIONS


def test_thousand_batches_reach_the_broker_as_the_oracle_says(
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
) -> None:
    topics = _source_topics(kafka_broker, unique_topic)
    sim = simulate(SimulationConfig(batches=1000, seed=2026))
    config = simulator_producer_config(
        KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers), ProducerSettings()
    )
    report = SimulationPublisher(config, topics).publish(sim.records, simulator_serde())
    assert report.complete and report.sent == report.acknowledged == len(sim.records)
    print(f"published {report.sent} records in {report.seconds:.1f}s ({report.rate:.0f}/s)")
    messages = _consume_all(
        kafka_broker.bootstrap_servers, unique_group(), sorted(topics.values()), len(sim.records)
    )
    serde = EnvelopeSerde.single_object()
    decoded = {}
    for msg in messages:
        try:
            envelope = serde.decode(msg.value())
        except SerializationError:
            continue
        decoded[envelope["event_id"]] = envelope
    assert all(decoded[e["event_id"]] == e for e in sim.events)
    _check_against_oracle(messages, sim.oracle, topics)


def test_cli_publishes_and_writes_the_oracle(
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
    tmp_path: Path,
) -> None:
    topics = _source_topics(kafka_broker, unique_topic)
    prefix = topics["MES"].removesuffix("mes.events")
    env = {
        "TRACESYNC_HOME": str(tmp_path),
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
    }
    oracle_path = tmp_path / "oracle.json"
    args = ["simulate", "--batches", "80", "--seed", "5", "--malformed", "0.01"]
    args += ["--oracle", str(oracle_path), "--topic-prefix", prefix]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    oracle = Oracle.load(oracle_path)
    assert f"{oracle.records_sent} acknowledged" in result.output
    messages = _consume_all(
        kafka_broker.bootstrap_servers, unique_group(), sorted(topics.values()), oracle.records_sent
    )
    _check_against_oracle(messages, oracle, topics)
