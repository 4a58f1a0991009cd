"""The producer core without a broker: its librdkafka config and how delivery reports settle.

A stand-in producer that answers from its poll() (which the core calls on its own thread) checks
the plumbing from delivery callback to blocking and asyncio callers. The real broker is exercised
in tests/integration/test_producer_core.py.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tracesync.errors import DeliveryError
from tracesync.publisher import (
    Acknowledgement,
    DeliveryFailure,
    KafkaPublisher,
    OutboundRecord,
    PartialDeliveryError,
    producer_config,
)
from tracesync.settings import KafkaSettings, ProducerSettings


class _Err:
    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def retriable(self) -> bool:
        return False


class _Msg:
    def __init__(self, partition: int, offset: int) -> None:
        self._partition, self._offset = partition, offset

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


class ReportingProducer:
    """Queues produce() calls and reports them from poll(): key b"bad" fails, others succeed."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._pending: list[tuple[bytes, Any]] = []
        self._lock = threading.Lock()
        self.poll_threads: set[str] = set()
        self._offset = 0

    def produce(
        self, topic: str, *, value: bytes, key: bytes, headers: Any, on_delivery: Any
    ) -> None:
        with self._lock:
            self._pending.append((key, on_delivery))

    def poll(self, timeout: float) -> int:
        self.poll_threads.add(threading.current_thread().name)
        with self._lock:
            pending, self._pending = self._pending, []
        for key, callback in pending:
            self._offset += 1
            if key == b"bad":
                callback(_Err("Broker: Message size too large"), None)
            else:
                callback(None, _Msg(partition=2, offset=self._offset))
        if not pending:
            threading.Event().wait(min(timeout, 0.01))
        return len(pending)

    def flush(self, timeout: float) -> int:
        self.poll(0)
        return 0


def _publisher() -> tuple[KafkaPublisher, ReportingProducer]:
    made: list[ReportingProducer] = []

    def factory(config: dict[str, Any]) -> ReportingProducer:
        made.append(ReportingProducer(config))
        return made[0]

    publisher = KafkaPublisher(KafkaSettings(), ProducerSettings(), producer_factory=factory)
    return publisher, made[0]


def _record(key: bytes) -> OutboundRecord:
    return OutboundRecord(topic="mes.events", key=key, value=b"v")


def test_config_is_idempotent_acks_all_and_murmur2() -> None:
    settings = ProducerSettings(linger_ms=7, compression="zstd", delivery_timeout_ms=12_000)
    config = producer_config(KafkaSettings(bootstrap_servers="127.0.0.1:1"), settings)
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"
    assert config["partitioner"] == "murmur2_random"
    assert config["compression.type"] == "zstd"
    assert config["linger.ms"] == 7
    assert config["delivery.timeout.ms"] == 12_000
    assert config["bootstrap.servers"] == "127.0.0.1:1"


def test_key_is_the_batch_code_in_utf8() -> None:
    record = OutboundRecord.keyed_by_batch("mes.events", "B-Ü1", b"x")
    assert record.key == "B-Ü1".encode()


def test_publish_returns_one_acknowledgement_per_record_from_the_poll_thread() -> None:
    publisher, producer = _publisher()
    try:
        acks = publisher.publish([_record(b"B-1"), _record(b"B-2")])
    finally:
        publisher.close(1.0)
    assert [a.key for a in acks] == [b"B-1", b"B-2"]
    assert all(isinstance(a, Acknowledgement) and a.partition == 2 for a in acks)
    assert producer.poll_threads >= {"kafka-poll"}


def test_publish_raises_delivery_error_naming_the_failed_record() -> None:
    publisher, _ = _publisher()
    try:
        with pytest.raises(PartialDeliveryError) as caught:
            publisher.publish([_record(b"B-1"), _record(b"bad"), _record(b"B-3")])
    finally:
        publisher.close(1.0)
    assert isinstance(caught.value, DeliveryError)
    assert [index for index, _ in caught.value.failures] == [1]
    assert [index for index, _ in caught.value.acknowledged] == [0, 2]
    assert "Message size too large" in str(caught.value)


def test_publish_async_settles_each_record_in_order() -> None:
    publisher, _ = _publisher()

    async def run() -> list[Acknowledgement | DeliveryFailure]:
        return await publisher.publish_async([_record(b"bad"), _record(b"B-2")])

    try:
        outcomes = asyncio.run(run())
    finally:
        publisher.close(1.0)
    assert isinstance(outcomes[0], DeliveryFailure)
    assert outcomes[0].record.key == b"bad"
    assert isinstance(outcomes[1], Acknowledgement)


def test_submit_async_gives_each_record_its_own_future_across_event_loops() -> None:
    """Concurrent single posts each wait for their own report; reports of many records wake
    the loop in batches, and a publisher used from a second loop still settles everything."""
    publisher, _ = _publisher()

    async def run(keys: list[bytes]) -> list[Acknowledgement | DeliveryFailure]:
        futures = [publisher.submit_async([_record(key)])[0] for key in keys]
        return list(await asyncio.gather(*futures))

    try:
        first = asyncio.run(run([f"B-{i}".encode() for i in range(200)] + [b"bad"]))
        second = asyncio.run(run([b"B-x", b"bad"]))
    finally:
        publisher.close(1.0)
    assert [o.key for o in first[:200] if isinstance(o, Acknowledgement)] == [
        f"B-{i}".encode() for i in range(200)
    ]
    assert isinstance(first[200], DeliveryFailure)
    assert isinstance(second[0], Acknowledgement) and isinstance(second[1], DeliveryFailure)


def test_closed_publisher_refuses_new_records() -> None:
    publisher, _ = _publisher()
    publisher.close(1.0)
    with pytest.raises(DeliveryError):
        publisher.publish([_record(b"B-1")])
