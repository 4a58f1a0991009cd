"""The topics every sink reads (chains, alerts) and the dead-letter topic it writes."""

from __future__ import annotations

from dataclasses import dataclass

from tracesync.topics import TopicCatalog


@dataclass(frozen=True)
class SinkTopics:
    """The topics a sink reads and the dead-letter topic it writes."""

    chain: str
    alerts: str
    dead_letter: str

    @classmethod
    def from_catalog(cls, catalog: TopicCatalog) -> SinkTopics:
        return cls(
            chain=catalog.topic("trace.chain").name,
            alerts=catalog.topic("trace.alerts").name,
            dead_letter=catalog.dlq("sinks"),
        )
