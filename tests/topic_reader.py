"""Read a topic from its start in tests: every message, and the latest decoded value per key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer

from tracesync.kafka_clients import common
from tracesync.settings import Settings

_ORIGIN = ("dlq.topic", "dlq.partition", "dlq.offset")


class TopicReader:
    """A consumer of its own (unique group, from the earliest offset) on one topic."""

    def __init__(self, settings: Settings, topic: str, decode: Callable[[bytes], Any]) -> None:
        self.consumer = Consumer(
            common(settings.kafka)
            | {
                "group.id": f"reader-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        self.consumer.subscribe([topic])
        self.decode = decode
        self.latest: dict[str, Any] = {}
        self.messages: list[Any] = []

    def poll(self, seconds: float = 0.5) -> None:
        for msg in self.consumer.consume(5000, timeout=seconds):
            if msg.error():
                continue
            self.messages.append(msg)
            key = msg.key()
            if key is not None:  # hostile tests put keyless records on shared topics
                self.latest[key.decode(errors="replace")] = self.decode(msg.value())

    def dead_letter_origins(self) -> set[tuple[bytes, ...]]:
        """Distinct (topic, partition, offset) headers of the dead letters read so far."""
        return {tuple(dict(m.headers() or []).get(h, b"") for h in _ORIGIN) for m in self.messages}

    def close(self) -> None:
        self.consumer.close()
