"""Durability on the three-node cluster: losing a partition leader loses no acknowledged record.

An idempotent producer (acks=all) keeps producing while the test stops the leader of the
partition (SIGTERM: controlled shutdown; SIGKILL: crash). Every record the broker acknowledged must
be read back afterwards, exactly once.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient

from tests.fixtures.kafka import KafkaBroker
from tracesync.devtools.infra import kafka as infra

pytestmark = pytest.mark.integration

RECORDS = 3000
RECORDS_BEFORE_FAILURE = 500
WAIT_S = 120.0


def partition_leader(bootstrap_servers: str, topic: str, partition: int = 0) -> int:
    """The partition's leader, waiting while metadata shows none yet (new topic, fail-over)."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    deadline = time.monotonic() + 30
    while True:
        metadata = admin.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        if partition in partitions and partitions[partition].leader >= 0:
            return int(partitions[partition].leader)
        assert time.monotonic() < deadline, f"{topic}[{partition}] has no leader after 30 s"
        time.sleep(0.2)


def value_of(msg: Message) -> bytes:
    value = msg.value()
    assert isinstance(value, bytes), f"record without a value at offset {msg.offset()}"
    return value


class AckCollector:
    """Delivery reports of one producer: values acknowledged and errors, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: list[bytes] = []
        self.errors: list[KafkaError] = []

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        with self.lock:
            if err is None:
                self.acknowledged.append(value_of(msg))
            else:
                self.errors.append(err)

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def produce_through_failure(
    cluster: KafkaBroker, topic: str, stop_leader: signal.Signals
) -> tuple[AckCollector, int]:
    """Produce RECORDS, stopping the partition leader after RECORDS_BEFORE_FAILURE acks."""
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "delivery.timeout.ms": 120_000,
        }
    )
    acks = AckCollector()
    leader = partition_leader(cluster.bootstrap_servers, topic)
    for i in range(RECORDS):
        producer.produce(
            topic, key=f"B-{i % 11}".encode(), value=f"{i:06d}".encode(), on_delivery=acks
        )
        producer.poll(0)
        if i == RECORDS_BEFORE_FAILURE:
            producer.flush(30)  # make sure the leader really served acknowledged records
            assert acks.count() == RECORDS_BEFORE_FAILURE + 1
            assert cluster.cluster.node(leader).signal(stop_leader), "leader had no process"
        elif i % 50 == 0:
            time.sleep(0.01)  # spread the rest over the fail-over instead of one burst
    remaining = producer.flush(WAIT_S)
    assert remaining == 0, f"{remaining} records never got a delivery report"
    return acks, leader


def read_values(bootstrap_servers: str, topic: str, expected: int) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"verify-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_uncommitted",
        }
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + WAIT_S
    try:
        while len(values) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=1.0):
                if msg.error() is None:
                    values.append(value_of(msg))
    finally:
        consumer.close()
    return values


@pytest.fixture
def restarts_stopped_nodes(kafka_cluster: KafkaBroker) -> Iterator[None]:
    """Bring every stopped node back after the test so the next one finds three nodes."""
    yield
    for node in kafka_cluster.cluster.nodes:
        if not node.is_running():
            node.wait_stopped(30)
            node.start()
    for node in kafka_cluster.cluster.nodes:
        node.wait_ready(120, expected_brokers=len(kafka_cluster.cluster.nodes))


@pytest.mark.parametrize("stop_leader", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_no_acknowledged_record_lost_when_leader_stops(
    kafka_cluster: KafkaBroker, restarts_stopped_nodes: None, stop_leader: signal.Signals
) -> None:
    topic = f"failover-{stop_leader.name.lower()}-{uuid.uuid4().hex[:8]}"
    infra.ensure_topic(kafka_cluster.bootstrap_servers, topic, partitions=1, replication_factor=3)

    acks, old_leader = produce_through_failure(kafka_cluster, topic, stop_leader)
    assert kafka_cluster.cluster.node(old_leader).wait_stopped(30)
    new_leader = partition_leader(kafka_cluster.bootstrap_servers, topic)
    values = read_values(kafka_cluster.bootstrap_servers, topic, len(acks.acknowledged))

    assert new_leader != old_leader
    assert acks.errors == []
    assert len(acks.acknowledged) == RECORDS
    assert set(acks.acknowledged) <= set(values), "acknowledged records are missing"
    assert len(values) == len(set(values)), "idempotent producer wrote duplicates"
