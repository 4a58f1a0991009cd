"""The producer core against the real broker: acknowledged means stored, where faust expects it.

Records go to a unique 6-partition topic; each acknowledgement must match what a consumer then
reads (partition, offset, key, value), the partition must be the one aiokafka's murmur2 partitioner
(the one faust uses) picks for the batch code, and a record the broker cannot take must surface as
a DeliveryError naming it while the others of the same call are still stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Consumer, TopicPartition

from tests.fixtures.kafka import KafkaBroker
from tracesync.publisher import (
    Acknowledgement,
    KafkaPublisher,
    OutboundRecord,
    PartialDeliveryError,
)
from tracesync.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration

PARTITIONS = 6


def read_topic(bootstrap: str, topic: str, partitions: int) -> list[tuple[int, int, bytes, bytes]]:
    """Every record of ``topic`` up to the current end: (partition, offset, key, value)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    try:
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p))[1]
            for p in range(partitions)
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions) if ends[p] > 0])
        records = []
        remaining = sum(ends.values())
        while remaining > 0:
            msg = consumer.poll(10.0)
            assert msg is not None, f"timed out with {remaining} records of {topic} unread"
            assert msg.error() is None, msg.error()
            records.append((msg.partition(), msg.offset(), msg.key(), msg.value()))
            remaining -= 1
        return records
    finally:
        consumer.close()


def faust_partition(key: bytes, partitions: int = PARTITIONS) -> int:
    """Where faust (aiokafka's default murmur2 partitioner) puts ``key``."""
    all_partitions = list(range(partitions))
    return int(DefaultPartitioner()(key, all_partitions, all_partitions))


@pytest.fixture
def publisher(kafka_broker: KafkaBroker) -> KafkaPublisher:
    kafka = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers)
    return KafkaPublisher(kafka, ProducerSettings(delivery_timeout_ms=20_000))


def _records(topic: str, count: int) -> list[OutboundRecord]:
    return [
        OutboundRecord.keyed_by_batch(topic, f"B-{i:06d}", f"value-{i}".encode())
        for i in range(count)
    ]


def test_publish_acknowledges_what_is_stored_on_the_murmur2_partition(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str], publisher: KafkaPublisher
) -> None:
    topic = unique_topic("producer", partitions=PARTITIONS)
    records = _records(topic, 200)
    try:
        acks = publisher.publish(records)
    finally:
        assert publisher.close() == 0
    assert len(acks) == len(records)
    for record, ack in zip(records, acks, strict=True):
        assert ack.key == record.key
        assert ack.partition == faust_partition(record.key)
    stored = {
        (p, o): (k, v)
        for p, o, k, v in read_topic(kafka_broker.bootstrap_servers, topic, PARTITIONS)
    }
    assert len(stored) == len(records)
    for record, ack in zip(records, acks, strict=True):
        assert stored[(ack.partition, ack.offset)] == (record.key, record.value)


def test_publish_async_resolves_each_record_from_its_delivery_report(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str], publisher: KafkaPublisher
) -> None:
    topic = unique_topic("producer", partitions=PARTITIONS)
    records = _records(topic, 50)

    async def run() -> list[object]:
        first, second = await asyncio.gather(
            publisher.publish_async(records[:25]), publisher.publish_async(records[25:])
        )
        return [*first, *second]

    try:
        outcomes = asyncio.run(run())
    finally:
        publisher.close()
    assert all(isinstance(o, Acknowledgement) for o in outcomes)
    acks = [o for o in outcomes if isinstance(o, Acknowledgement)]
    assert [a.key for a in acks] == [r.key for r in records]
    stored = read_topic(kafka_broker.bootstrap_servers, topic, PARTITIONS)
    assert {(p, o) for p, o, _, _ in stored} == {(a.partition, a.offset) for a in acks}


def test_a_record_the_broker_refuses_is_named_and_the_others_are_stored(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str], publisher: KafkaPublisher
) -> None:
    topic = unique_topic("producer", partitions=PARTITIONS)
    records = _records(topic, 3)
    too_big = OutboundRecord.keyed_by_batch(topic, "B-HUGE", b"x" * 2_000_000)
    try:
        with pytest.raises(PartialDeliveryError) as caught:
            publisher.publish([records[0], too_big, records[1], records[2]])
    finally:
        publisher.close()
    assert [index for index, _ in caught.value.failures] == [1]
    assert caught.value.failures[0][1].record.key == b"B-HUGE"
    assert [index for index, _ in caught.value.acknowledged] == [0, 2, 3]
    stored = read_topic(kafka_broker.bootstrap_servers, topic, PARTITIONS)
    assert sorted(k for _, _, k, _ in stored) == sorted(r.key for r in records)
