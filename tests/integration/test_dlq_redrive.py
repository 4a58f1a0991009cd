"""``tracesync dlq list|redrive`` against the real broker, with the real targets sink.

A notice the HTTP target keeps refusing is dead-lettered; once the target is healthy again,
redriving the dead letter puts the chain back on its origin topic (with ``dlq.redriven=1``), the
running sink processes it and the notice arrives. A redrive request redrives a record once: the
next request finds nothing new. Dry runs send and commit nothing; filters and limits hold.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from confluent_kafka import Consumer, TopicPartition

from sinks.targets.config import parse_routes
from sinks.topics import SinkTopics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import RunningSink, TargetServer, wait_until
from tests.unit.targets_factory import life_of
from tracesync import deadletter
from tracesync.cli import main
from tracesync.contracts.record_serde import RecordSerde
from tracesync.errors import RecordOrigin
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "routes" / "example.toml"
CHAIN_SERDE = RecordSerde.single_object("TraceChain")


def cli(bootstrap: str, *args: str) -> Result:
    env = {"TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": bootstrap, "TRACESYNC_REGISTRY__ENABLED": "false"}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def publish(bootstrap: str, records: list[OutboundRecord]) -> None:
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    with KafkaPublisher(kafka, ProducerSettings()) as publisher:
        publisher.publish(records)


def read_topic(bootstrap: str, topic: str, partitions: int) -> list[Any]:
    """Every record of the topic up to its current end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "read-topic"})
    out: list[Any] = []
    try:
        for partition in range(partitions):
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            consumer.assign([TopicPartition(topic, partition, 0)])
            position = 0
            while position < high:
                message = consumer.poll(10)
                assert message is not None and message.error() is None
                out.append(message)
                position = message.offset() + 1
        return out
    finally:
        consumer.close()


def numbers(output: str) -> dict[str, int]:
    """``examined 2, redriven 1, filtered out 1`` -> {"examined": 2, ...}."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"([a-z][a-z ]*?) (\d+)", output)}


def test_redrive_sends_a_dead_letter_back_and_the_sink_then_delivers_it(  # noqa: PLR0917
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
    target_server: Callable[..., TargetServer],
    run_targets_sink: Callable[..., RunningSink],
    tmp_path: Path,
) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    topics = SinkTopics(unique_topic("chain"), unique_topic("alerts"), unique_topic("dlq", 1))
    server = target_server(fail_first=-1, status=503)
    data = tomllib.loads(EXAMPLE.read_text())
    data["retry"] = {"attempts": 2, "initial_backoff_s": 0.01, "max_backoff_s": 0.02}
    config = parse_routes(data, {"wms": {"url": server.url}})
    completed = life_of("BR1")[0]
    publish(
        bootstrap,
        [
            OutboundRecord.keyed_by_batch(topics.chain, "BR1", CHAIN_SERDE.encode(completed)),
            OutboundRecord.keyed_by_batch(topics.chain, "BR-garbage", b"not avro"),
        ],
    )
    running = run_targets_sink(config, topics, tmp_path, unique_group())
    wait_until(lambda: running.sink.stats.dead_lettered == 2, what="two dead letters")
    (key,) = {r.key for r in server.requests}

    listed = cli(bootstrap, "dlq", "list", "--topic", topics.dead_letter).output
    assert f"{topics.dead_letter}: 2 record(s), 2 not yet redriven" in listed
    assert "failed after 2 attempts" in listed and "cannot decode" in listed
    assert "wms-inbound-notice" in listed

    server.fail_first = 0  # the target is healthy again
    chain_before = len(read_topic(bootstrap, topics.chain, 3))
    dry = cli(bootstrap, "dlq", "redrive", "--topic", topics.dead_letter, "--dry-run")
    assert numbers(dry.output)["would redrive"] == 2
    assert len(read_topic(bootstrap, topics.chain, 3)) == chain_before

    redriven = cli(
        bootstrap,
        "dlq",
        "redrive",
        "--topic",
        topics.dead_letter,
        "--reason-contains",
        "ATTEMPTS",
    )
    counts = numbers(redriven.output)
    assert (counts["examined"], counts["redriven"], counts["filtered out"]) == (2, 1, 1)
    wait_until(lambda: len(server.accepted) == 1, what="the redriven notice delivered")
    assert server.accepted[0].key == key

    again = numbers(cli(bootstrap, "dlq", "redrive", "--topic", topics.dead_letter).output)
    assert (again["examined"], again["redriven"]) == (0, 0)
    assert (
        "0 not yet redriven" in cli(bootstrap, "dlq", "list", "--topic", topics.dead_letter).output
    )

    back = [m for m in read_topic(bootstrap, topics.chain, 3) if m.key() == b"BR1"]
    assert [deadletter.redriven_count(m.headers()) for m in back] == [0, 1]
    assert back[1].value() == back[0].value()
    running.stop()
    assert running.sink.stats.dead_lettered == 2  # the redriven chain was delivered, not re-failed


def test_redrive_limit_keeps_the_rest_for_the_next_request_and_keeps_foreign_headers(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str]
) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    origin, dlq = unique_topic("origin", 1), unique_topic("dlq", 1)
    letters = [
        OutboundRecord(
            dlq,
            f"K{n}".encode(),
            f"v{n}".encode(),
            (
                *deadletter.build_headers("bad", "streams", RecordOrigin(origin, 0, n)),
                ("trace-id", f"t{n}".encode()),
            ),
        )
        for n in range(5)
    ]
    publish(bootstrap, letters)
    first = numbers(cli(bootstrap, "dlq", "redrive", "--topic", dlq, "--limit", "2").output)
    assert (first["examined"], first["redriven"]) == (2, 2)
    rest = numbers(cli(bootstrap, "dlq", "redrive", "--topic", dlq, "--since", "1h").output)
    assert (rest["examined"], rest["redriven"]) == (3, 3)
    sent = read_topic(bootstrap, origin, 1)
    assert [m.key() for m in sent] == [f"K{n}".encode() for n in range(5)]
    assert [dict(m.headers()) for m in sent] == [
        {"trace-id": f"t{n}".encode(), "dlq.redriven": b"1"} for n in range(5)
    ]
    none_left = numbers(cli(bootstrap, "dlq", "redrive", "--topic", dlq, "--since", "1h").output)
    assert none_left["examined"] == 0
