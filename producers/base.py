"""The small base every ingest adapter (REST, DB change capture, files) builds on.

An adapter turns what a source system hands over into :class:`~tracesync.contracts.serde`
envelopes; this
base turns an envelope into the record for its source system's topic, keyed by batch code, and
holds the publisher (the producer core) the records go out through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from tracesync.publisher import Acknowledgement, DeliveryOutcome, OutboundRecord


class Publisher(Protocol):
    """What adapters need of the producer core (:class:`tracesync.publisher.KafkaPublisher`)."""

    def publish(self, records: Sequence[OutboundRecord]) -> list[Acknowledgement]: ...

    async def publish_async(self, records: Sequence[OutboundRecord]) -> list[DeliveryOutcome]: ...


class EnvelopeEncoder(Protocol):
    """Encodes a validated envelope to the bytes put on the topic
    (``tracesync.contracts.serde``)."""

    def encode(self, envelope: Any) -> bytes: ...


class TopicForSystem(Protocol):
    """Maps a source system (``MES``, ``ERP``, ...) to its source topic name."""

    def __call__(self, source_system: str) -> str: ...


class SourceAdapter:
    """Base of the ingest adapters: envelope -> keyed record on its source topic -> publisher."""

    kind: ClassVar[str] = "adapter"
    """Short name of the adapter (``rest``, ``db``, ``files``), used in logs and headers."""

    def __init__(
        self, publisher: Publisher, encoder: EnvelopeEncoder, topic_for: TopicForSystem
    ) -> None:
        self.publisher = publisher
        self.encoder = encoder
        self.topic_for = topic_for

    def record_for(self, envelope: Any, source_system: str, batch_code: str) -> OutboundRecord:
        """The Kafka record of one envelope: its system's topic, key = batch code (UTF-8)."""
        return OutboundRecord.keyed_by_batch(
            topic=self.topic_for(source_system),
            batch_code=batch_code,
            value=self.encoder.encode(envelope),
            headers=(("tracesync-ingest", self.kind.encode()),),
        )
