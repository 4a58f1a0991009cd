"""The store sink's Kafka side: a consumer as its record source, a producer for its dead letters.

:class:`KafkaRecordSource` subscribes to the chain and alert topics, turns messages into
:class:`~sinks.store.flow.Incoming` records, commits offsets synchronously and pauses every
assigned partition during a store outage (partitions assigned meanwhile are paused as they come).
:class:`KafkaDeadLetters` produces set-aside records to the sinks' dead-letter topic with the
shared ``dlq.*`` headers (:mod:`tracesync.deadletter`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from sinks.store.flow import DeadLetter, Incoming
from sinks.store.sink import RevokeCallback
from tracesync.deadletter import build_headers

log = logging.getLogger(__name__)

_DLQ_FLUSH_S = 30.0
_CLOSE_FLUSH_S = 10.0


class KafkaRecordSource:
    """A confluent-kafka consumer as the store sink's :class:`~sinks.store.sink.RecordSource`."""

    def __init__(self, consumer: Consumer, topics: Sequence[str]) -> None:
        self.consumer = consumer
        self.topics = list(topics)
        self._paused = False
        self._on_revoke: RevokeCallback | None = None

    def start(self, on_revoke: RevokeCallback) -> None:
        self._on_revoke = on_revoke
        self.consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=self._revoked)

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._paused and partitions:  # an outage is under way: stay paused
            consumer.pause(partitions)

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._on_revoke is not None:
            self._on_revoke({(tp.topic, tp.partition) for tp in partitions})

    def poll(self, max_records: int, timeout_s: float) -> list[Incoming]:
        """Up to ``max_records`` records, as soon as there is one (``timeout_s`` at most).

        ``consume(n, timeout)`` would wait for all ``n`` or the whole timeout: at a trickle, every
        batch would wait ``timeout_s``. Here the wait ends with the first record, and the rest is
        what the client already fetched.
        """
        messages = self.consumer.consume(max_records, 0)
        if not messages and timeout_s > 0:
            first = self.consumer.poll(timeout_s)
            if first is None:
                return []
            messages = [first]
            if max_records > 1:
                messages.extend(self.consumer.consume(max_records - 1, 0))
        return [_incoming(m) for m in messages if _ok(m)]

    def commit(self, offsets: Mapping[tuple[str, int], int]) -> None:
        partitions = [TopicPartition(t, p, off) for (t, p), off in offsets.items()]
        try:
            self.consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:  # records come again; the version guard makes that harmless
            log.warning("offset commit failed after a stored batch: %s", exc)

    def pause(self) -> None:
        self._paused = True
        self.consumer.pause(self.consumer.assignment())

    def resume(self) -> None:
        self._paused = False
        self.consumer.resume(self.consumer.assignment())

    def close(self) -> None:
        self.consumer.close()


def _ok(message: Message) -> bool:
    if message.error() is not None:
        log.warning("consumer error: %s", message.error())
        return False
    return True


def _incoming(message: Message) -> Incoming:
    return Incoming(
        message.topic() or "",
        message.partition() or 0,
        message.offset() or 0,
        message.key(),
        message.value(),
    )


class KafkaDeadLetters:
    """A producer as the store sink's :class:`~sinks.store.sink.DeadLetterOut`."""

    def __init__(self, producer: Producer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def send(self, letter: DeadLetter) -> None:
        record = letter.record
        log.warning("dead letter from %s: %s", record.origin.describe(), letter.reason)
        headers: list[tuple[str, str | bytes | None]] = []
        headers.extend(build_headers(letter.reason, letter.stage, record.origin))
        self.producer.produce(self.topic, key=record.key, value=record.value, headers=headers)
        self.producer.poll(0)

    def flush(self) -> int:
        undelivered: int = self.producer.flush(_DLQ_FLUSH_S)
        return undelivered

    def close(self) -> None:
        self.producer.flush(_CLOSE_FLUSH_S)
