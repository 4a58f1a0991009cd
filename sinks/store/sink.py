"""The store sink: chain and alert topics -> trace store, offsets committed after the database.

One loop, one thread. It collects up to ``batch_max_records`` records or ``batch_max_ms`` of
records, decodes them (undecodable ones go to the sinks dead-letter topic with the reason, the
stage and their origin in the headers), writes the batch in one transaction and only then commits
the batch's offsets. When the database is unreachable it pauses the assigned partitions, keeps
the batch, retries with exponential backoff and resumes once the write went through, so nothing
is lost and nothing is committed before it is stored. A stop request finishes the current batch.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from sinks.store.database import StoreRejectedError, StoreUnavailableError, TraceStore
from sinks.store.rows import ChainRows, Row, alert_row, chain_rows
from sinks.topics import SinkTopics
from tracesync.contracts.record_serde import RecordSerde
from tracesync.deadletter import build_headers
from tracesync.errors import RecordOrigin, SerializationError
from tracesync.settings import StoreSettings

log = logging.getLogger(__name__)

STAGE = "sinks.store"


@dataclass
class SinkStats:
    """Counters of one run."""

    records: int = 0
    committed: int = 0
    chains_written: int = 0
    chains_stale: int = 0
    alerts_written: int = 0
    dead_letters: int = 0
    transactions: int = 0
    db_retries: int = 0


@dataclass
class Batch:
    """Decoded records of one write and the offsets to commit once it is stored."""

    chains: list[tuple[ChainRows, RecordOrigin]] = field(default_factory=list)
    alerts: list[tuple[Row, RecordOrigin]] = field(default_factory=list)
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    size: int = 0

    def track(self, origin: RecordOrigin) -> None:
        self.offsets[(origin.topic or "", origin.partition or 0)] = (origin.offset or 0) + 1
        self.size += 1

    def drop_partitions(self, revoked: set[tuple[str, int]]) -> None:
        """Forget records of partitions taken away; their new owner reads them again."""
        self.chains = [(c, o) for c, o in self.chains if (o.topic, o.partition) not in revoked]
        self.alerts = [(a, o) for a, o in self.alerts if (o.topic, o.partition) not in revoked]
        self.offsets = {tp: off for tp, off in self.offsets.items() if tp not in revoked}


def _key(origin: RecordOrigin) -> tuple[str, int, int]:
    return (origin.topic or "", origin.partition or 0, origin.offset or 0)


class StoreSink:
    """Consumes chains and alerts and writes them to the trace store."""

    def __init__(
        self,
        store: TraceStore,
        topics: SinkTopics,
        options: StoreSettings,
        consumer: Consumer,
        producer: Producer,
        *,
        chain_serde: RecordSerde | None = None,
        alert_serde: RecordSerde | None = None,
    ) -> None:
        self.store = store
        self.topics = topics
        self.options = options
        self.consumer = consumer
        self.producer = producer
        self.stats = SinkStats()
        self._chain_serde = chain_serde or RecordSerde.single_object("TraceChain")
        self._alert_serde = alert_serde or RecordSerde.single_object("Alert")
        self._batch = Batch()
        self._paused = False
        self._dead: list[tuple[Message, str, str]] = []
        self._originals: dict[tuple[str, int, int], Message] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> SinkStats:
        """Consume until ``stop`` is set; the batch under way is written and committed first."""
        self.consumer.subscribe(
            [self.topics.chain, self.topics.alerts],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
        )
        try:
            while not stop.is_set():
                self._collect(stop)
                if self._batch.size:
                    self._flush(stop)
        finally:
            self.producer.flush(10)
            self.consumer.close()
        return self.stats

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._paused and partitions:  # an outage is under way: stay paused
            consumer.pause(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        if not any(tp in revoked for tp in self._batch.offsets):
            return
        try:
            self._write_and_commit()
        except StoreUnavailableError:
            self._batch.drop_partitions(revoked)

    # -- collect -----------------------------------------------------------------------------
    def _collect(self, stop: threading.Event) -> None:
        deadline = time.monotonic() + self.options.batch_max_ms / 1000
        while not stop.is_set() and self._batch.size < self.options.batch_max_records:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._take(self.consumer.consume(self._room(), timeout=remaining))

    def _room(self) -> int:
        return max(1, self.options.batch_max_records - self._batch.size)

    def _take(self, messages: list[Message]) -> None:
        for message in messages:
            if message.error() is not None:
                log.warning("consumer error: %s", message.error())
                continue
            self._add(message)

    def _add(self, message: Message) -> None:
        origin = RecordOrigin(message.topic(), message.partition(), message.offset())
        self.stats.records += 1
        value = message.value()
        try:
            if message.topic() == self.topics.alerts:
                record = self._alert_serde.decode(value or b"", origin)
                self._batch.alerts.append((alert_row(record), origin))
            elif value is None:
                log.info(
                    "tombstone for %r at %s: nothing to store", message.key(), origin.describe()
                )
            else:
                record = self._chain_serde.decode(value, origin)
                self._batch.chains.append((chain_rows(record), origin))
        except SerializationError as exc:
            self._dead_letter(message, exc.reason, f"{STAGE}.decode")
        except (KeyError, TypeError, ValueError) as exc:
            self._dead_letter(message, f"unusable record: {exc!r}", f"{STAGE}.decode")
        self._originals[_key(origin)] = message
        self._batch.track(origin)

    # -- write -------------------------------------------------------------------------------
    def _flush(self, stop: threading.Event) -> None:
        delay = self.options.retry_initial_s
        while True:
            try:
                self._write_and_commit()
                break
            except StoreUnavailableError as exc:
                self.stats.db_retries += 1
                self._pause(exc)
                if stop.is_set():
                    log.warning("stopping during a database outage; the batch is not committed")
                    return
                self._wait(delay, stop)
                delay = min(delay * 2, self.options.retry_max_s)
        self._resume()

    def _write_and_commit(self) -> None:
        batch = self._batch
        if batch.size == 0:
            return
        try:
            result = self.store.write((c for c, _ in batch.chains), (a for a, _ in batch.alerts))
            self.stats.chains_written += result.written
            self.stats.chains_stale += result.stale
            self.stats.alerts_written += result.alerts
        except StoreRejectedError as exc:
            log.warning("store rejected a batch (%s); writing its records one by one", exc)
            self._write_one_by_one(batch)
        self.stats.transactions += 1
        self.producer.flush(30)  # the dead letters of this batch are safe before we commit
        self._commit(batch.offsets)
        self.stats.committed += batch.size
        self._batch = Batch()
        self._originals = {}

    def _write_one_by_one(self, batch: Batch) -> None:
        for rows, origin in batch.chains:
            self._write_single([rows], [], origin)
        for alert, origin in batch.alerts:
            self._write_single([], [alert], origin)

    def _write_single(
        self, chains: list[ChainRows], alerts: list[Row], origin: RecordOrigin
    ) -> None:
        try:
            self.store.write(chains, alerts)
        except StoreRejectedError as exc:
            self._dead_letter(self._originals[_key(origin)], str(exc), f"{STAGE}.write")

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if not offsets:
            return
        partitions = [TopicPartition(t, p, off) for (t, p), off in offsets.items()]
        try:
            self.consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:  # records come again; the version guard makes that harmless
            log.warning("offset commit failed after a stored batch: %s", exc)

    def _dead_letter(self, message: Message, reason: str, stage: str) -> None:
        origin = RecordOrigin(message.topic(), message.partition(), message.offset())
        log.warning("dead letter from %s: %s", origin.describe(), reason)
        headers: list[tuple[str, str | bytes | None]] = []
        headers.extend(build_headers(reason, stage, origin))
        self.producer.produce(
            self.topics.dead_letter, key=message.key(), value=message.value(), headers=headers
        )
        self.producer.poll(0)
        self.stats.dead_letters += 1

    # -- outage ------------------------------------------------------------------------------
    def _pause(self, exc: Exception) -> None:
        if not self._paused:
            log.warning("trace store unavailable, pausing consumption: %s", exc)
            self.consumer.pause(self.consumer.assignment())
            self._paused = True

    def _resume(self) -> None:
        if self._paused:
            log.info("trace store back, resuming consumption")
            self.consumer.resume(self.consumer.assignment())
            self._paused = False

    def _wait(self, delay: float, stop: threading.Event) -> None:
        """Wait ``delay`` seconds while serving the consumer group (partitions are paused)."""
        deadline = time.monotonic() + delay
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._take(self.consumer.consume(self._room(), timeout=min(remaining, 1.0)))
