"""A :class:`~tracesync.publisher.KafkaPublisher` that counts what it sends.

Per publish call: the records submitted (``tracesync_events_in``, by destination topic), the
records acknowledged (``tracesync_events_out``), the call's duration until every report came back
(``tracesync_processing_seconds``) and, for acknowledged records carrying dead-letter headers, a
``tracesync_dead_letters`` by their stage and reason.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import Producer

from tracesync import deadletter
from tracesync.observability.metrics import Metrics
from tracesync.publisher import (
    Acknowledgement,
    DeliveryOutcome,
    KafkaPublisher,
    OutboundRecord,
    PartialDeliveryError,
)
from tracesync.settings import KafkaSettings, ProducerSettings


class MeteredPublisher(KafkaPublisher):
    """The publisher, with metrics per publish call (never per record on the hot path)."""

    def __init__(
        self,
        kafka: KafkaSettings,
        settings: ProducerSettings,
        *,
        metrics: Metrics,
        stage: str,
        producer_factory: Callable[[dict[str, Any]], Producer] = Producer,
        batches: bool = True,
    ) -> None:
        super().__init__(kafka, settings, producer_factory)
        self.metrics = metrics
        self.stage = stage
        self.batches = batches
        """False where the publisher only sends a stage's dead letters (its batches are counted
        where they are consumed): then only events out and dead letters are recorded."""

    def publish(self, records: Sequence[OutboundRecord]) -> list[Acknowledgement]:
        started = time.perf_counter()
        self._submitted(records)
        try:
            acks = super().publish(records)
        except PartialDeliveryError as exc:
            self._settled(started, [records[i] for i, _ in exc.acknowledged])
            raise
        self._settled(started, records)
        return acks

    async def publish_async(self, records: Sequence[OutboundRecord]) -> list[DeliveryOutcome]:
        started = time.perf_counter()
        self._submitted(records)
        outcomes = await super().publish_async(records)
        acked = [
            r for r, o in zip(records, outcomes, strict=True) if isinstance(o, Acknowledgement)
        ]
        self._settled(started, acked)
        return outcomes

    def _submitted(self, records: Sequence[OutboundRecord]) -> None:
        if self.batches:
            self.metrics.consumed(self.stage, Counter(r.topic for r in records))

    def _settled(self, started: float, acked: Sequence[OutboundRecord]) -> None:
        self.metrics.produced(self.stage, (r.topic for r in acked))
        letters = [r.headers for r in acked if r.headers and r.headers[0][0] == deadletter.REASON]
        for headers in letters:
            info = deadletter.parse_headers(headers)
            self.metrics.dead_lettered(info.stage or self.stage, [info.reason])
        if self.batches:
            self.metrics.processed(self.stage, time.perf_counter() - started, len(acked))
