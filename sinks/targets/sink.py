"""The targets sink: chain changes (and alerts) to target systems, each notice exactly once.

It consumes the chain topic (and the alerts topic when a route reads alerts) without auto-commit.
For every record the routes of the routes file (:mod:`sinks.targets.config`) make notices
(:mod:`sinks.targets.routing`); each notice not yet in the ledger is delivered by its target's
transport with retries (:mod:`sinks.targets.delivery`: exponential backoff with jitter). Notices
of one batch are delivered one after the other, in record order; different batches go in
parallel. A notice that still fails after the configured attempts (or that its target refuses
outright) is dead-lettered: the record goes to the sinks dead-letter topic with reason, stage
``targets``, route and origin in its headers, and the sink moves on. Offsets are committed only
when every record of a poll was acknowledged or dead-lettered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from sinks.targets.base import Target
from sinks.targets.config import RoutesConfig, open_targets
from sinks.targets.delivery import NoticeDelivery, SinkStats, SinkStoppedError
from sinks.targets.ledger import SentLedger
from sinks.targets.routing import Route, Source
from sinks.topics import SinkTopics
from tracesync import deadletter
from tracesync.errors import InfrastructureError, RecordOrigin, TracesyncError
from tracesync.kafka_clients import consumer_config
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings

log = logging.getLogger(__name__)

STAGE = "targets"
DEFAULT_GROUP = "tracesync-targets"

Decoder = Callable[[bytes, RecordOrigin], dict[str, Any]]


class TargetSink:
    """The consume → route → deliver → commit loop."""

    def __init__(
        self,
        config: RoutesConfig,
        *,
        targets: Mapping[str, Target],
        ledger: SentLedger,
        topics: SinkTopics,
        decoders: Mapping[Source, Decoder],
        consumer: Consumer,
        publisher: KafkaPublisher,
        concurrency: int = 8,
        max_poll_records: int = 500,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.targets = targets
        self.ledger = ledger
        self.topics = topics
        self.decoders = decoders
        self.consumer = consumer
        self.publisher = publisher
        self.max_poll_records = max_poll_records
        self.stop = stop or threading.Event()
        self.stats = SinkStats()
        self.delivery = NoticeDelivery(targets, ledger, config.retry, self.stop, self.stats)
        self._sources = {topics.chain: Source.CHAIN, topics.alerts: Source.ALERTS}
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="targets")

    def subscribed_topics(self) -> list[str]:
        wanted = self.config.sources
        return [topic for topic, source in self._sources.items() if source in wanted]

    def run(self, poll_timeout_s: float = 0.5, report_every_s: float = 30.0) -> None:
        """Consume until :attr:`stop` is set."""
        self.consumer.subscribe(self.subscribed_topics())
        last_report = time.monotonic()
        try:
            while not self.stop.is_set():
                messages = self.consumer.consume(self.max_poll_records, poll_timeout_s)
                records = [m for m in messages if _usable(m)]
                if records:
                    self.process(records)
                    self._commit(records)
                if time.monotonic() - last_report >= report_every_s:
                    log.info("targets sink: %s", self.stats.snapshot())
                    last_report = time.monotonic()
        except SinkStoppedError:
            log.info("targets sink stopped during a retry; the poll will be re-delivered")

    def process(self, records: Sequence[Message]) -> None:
        """Handle a poll: one task per batch code (records in order), batches in parallel."""
        by_batch: dict[bytes | None, list[Message]] = defaultdict(list)
        for message in records:
            by_batch[message.key()].append(message)
        futures = [self._pool.submit(self._handle_all, group) for group in by_batch.values()]
        for future in futures:
            future.result()  # re-raises SinkStoppedError or a dead-letter DeliveryError

    def _handle_all(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self._handle(message)

    def _handle(self, message: Message) -> None:
        self.stats.add(records=1)
        origin = RecordOrigin(message.topic(), message.partition(), message.offset())
        source = self._sources[str(message.topic())]
        try:
            record = self.decoders[source](message.value() or b"", origin)
        except InfrastructureError:
            # the registry is away (a schema not cached yet): the record is good and must come
            # again; the poll is not committed and the sink stops for its supervisor to restart
            raise
        except TracesyncError as exc:
            self._dead_letter(message, f"cannot decode: {exc}", {})
            return
        if source is Source.CHAIN and self._is_stale(record):
            self.stats.add(stale_chains=1)
            return
        for route in self.config.routes:
            if route.source is source:
                self._route(route, record, message)
        if source is Source.CHAIN:
            self.ledger.record_version(str(record["batch_code"]), int(record["version"]))

    def _is_stale(self, chain: Mapping[str, Any]) -> bool:
        newest = self.ledger.newest_version(str(chain["batch_code"]))
        return newest is not None and int(chain["version"]) < newest

    def _route(self, route: Route, record: Mapping[str, Any], message: Message) -> None:
        extra = {deadletter.ROUTE: route.name, "dlq.target": route.target}
        try:
            notices = route.notices(record)
        except Exception as exc:  # a payload that cannot be built must not stop the sink
            self._dead_letter(message, f"route failed: {exc!r}", extra)
            return
        for notice in notices:
            failure = self.delivery.deliver(notice)
            if failure is not None:
                self._dead_letter(message, failure, extra | {"dlq.key": notice.key})

    def _dead_letter(self, message: Message, reason: str, extra: dict[str, str]) -> None:
        log.warning(
            "dead letter from %s[%s]@%s: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            reason,
        )
        redriven = deadletter.redriven_count(message.headers())
        if redriven:
            extra = extra | {deadletter.REDRIVEN: str(redriven)}
        origin = RecordOrigin(message.topic(), message.partition(), message.offset())
        headers = deadletter.build_headers(reason, STAGE, origin, extra)
        self.publisher.publish(
            [
                OutboundRecord(
                    self.topics.dead_letter,
                    message.key() or b"",
                    message.value() or b"",
                    tuple(headers),
                )
            ]
        )
        self.stats.add(dead_lettered=1)

    def _commit(self, records: Sequence[Message]) -> None:
        positions: dict[tuple[str, int], int] = {}
        for m in records:
            where = (str(m.topic()), int(m.partition() or 0))
            positions[where] = max(positions.get(where, -1), int(m.offset() or 0) + 1)
        offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:  # e.g. a rebalance: the records come again, the ledger
            log.warning("offset commit failed, records will be re-delivered: %s", exc)

    def close(self) -> None:
        self.stop.set()
        self._pool.shutdown(wait=True)
        self.consumer.close()
        for target in self.targets.values():
            target.close()
        self.ledger.close()


def _usable(message: Message) -> bool:
    error = message.error()
    if error is not None:
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", error)
        return False
    return message.value() is not None  # a tombstone on the compacted chain topic


def open_sink(
    kafka: KafkaSettings,
    *,
    publisher: KafkaPublisher,
    config: RoutesConfig,
    home: Path,
    topics: SinkTopics,
    decoders: Mapping[Source, Decoder],
    group: str = DEFAULT_GROUP,
    concurrency: int = 8,
    stop: threading.Event | None = None,
    consumer_factory: Callable[[dict[str, Any]], Consumer] = Consumer,
    wrap_target: Callable[[Target], Target] = lambda target: target,
) -> TargetSink:
    """Open ledger, targets and consumer; the caller runs the sink and closes it.

    ``consumer_factory`` and ``wrap_target`` let the composition root add metrics."""
    ledger = SentLedger(home / "targets" / "ledger.sqlite")
    try:
        targets = {name: wrap_target(t) for name, t in open_targets(config, home).items()}
    except TracesyncError:
        ledger.close()
        raise
    try:
        consumer = consumer_factory(consumer_config(kafka, group, max_poll_interval_ms=900_000))
    except KafkaException as exc:
        raise InfrastructureError(f"cannot create the targets consumer: {exc}") from exc
    return TargetSink(
        config,
        targets=targets,
        ledger=ledger,
        topics=topics,
        decoders=decoders,
        consumer=consumer,
        publisher=publisher,
        concurrency=concurrency,
        stop=stop,
    )
