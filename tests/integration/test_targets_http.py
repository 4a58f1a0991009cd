"""The targets sink against the real broker, a real HTTP target and real table/file targets.

Chain records of several batches (each through completed → on hold → released → ERP receipt →
failed inspection, every version published twice as at-least-once streams do) go to a chain
topic. The HTTP target fails the first two attempts of every notice. Every notice must be
acknowledged exactly once per idempotency key, notices of a batch in version order; a second sink
(new group, same ledger) reading everything again must send nothing; a target that always fails
must send the record to the dead-letter topic after the configured attempts, with the reason.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from confluent_kafka import Consumer, TopicPartition

from sinks.targets.config import RoutesConfig, parse_routes
from sinks.topics import SinkTopics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import RunningSink, TargetServer, wait_until
from tests.unit.targets_factory import life_of
from tracesync import deadletter
from tracesync.contracts.record_serde import RecordSerde
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "routes" / "example.toml"
WMS_ROUTES = ("wms-inbound-notice", "wms-hold-block", "wms-hold-unblock")
CHAIN_SERDE = RecordSerde.single_object("TraceChain")


def example_config(url: str, attempts: int = 5) -> RoutesConfig:
    data: dict[str, Any] = tomllib.loads(EXAMPLE.read_text())
    data["retry"] = {"attempts": attempts, "initial_backoff_s": 0.01, "max_backoff_s": 0.05}
    return parse_routes(data, {"wms": {"url": url}})


def make_topics(unique_topic: Callable[..., str]) -> SinkTopics:
    return SinkTopics(
        chain=unique_topic("chain", partitions=3),
        alerts=unique_topic("alerts", partitions=3),
        dead_letter=unique_topic("dlq", partitions=1),
    )


def publish_chains(bootstrap: str, topic: str, records: list[dict[str, Any]]) -> None:
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    with KafkaPublisher(kafka, ProducerSettings()) as publisher:
        publisher.publish(
            [
                OutboundRecord.keyed_by_batch(topic, r["batch_code"], CHAIN_SERDE.encode(r))
                for r in records
            ]
        )


def read_all(bootstrap: str, topic: str) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "read-all"})
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, 0)])
        out = []
        while len(out) < high:
            message = consumer.poll(10)
            assert message is not None and message.error() is None
            out.append(message)
        return out
    finally:
        consumer.close()


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(parts, timeout=10))
    finally:
        consumer.close()


@dataclass(frozen=True)
class Harness:
    """What each test here uses: broker, fresh topics, a group factory, target, sink, home."""

    bootstrap: str
    topics: SinkTopics
    group: Callable[..., str]
    server: Callable[..., TargetServer]
    sink: Callable[..., RunningSink]
    home: Path


@pytest.fixture
def rig(  # noqa: PLR0917 - one parameter per fixture
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
    target_server: Callable[..., TargetServer],
    run_targets_sink: Callable[..., RunningSink],
    tmp_path: Path,
) -> Harness:
    return Harness(
        kafka_broker.bootstrap_servers,
        make_topics(unique_topic),
        unique_group,
        target_server,
        run_targets_sink,
        tmp_path,
    )


def test_every_notice_once_by_key_and_in_batch_order_despite_failures(rig: Harness) -> None:
    server = rig.server(fail_first=2, status=503)
    config = example_config(server.url)
    topics = rig.topics
    batches = [f"B{n:03d}" for n in range(12)]
    lives = {code: life_of(code) for code in batches}
    records = [r for code in batches for r in lives[code] for _ in range(2)]  # at-least-once
    publish_chains(rig.bootstrap, topics.chain, records)

    expected = {
        n.key: n
        for code in batches
        for r in lives[code]
        for route in config.routes
        for n in route.notices(CHAIN_SERDE.decode(CHAIN_SERDE.encode(r)))
    }
    wms_keys = {k for k, n in expected.items() if n.route in WMS_ROUTES}
    assert len(wms_keys) == 3 * len(batches)

    first = rig.sink(config, topics, rig.home, rig.group())
    wait_until(lambda: len(server.accepted) >= len(wms_keys), what="all WMS notices")
    wait_until(lambda: first.sink.stats.records == len(records), what="all records handled")
    first.stop()

    accepted = server.accepted
    assert sorted(r.key for r in accepted) == sorted(wms_keys)  # each key acknowledged once
    assert all(server.attempts(key) == 3 for key in wms_keys)  # 503, 503, 200
    for code in batches:
        routes_in_arrival_order = [r.route for r in accepted if r.payload["batch_code"] == code]
        assert routes_in_arrival_order == list(WMS_ROUTES)
    block = next(r for r in accepted if r.route == "wms-hold-block")
    assert block.payload["type"] == "BLOCK" and block.payload["inherited"] is False

    erp = sa.create_engine(f"sqlite:///{rig.home / 'targets' / 'erp.db'}")
    with erp.connect() as connection:
        rows = connection.execute(sa.text("SELECT batch_code FROM erp_production_receipts"))
        assert sorted(row[0] for row in rows) == batches
    erp.dispose()
    (export,) = (rig.home / "targets" / "qms-export").glob("qms-requests-*.csv")
    with export.open(newline="") as handle:
        qms = list(csv.DictReader(handle))
    assert sorted(row["batch_code"] for row in qms) == batches
    assert {row["failed"] for row in qms} == {'["ph"]'}

    # Everything again (new group, same ledger): nothing is sent twice.
    second = rig.sink(config, topics, rig.home, rig.group())
    wait_until(lambda: second.sink.stats.records == len(records), what="re-delivery handled")
    second.stop()
    assert len(server.accepted) == len(wms_keys)
    assert second.sink.stats.notices_sent == 0
    assert second.sink.stats.dead_lettered == 0


def test_a_target_that_always_fails_gets_the_record_dead_lettered_and_the_sink_moves_on(
    rig: Harness,
) -> None:
    server = rig.server(fail_first=-1, status=503)
    config = example_config(server.url, attempts=3)
    topics = rig.topics
    completed = life_of("BX1")[0]  # one WMS notice (inbound), nothing for ERP/QMS yet
    publish_chains(rig.bootstrap, topics.chain, [completed])
    group = rig.group()
    running = rig.sink(config, topics, rig.home, group)
    wait_until(lambda: running.sink.stats.dead_lettered == 1, what="the dead letter")
    wait_until(
        lambda: committed(rig.bootstrap, group, topics.chain, 3) == 1,
        what="the offset committed after dead-lettering",
    )
    running.stop()

    (key,) = {r.key for r in server.requests}
    assert server.attempts(key) == 3
    (letter,) = read_all(rig.bootstrap, topics.dead_letter)
    info = deadletter.parse_headers(letter.headers())
    assert info.stage == "targets"
    assert info.reason.startswith("failed after 3 attempts:") and "503" in info.reason
    assert info.extra[deadletter.ROUTE] == "wms-inbound-notice"
    assert info.extra["dlq.key"] == key
    assert (info.topic, info.offset) == (topics.chain, 0)
    assert letter.key() == b"BX1"
    assert CHAIN_SERDE.decode(letter.value())["version"] == completed["version"]


def test_a_refused_notice_is_dead_lettered_without_retries(rig: Harness) -> None:
    server = rig.server(fail_first=-1, status=422)
    topics = rig.topics
    publish_chains(rig.bootstrap, topics.chain, [life_of("BX2")[0]])
    running = rig.sink(example_config(server.url), topics, rig.home, rig.group())
    wait_until(lambda: running.sink.stats.dead_lettered == 1, what="the dead letter")
    running.stop()
    assert len(server.requests) == 1
    (letter,) = read_all(rig.bootstrap, topics.dead_letter)
    assert deadletter.parse_headers(letter.headers()).reason.startswith("refused:")


def test_a_route_on_alerts_subscribes_to_the_alerts_topic_too(rig: Harness) -> None:
    server = rig.server()
    data: dict[str, Any] = {
        "targets": {"qa": {"transport": "http", "url": server.url}},
        "routes": [
            {
                "name": "qa-complaint",
                "target": "qa",
                "when": "alert_kind",
                "params": {"kinds": ["COMPLAINT_RECEIVED"]},
                "payload": {"batch_code": "${alert.batch_code}", "text": "${alert.message}"},
            },
            {
                "name": "qa-completed",
                "target": "qa",
                "when": "batch_completed",
                "payload": {"batch_code": "${chain.batch_code}", "text": "completed"},
            },
        ],
    }
    config = parse_routes(data)
    alert_serde = RecordSerde.single_object("Alert")
    alerts = [
        {
            "alert_id": f"00000000-0000-4000-8000-00000000000{n}",
            "batch_code": "BA1",
            "kind": kind,
            "subject": "C-1",
            "message": f"{kind} on BA1",
            "origin_code": "BA1",
            "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
        }
        for n, kind in enumerate(["HOLD_PLACED", "COMPLAINT_RECEIVED"])
    ]
    publish_chains(rig.bootstrap, rig.topics.chain, [life_of("BA1")[0]])
    kafka = KafkaSettings(bootstrap_servers=rig.bootstrap)
    with KafkaPublisher(kafka, ProducerSettings()) as publisher:
        publisher.publish(
            [
                OutboundRecord.keyed_by_batch(rig.topics.alerts, "BA1", alert_serde.encode(a))
                for a in alerts
            ]
        )
    running = rig.sink(config, rig.topics, rig.home, rig.group())
    wait_until(lambda: len(server.accepted) == 2, what="the alert and the chain notice")
    running.stop()
    assert sorted(r.payload["text"] for r in server.accepted) == [
        "COMPLAINT_RECEIVED on BA1",
        "completed",
    ]
