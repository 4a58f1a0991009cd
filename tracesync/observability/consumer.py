"""A confluent-kafka consumer that counts what it hands over, once per ``consume`` call.

:class:`MeteredConsumer` is the consumer itself (a subclass), so the code using it does not
change. Per non-empty ``consume``: the records per topic (``tracesync_events_in``), the age of the
oldest one by its record timestamp (``tracesync_end_to_end_seconds``); and the time from handing a
batch over to the next ``consume`` call, which is the time the caller spent on it
(``tracesync_processing_seconds``).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from confluent_kafka import Consumer, Message

from tracesync.observability.metrics import Metrics

_NO_TIMESTAMP = 0  # confluent_kafka.TIMESTAMP_NOT_AVAILABLE


class MeteredConsumer(Consumer):  # type: ignore[misc]  # confluent_kafka has no type hints
    """A :class:`confluent_kafka.Consumer` with metrics per consumed batch."""

    def __init__(self, config: dict[str, Any], *, metrics: Metrics, stage: str) -> None:
        super().__init__(config)
        self.metrics = metrics
        self.stage = stage
        self._handed: tuple[float, int] | None = None

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        if self._handed is not None:
            since, count = self._handed
            self.metrics.processed(self.stage, time.perf_counter() - since, count)
            self._handed = None
        messages: list[Message] = super().consume(num_messages, timeout)
        if messages:
            self._count(messages)
            self._handed = (time.perf_counter(), len(messages))
        return messages

    def _count(self, messages: list[Message]) -> None:
        topics: Counter[str] = Counter()
        oldest: float | None = None
        for message in messages:
            if message.error() is not None:
                continue
            topics[message.topic() or ""] += 1
            kind, stamp = message.timestamp()
            if kind != _NO_TIMESTAMP and (oldest is None or stamp < oldest):
                oldest = stamp
        self.metrics.consumed(self.stage, topics, oldest)
