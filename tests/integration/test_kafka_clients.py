"""The project's Kafka clients against the real local broker (Kafka 4.x, KRaft).

confluent-kafka (producers, sinks, Quix Streams) and aiokafka (under faust) must produce and
consume against the broker version we run, and must agree on where a key lands (murmur2), or the
engines' state and the producers would disagree about which partition holds a batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Consumer, KafkaError, Message, Producer

from tests.fixtures.kafka import KafkaBroker

pytestmark = pytest.mark.integration

RECORDS = 500
READ_TIMEOUT_S = 60.0


def idempotent_producer(bootstrap_servers: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
        }
    )


def value_of(msg: Message) -> bytes:
    value = msg.value()
    assert isinstance(value, bytes), f"record without a value at offset {msg.offset()}"
    return value


def key_of(msg: Message) -> bytes:
    key = msg.key()
    assert isinstance(key, bytes), f"record without a key at offset {msg.offset()}"
    return key


def produce_acknowledged(
    producer: Producer, topic: str, records: list[tuple[bytes, bytes]]
) -> dict[bytes, int]:
    """Produce ``records`` (key, value); returns value -> partition of every acknowledged one."""
    acknowledged: dict[bytes, int] = {}
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failures.append(err)
        else:
            acknowledged[value_of(msg)] = int(msg.partition() or 0)

    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(30)
    assert remaining == 0, f"{remaining} records still in flight"
    assert failures == []
    return acknowledged


def consume_all(
    bootstrap_servers: str, topic: str, group: str, expected: int
) -> list[tuple[bytes, bytes, int]]:
    """Read ``topic`` from the beginning until ``expected`` records (or the timeout) arrive."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen: list[tuple[bytes, bytes, int]] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    try:
        while len(seen) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=500, timeout=1.0):
                if msg.error() is not None:
                    raise AssertionError(f"consumer error: {msg.error()}")
                seen.append((key_of(msg), value_of(msg), int(msg.partition() or 0)))
    finally:
        consumer.close()
    return seen


def keyed_records(count: int, keys: int = 37) -> list[tuple[bytes, bytes]]:
    return [(f"B-{i % keys:06d}".encode(), f"value-{i:06d}".encode()) for i in range(count)]


def test_confluent_idempotent_producer_round_trip(
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
) -> None:
    topic = unique_topic(partitions=3)
    records = keyed_records(RECORDS)
    producer = idempotent_producer(kafka_broker.bootstrap_servers)

    acknowledged = produce_acknowledged(producer, topic, records)
    seen = consume_all(kafka_broker.bootstrap_servers, topic, unique_group(), RECORDS)

    assert len(acknowledged) == RECORDS
    assert sorted((k, v) for k, v, _ in seen) == sorted(records)
    assert {v: p for _, v, p in seen} == acknowledged
    partitions_of_key: dict[bytes, set[int]] = {}
    for key, _, partition in seen:
        partitions_of_key.setdefault(key, set()).add(partition)
    assert all(len(parts) == 1 for parts in partitions_of_key.values())
    assert len({p for _, _, p in seen}) > 1, "37 keys should spread over 3 partitions"


async def _aiokafka_round_trip(
    bootstrap_servers: str, topic: str, group: str, records: list[tuple[bytes, bytes]]
) -> tuple[int, list[tuple[bytes, bytes]]]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value=v, key=k) for k, v in records]
        acknowledged = len(await asyncio.gather(*sent))
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[tuple[bytes, bytes]] = []
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            while len(seen) < len(records):
                batches = await consumer.getmany(timeout_ms=1000)
                seen.extend((m.key, m.value) for msgs in batches.values() for m in msgs)
    finally:
        await consumer.stop()
    return acknowledged, seen


def test_aiokafka_produces_and_consumes(
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
) -> None:
    topic = unique_topic(partitions=3)
    records = keyed_records(RECORDS)

    acknowledged, seen = asyncio.run(
        _aiokafka_round_trip(kafka_broker.bootstrap_servers, topic, unique_group(), records)
    )

    assert acknowledged == RECORDS
    assert sorted(seen) == sorted(records)


async def _aiokafka_partitions(
    bootstrap_servers: str, topic: str, keys: list[bytes]
) -> dict[bytes, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        metadata = [await producer.send_and_wait(topic, value=b"aio", key=key) for key in keys]
    finally:
        await producer.stop()
    return {key: md.partition for key, md in zip(keys, metadata, strict=True)}


def test_murmur2_random_matches_aiokafka_partitioner(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str]
) -> None:
    topic = unique_topic(partitions=12)
    keys = [f"B-{i:06d}".encode() for i in range(300)] + [b"LOT:\xc3\xa9-1", b"x"]
    producer = idempotent_producer(kafka_broker.bootstrap_servers)

    confluent = produce_acknowledged(producer, topic, [(k, b"c:" + k) for k in keys])
    by_confluent = {value[2:]: partition for value, partition in confluent.items()}
    by_aiokafka = asyncio.run(_aiokafka_partitions(kafka_broker.bootstrap_servers, topic, keys))

    assert by_confluent == by_aiokafka
    assert len(set(by_confluent.values())) == 12, "300 keys should reach all 12 partitions"


def test_quix_streams_default_producer_places_keys_like_murmur2_random(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str]
) -> None:
    """Quix Streams' own producer (``partitioner=murmur2`` by default) agrees on keyed records."""
    from quixstreams.kafka import Producer as QuixProducer  # noqa: PLC0415 (this test only)

    topic = unique_topic(partitions=12)
    keys = [f"B-{i:06d}".encode() for i in range(300)] + [b"LOT:\xc3\xa9-1", b"x"]
    confluent = produce_acknowledged(
        idempotent_producer(kafka_broker.bootstrap_servers), topic, [(k, b"c:" + k) for k in keys]
    )
    by_confluent = {value[2:]: partition for value, partition in confluent.items()}
    by_quix: dict[bytes, int] = {}

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        assert err is None, err
        by_quix[key_of(msg)] = int(msg.partition() or 0)

    quix = QuixProducer(broker_address=kafka_broker.bootstrap_servers)
    for key in keys:
        quix.produce(topic, value=b"q:" + key, key=key, on_delivery=on_delivery)
    assert quix.flush(30) == 0
    assert by_quix == by_confluent
