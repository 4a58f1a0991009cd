"""The one Kafka publisher that ingest adapters, the targets sink and re-drive send through.

An idempotent confluent-kafka producer (``acks=all``, ``enable.idempotence``) with the
``murmur2_random`` partitioner, so a batch code lands on the partition faust (murmur2) expects.
A background thread polls the producer, which runs the delivery callbacks; each record's delivery
report resolves its own future. :meth:`KafkaPublisher.publish` blocks until the broker
acknowledged every record; :meth:`KafkaPublisher.publish_async` awaits the same inside asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from tracesync.errors import DeliveryError
from tracesync.kafka_clients import producer_config
from tracesync.settings import KafkaSettings, ProducerSettings

log = logging.getLogger(__name__)

_POLL_INTERVAL_S = 0.1
_QUEUE_FULL_BACKOFF_S = 0.005


@dataclass(frozen=True)
class OutboundRecord:
    """One record to publish: topic, key (batch code, UTF-8) and the encoded value."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def keyed_by_batch(
        cls,
        topic: str,
        batch_code: str,
        value: bytes,
        headers: tuple[tuple[str, bytes], ...] = (),
    ) -> OutboundRecord:
        return cls(topic=topic, key=batch_code.encode("utf-8"), value=value, headers=headers)


@dataclass(frozen=True)
class Acknowledgement:
    """The broker stored the record here."""

    topic: str
    partition: int
    offset: int
    key: bytes


@dataclass(frozen=True)
class DeliveryFailure:
    """The broker did not acknowledge the record; ``reason`` is librdkafka's."""

    record: OutboundRecord
    reason: str
    retriable: bool = False


DeliveryOutcome = Acknowledgement | DeliveryFailure


class PartialDeliveryError(DeliveryError):
    """Some records of a publish call were not acknowledged; ``failures`` says which (by index)."""

    def __init__(
        self,
        failures: list[tuple[int, DeliveryFailure]],
        acknowledged: list[tuple[int, Acknowledgement]] | None = None,
    ) -> None:
        self.failures = failures
        self.acknowledged = acknowledged or []
        shown = "; ".join(
            f"#{index} {failure.record.topic} key={failure.record.key!r}: {failure.reason}"
            for index, failure in failures[:5]
        )
        more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"{len(failures)} record(s) not acknowledged: {shown}{more}")


def _outcome(record: OutboundRecord, err: KafkaError | None, msg: Message) -> DeliveryOutcome:
    if err is not None:
        return DeliveryFailure(record=record, reason=str(err), retriable=bool(err.retriable()))
    partition, offset = msg.partition(), msg.offset()
    if partition is None or offset is None:  # acks=all reports both; never count this as stored
        return DeliveryFailure(record=record, reason="delivery report without partition/offset")
    return Acknowledgement(topic=record.topic, partition=partition, offset=offset, key=record.key)


class KafkaPublisher:
    """Thread-safe publisher over one idempotent producer, with its own poll thread."""

    def __init__(
        self,
        kafka: KafkaSettings,
        settings: ProducerSettings,
        producer_factory: Callable[[dict[str, Any]], Producer] = Producer,
    ) -> None:
        self._settings = settings
        self._producer = producer_factory(producer_config(kafka, settings))
        self._stopping = threading.Event()
        self._unflushed = 0
        self._resolver: _LoopResolver | None = None
        self._poller = threading.Thread(target=self._poll_loop, name="kafka-poll", daemon=True)
        self._poller.start()

    # -- publishing -------------------------------------------------------------------------

    def publish(self, records: Sequence[OutboundRecord]) -> list[Acknowledgement]:
        """Publish; block until every record is acknowledged, else raise PartialDeliveryError."""
        futures: list[Future[DeliveryOutcome]] = []
        for record in records:
            future: Future[DeliveryOutcome] = Future()
            self._produce(record, future.set_result)
            futures.append(future)
        # librdkafka fails every record after delivery.timeout.ms, so this wait is bounded.
        deadline = time.monotonic() + self._result_timeout_s()
        try:
            outcomes = [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]
        except TimeoutError as exc:
            raise DeliveryError(f"no delivery report within {self._result_timeout_s()}s") from exc
        return _acknowledged_or_raise(outcomes)

    async def publish_async(self, records: Sequence[OutboundRecord]) -> list[DeliveryOutcome]:
        """Publish from asyncio; one outcome per record, in order, once all are settled."""
        return list(await asyncio.gather(*self.submit_async(records)))

    def submit_async(
        self, records: Sequence[OutboundRecord]
    ) -> list[asyncio.Future[DeliveryOutcome]]:
        """Produce from asyncio; one future per record, each resolved by its own delivery report
        (many reports per wake-up of the event loop)."""
        loop = asyncio.get_running_loop()
        resolver = self._resolver
        if resolver is None or resolver.loop is not loop:
            resolver = self._resolver = _LoopResolver(loop)
        futures: list[asyncio.Future[DeliveryOutcome]] = []
        for record in records:
            future: asyncio.Future[DeliveryOutcome] = loop.create_future()
            self._produce(record, resolver.resolver_of(future))
            futures.append(future)
        return futures

    def _produce(self, record: OutboundRecord, done: Callable[[DeliveryOutcome], None]) -> None:
        if self._stopping.is_set():
            raise DeliveryError("publisher is closed")

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            done(_outcome(record, err, msg))

        while True:
            try:
                self._producer.produce(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    headers=list(record.headers) or None,
                    on_delivery=on_delivery,
                )
                return
            except BufferError:
                # Local queue full: the poll thread drains it; wait instead of failing the caller.
                time.sleep(_QUEUE_FULL_BACKOFF_S)
            except KafkaException as exc:
                done(DeliveryFailure(record=record, reason=str(exc)))
                return

    def _result_timeout_s(self) -> float:
        return self._settings.delivery_timeout_ms / 1000 + 30.0

    # -- lifecycle --------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._producer.poll(_POLL_INTERVAL_S)
            except Exception:  # a failing callback must not stop delivery reports for the rest
                log.exception("delivery callback failed")

    def close(self, timeout_s: float | None = None) -> int:
        """Flush outstanding records (bounded by the timeout) and stop; returns how many remain."""
        if self._stopping.is_set():  # closed already: flushing again would find nothing to do
            return self._unflushed
        timeout = self._settings.flush_timeout_s if timeout_s is None else timeout_s
        remaining = self._unflushed = int(self._producer.flush(timeout))
        self._stopping.set()
        self._poller.join(timeout=_POLL_INTERVAL_S * 20)
        if remaining:
            log.warning("producer closed with %d record(s) not delivered", remaining)
        return remaining

    def __enter__(self) -> KafkaPublisher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _LoopResolver:
    """Resolves the futures of one event loop from the poll thread: delivery reports are queued
    and the loop is woken once per batch of them, not once per record."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._ready: list[tuple[asyncio.Future[DeliveryOutcome], DeliveryOutcome]] = []

    def resolver_of(
        self, future: asyncio.Future[DeliveryOutcome]
    ) -> Callable[[DeliveryOutcome], None]:
        """A callback, safe to call from any thread, that resolves ``future`` on the loop."""
        return lambda outcome: self._queue(future, outcome)

    def _queue(self, future: asyncio.Future[DeliveryOutcome], outcome: DeliveryOutcome) -> None:
        with self._lock:
            self._ready.append((future, outcome))
            first = len(self._ready) == 1
        if not first:
            return  # a wake-up is on its way and will take this one too
        try:
            self.loop.call_soon_threadsafe(self._resolve_ready)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.debug("delivery report after the event loop closed: %s", outcome)

    def _resolve_ready(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for future, outcome in ready:
            if not future.done():
                future.set_result(outcome)


def _acknowledged_or_raise(outcomes: list[DeliveryOutcome]) -> list[Acknowledgement]:
    failures = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, DeliveryFailure)]
    acks = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, Acknowledgement)]
    if failures:
        raise PartialDeliveryError(failures=failures, acknowledged=acks)
    return [ack for _, ack in acks]
