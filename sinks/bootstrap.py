"""The composition root of the sinks: one builder per ``tracesync sink`` command.

Each builder takes the settings built at the entry point and wires the consumer, the producer for
dead letters, the record serdes and the store or targets; the caller runs the sink and closes it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer

from sinks.observe import MeteredDeadLetters, MeteredTarget, MeteredWriter
from sinks.store.database import open_store
from sinks.store.flow import RecordDecoder
from sinks.store.kafka_io import KafkaDeadLetters, KafkaRecordSource
from sinks.store.sink import StoreSink
from sinks.targets.config import load_routes
from sinks.targets.routing import Source
from sinks.targets.sink import TargetSink, open_sink
from sinks.topics import SinkTopics
from tracesync.bootstrap import catalog, record_serde
from tracesync.kafka_clients import consumer_config, producer_config
from tracesync.observability.consumer import MeteredConsumer
from tracesync.observability.publishing import MeteredPublisher
from tracesync.observability.runtime import Observability
from tracesync.publisher import KafkaPublisher
from tracesync.settings import Settings
from tracesync.startup import database, messaging, wait_for_dependencies

STORE_STAGE = "sinks.store"
TARGETS_STAGE = "targets"


def build_store_sink(
    settings: Settings,
    *,
    store_url: str | None = None,
    topics: SinkTopics | None = None,
    group: str | None = None,
    observability: Observability | None = None,
) -> StoreSink:
    """The store sink: chains and alerts into the trace store, offsets after the commit.

    Metrics and readiness (group joined, database reachable) go to ``observability``."""
    obs = observability or Observability("sink-store", settings.metrics)
    topics = topics or SinkTopics.from_catalog(catalog(settings))
    group = group or settings.store.sink_group
    url = store_url or settings.store_url
    needs = [*messaging(settings), database("trace store", url)]
    wait_for_dependencies(settings, needs, health=obs.health)
    writer = MeteredWriter(open_store(url, settings.store.write_method), obs.metrics)
    obs.health.add("database reachable", writer.reachable)
    config = consumer_config(
        settings.kafka,
        group,
        session_timeout_ms=settings.store.session_timeout_ms,
        max_poll_interval_ms=300_000,
    )
    stats = obs.kafka_stats("consumer group joined", group)
    consumer = MeteredConsumer(
        obs.with_statistics(config, stats), metrics=obs.metrics, stage=STORE_STAGE
    )
    decoder = RecordDecoder(
        topics,
        record_serde(settings, "TraceChain", topics.chain),
        record_serde(settings, "Alert", topics.alerts),
    )
    dead_letters = KafkaDeadLetters(
        Producer(producer_config(settings.kafka, settings.producer)), topics.dead_letter
    )
    return StoreSink(
        writer,
        KafkaRecordSource(consumer, [topics.chain, topics.alerts]),
        MeteredDeadLetters(dead_letters, obs.metrics, STORE_STAGE, topics.dead_letter),
        decoder,
        settings.store,
    )


@dataclass
class TargetsRuntime:
    """The targets sink and the publisher it sends dead letters with; close both."""

    sink: TargetSink
    publisher: KafkaPublisher

    def close(self) -> None:
        self.sink.close()
        self.publisher.close()


def build_targets_sink(
    settings: Settings,
    routes_file: Path,
    overrides: Mapping[str, Mapping[str, object]],
    *,
    group: str,
    concurrency: int,
    stop: threading.Event,
    observability: Observability | None = None,
) -> TargetsRuntime:
    """The targets sink: chain changes routed to HTTP, table and file targets.

    Metrics and readiness (group joined) go to ``observability``."""
    obs = observability or Observability("sink-targets", settings.metrics)
    wait_for_dependencies(settings, messaging(settings), health=obs.health, stop=stop)
    stats = obs.kafka_stats("consumer group joined", group)
    topics = SinkTopics.from_catalog(catalog(settings))
    config = load_routes(routes_file, overrides)
    decoders = {
        Source.CHAIN: record_serde(settings, "TraceChain", topics.chain).decode,
        Source.ALERTS: record_serde(settings, "Alert", topics.alerts).decode,
    }
    publisher = MeteredPublisher(
        settings.kafka, settings.producer, metrics=obs.metrics, stage=TARGETS_STAGE, batches=False
    )
    try:
        sink = open_sink(
            settings.kafka,
            publisher=publisher,
            config=config,
            home=settings.home,
            topics=topics,
            decoders=decoders,
            group=group,
            concurrency=concurrency,
            stop=stop,
            consumer_factory=lambda config: MeteredConsumer(
                obs.with_statistics(config, stats), metrics=obs.metrics, stage=TARGETS_STAGE
            ),
            wrap_target=lambda target: MeteredTarget(target, obs.metrics),
        )
    except BaseException:
        publisher.close()
        raise
    return TargetsRuntime(sink, publisher)
