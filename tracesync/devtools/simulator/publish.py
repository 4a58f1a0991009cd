"""Publish a simulation's records to the source topics through the project's serde.

Each valid envelope is encoded with :class:`~tracesync.contracts.serde.EnvelopeSerde` and sent to
its
system's topic keyed by batch code; a malformed record is sent as its raw bad bytes, after checking
that the serde really refuses them. The producer configuration comes from one function
(:func:`simulator_producer_config`, today the shared ``tracesync.publisher`` config: idempotent,
``acks=all``, ``murmur2_random``, lz4, linger 5 ms). Every delivery report is checked: any
record the broker did not acknowledge makes :meth:`SimulationPublisher.publish` raise
``DeliveryError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from tracesync.contracts.schemas import current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.contracts.wire_formats import SingleObjectFormat
from tracesync.devtools.simulator.events import TOPIC_OF_SYSTEM
from tracesync.devtools.simulator.faults import OutRecord, malformed_bytes
from tracesync.errors import DeliveryError, SerializationError, TracesyncError
from tracesync.kafka_clients import producer_config
from tracesync.settings import KafkaSettings, ProducerSettings

log = logging.getLogger(__name__)

_MALFORMED_ATTEMPTS = 16


class SimulationError(TracesyncError):
    """The simulator could not build or send what it was asked to."""


def simulator_producer_config(kafka: KafkaSettings, producer: ProducerSettings) -> dict[str, Any]:
    """The librdkafka config the simulator publishes with (the shared producer's)."""
    return {**producer_config(kafka, producer), "client.id": "tracesync-simulator"}


def simulator_serde() -> EnvelopeSerde:
    """Single-object serde with the field-by-field check but without the second fastavro
    validation pass: the simulator's envelopes are proven valid by its tests, and that pass
    costs ~4/5 of the encoding time."""
    return EnvelopeSerde(
        SingleObjectFormat.from_current(), schemas=current(), validate_with_fastavro=False
    )


def topic_names(prefix: str = "") -> dict[str, str]:
    """Source system -> topic, with an optional prefix (``<prefix>mes.events``)."""
    return {system: f"{prefix}{topic}" for system, topic in TOPIC_OF_SYSTEM.items()}


def wire_value(record: OutRecord, serde: EnvelopeSerde) -> bytes:
    """The bytes to send: the encoded envelope, or malformed bytes the serde refuses to decode."""
    if record.envelope is not None:
        return serde.encode(record.envelope)
    if record.malformed is None:
        raise SimulationError(f"record for {record.key} has neither envelope nor malformed body")
    for attempt in range(_MALFORMED_ATTEMPTS):
        data = malformed_bytes(record.malformed, serde.encode, attempt)
        try:
            serde.decode(data)
        except SerializationError:
            return data
    raise SimulationError(f"could not make a {record.malformed.reason} record that fails to decode")


@dataclass
class PublishReport:
    sent: int = 0
    malformed: int = 0
    acknowledged: int = 0
    seconds: float = 0.0
    complete: bool = True
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


class SimulationPublisher:
    """Sends records in order, paced to ``rate`` records/s (0: as fast as possible)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        topics: Mapping[str, str],
        producer_factory: Callable[[dict[str, Any]], Producer] = Producer,
    ) -> None:
        self._producer = producer_factory(dict(config))
        self._topics = dict(topics)

    def publish(
        self,
        records: Iterable[OutRecord],
        serde: EnvelopeSerde,
        *,
        rate: float = 0.0,
        duration_s: float | None = None,
        flush_timeout_s: float = 60.0,
    ) -> PublishReport:
        report = PublishReport()

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None and msg.partition() is not None and msg.offset() is not None:
                report.acknowledged += 1
            else:
                report.failures.append(f"{msg.topic()} key={msg.key()!r}: {err}")

        began = time.monotonic()
        for index, record in enumerate(records):
            elapsed = time.monotonic() - began
            if duration_s is not None and elapsed >= duration_s:
                report.complete = False
                break
            if rate > 0 and index / rate > elapsed:
                time.sleep(index / rate - elapsed)
            self._produce(record, wire_value(record, serde), on_delivery)
            report.sent += 1
            report.malformed += record.malformed is not None
        remaining = self._producer.flush(flush_timeout_s)
        report.seconds = time.monotonic() - began
        if remaining or report.failures or report.acknowledged != report.sent:
            shown = "; ".join(report.failures[:5])
            raise DeliveryError(
                f"{report.sent - report.acknowledged} of {report.sent} records not acknowledged "
                f"({remaining} still queued): {shown}"
            )
        return report

    def _produce(
        self, record: OutRecord, value: bytes, on_delivery: Callable[[Any, Any], None]
    ) -> None:
        topic = self._topics[record.system]
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=record.key.encode(), on_delivery=on_delivery
                )
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise DeliveryError(f"cannot produce to {topic}: {exc}") from exc
        self._producer.poll(0)
