"""What the console reads from and sends to Kafka, wired from the settings at the entry point.

The live holds and alerts view consumes the alerts topic, the dead-letter page reads the ``dlq.*``
topics and redrives them (:mod:`ops.redrive`). Topic names come from the catalog, the Alert
decoder from :func:`tracesync.bootstrap.record_serde` (the wire format chosen there). The decoder
is built on first use in the feed's thread, so that ``tracesync serve`` starts while the broker or
the registry is still down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracesync.bootstrap import catalog, record_serde
from tracesync.settings import KafkaSettings, ProducerSettings, Settings

DEAD_LETTER_STAGES = ("ingest", "streams", "sinks")

AlertDecoder = Callable[[bytes], dict[str, Any]]


@dataclass(frozen=True)
class Pipeline:
    """The Kafka side of the console."""

    kafka: KafkaSettings
    producer: ProducerSettings
    alerts_topic: str
    alert_decoder: Callable[[], AlertDecoder]
    """Builds the decoder of the alerts topic's records (may contact the registry)."""
    dead_letter_topics: Mapping[str, str]
    """Stage (``ingest``, ``streams``, ``sinks``) -> its dead-letter topic."""


def pipeline_of(settings: Settings) -> Pipeline:
    """The console's topics, clients and decoder from the process's settings."""
    topics = catalog(settings)
    alerts = topics.topic("trace.alerts").name

    def decoder() -> AlertDecoder:
        return record_serde(settings, "Alert", alerts).decode

    return Pipeline(
        settings.kafka,
        settings.producer,
        alerts,
        decoder,
        {stage: topics.dlq(stage) for stage in DEAD_LETTER_STAGES},
    )
