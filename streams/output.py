"""The merge agent's output producer: librdkafka, flushed once per buffer.

Sending every chain, alert and genealogy message through faust's Python producer cost more than
the merge itself. These records go through an idempotent confluent-kafka producer instead
(``partitioner=murmur2_random``: keys land in the partitions faust and the sinks expect), and the
agent awaits :meth:`OutputProducer.flush` before it finishes a buffer. faust acks a buffer's
records only after that, so their offsets are committed only once every output is stored:
at-least-once holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from tracesync.kafka_clients import producer_config
from tracesync.settings import KafkaSettings, ProducerSettings

log = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]


class OutputProducer:
    """Produce without waiting; :meth:`flush` waits until the broker has every record."""

    def __init__(self, kafka: KafkaSettings, settings: ProducerSettings) -> None:
        self._producer = Producer(producer_config(kafka, settings))
        self.failed = 0

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> None:
        out_headers: Headers | None = list(headers) if headers is not None else None
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=key, headers=out_headers, on_delivery=self._on_delivery
                )
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                self._producer.poll(0.05)

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failed += 1
            log.error("output to %s not delivered: %s", msg.topic(), err)

    async def flush(self) -> None:
        """Wait (off the event loop) until every record produced so far is acknowledged."""
        loop = asyncio.get_running_loop()
        while (left := await loop.run_in_executor(None, self._producer.flush, 10.0)) > 0:
            log.warning("%d output records still unacknowledged; waiting for the broker", left)

    def close(self) -> Any:
        return self._producer.flush(30.0)
