"""The targets sink: chain changes (and alerts) to target systems, each notice exactly once.

It consumes the chain topic (and the alerts topic when a route reads alerts) without auto-commit.
For every record the routes of the routes file (:func:`load_routes`) make notices
(:mod:`sinks.targets.routing`); each notice not yet in the ledger is delivered by its target's
transport
with retries (exponential backoff with jitter). Notices of one batch are delivered one after the
other, in record order; different batches go in parallel. A notice that still fails after the
configured attempts (or that its target refuses outright) is dead-lettered: the record goes to the
sinks dead-letter topic with reason, stage ``targets``, route and origin in its headers, and the
sink moves on. Offsets are committed only when every record of a poll was acknowledged or
dead-lettered.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from sinks.targets.base import Target, TargetError
from sinks.targets.file_target import FileTarget
from sinks.targets.http_target import HttpTarget
from sinks.targets.ledger import SentLedger
from sinks.targets.routing import Notice, Route, Source, build_route
from sinks.targets.table_target import TableTarget
from sinks.topics import SinkTopics
from tracesync import deadletter
from tracesync.errors import ConfigurationError, InfrastructureError, RecordOrigin, TracesyncError
from tracesync.kafka_clients import consumer_config
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings

log = logging.getLogger(__name__)

STAGE = "targets"
DEFAULT_GROUP = "tracesync-targets"
TRANSPORTS: dict[str, type[Target]] = {
    t.transport: t for t in (HttpTarget, TableTarget, FileTarget)
}

Decoder = Callable[[bytes, RecordOrigin], dict[str, Any]]


# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a notice is tried before it is dead-lettered."""

    attempts: int = 5
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    jitter: float = 0.5
    """Share of each delay that is random, so that retries of many batches do not align."""

    def delay(self, failed_attempts: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the n-th failed attempt."""
        base = min(self.max_backoff_s, self.initial_backoff_s * 2.0 ** (failed_attempts - 1))
        return base * (1 - self.jitter) + base * self.jitter * rand()


@dataclass(frozen=True)
class RoutesConfig:
    """A parsed routes file: the targets (by name), the routes in order, the retry policy."""

    targets: Mapping[str, Mapping[str, Any]]
    routes: tuple[Route, ...]
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def sources(self) -> set[Source]:
        return {route.source for route in self.routes}


def parse_routes(
    data: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> RoutesConfig:
    """A routes config from the TOML data; ``overrides`` replace target options by name."""
    unknown = set(data) - {"retry", "targets", "routes"}
    if unknown:
        raise ConfigurationError(f"routes file: unknown sections {sorted(unknown)}")
    targets = {name: dict(spec) for name, spec in dict(data.get("targets") or {}).items()}
    for name, changes in (overrides or {}).items():
        if name not in targets:
            raise ConfigurationError(f"override for unknown target {name!r}")
        targets[name].update(changes)
    for name, spec in targets.items():
        if spec.get("transport") not in TRANSPORTS:
            raise ConfigurationError(
                f"target {name!r}: transport must be one of {sorted(TRANSPORTS)}"
            )
    routes_data = data.get("routes") or []
    if not routes_data:
        raise ConfigurationError("routes file: no [[routes]]")
    routes = tuple(build_route(str(r.get("name")), r, list(targets)) for r in routes_data)
    names = [route.name for route in routes]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"routes file: route names must be unique, got {names}")
    try:
        retry = RetryPolicy(**dict(data.get("retry") or {}))
    except TypeError as exc:
        raise ConfigurationError(f"routes file: [retry]: {exc}") from exc
    if retry.attempts < 1 or not 0 <= retry.jitter <= 1:
        raise ConfigurationError("routes file: [retry] needs attempts >= 1 and 0 <= jitter <= 1")
    return RoutesConfig(targets, routes, retry)


def load_routes(
    path: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> RoutesConfig:
    """Read and check a routes file (TOML)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read routes file {path}: {exc}") from exc
    return parse_routes(data, overrides)


def parse_override(text: str) -> tuple[str, str, str]:
    """``TARGET.OPTION=VALUE`` (from the command line) -> (target, option, value)."""
    name, sep, value = text.partition("=")
    target, dot, option = name.partition(".")
    if not sep or not dot or not target or not option:
        raise ConfigurationError(f"override {text!r} is not TARGET.OPTION=VALUE")
    return target, option, value


def open_targets(config: RoutesConfig, home: Path) -> dict[str, Target]:
    """Open the transports the routes use (connections, tables, files)."""
    used = {route.target for route in config.routes}
    opened: dict[str, Target] = {}
    try:
        for name in sorted(used):
            spec = config.targets[name]
            opened[name] = TRANSPORTS[str(spec["transport"])](name, spec, home)
    except TracesyncError:
        for target in opened.values():
            target.close()
        raise
    return opened


# -- delivery -----------------------------------------------------------------------------------


class SinkStoppedError(TracesyncError):
    """The sink was asked to stop while a notice waited for its next attempt."""


@dataclass
class SinkStats:
    """Counters, safe to bump from the delivery threads."""

    records: int = 0
    notices_sent: int = 0
    already_sent: int = 0
    stale_chains: int = 0
    attempts: int = 0
    dead_lettered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class NoticeDelivery:
    """Delivers one notice with retries; remembers it in the ledger once acknowledged."""

    def __init__(
        self,
        targets: Mapping[str, Target],
        ledger: SentLedger,
        retry: RetryPolicy,
        stop: threading.Event,
        stats: SinkStats,
    ) -> None:
        self.targets = targets
        self.ledger = ledger
        self.retry = retry
        self.stop = stop
        self.stats = stats

    def deliver(self, notice: Notice) -> str | None:
        """None when the target has the notice (now or before); else why it was given up."""
        if self.ledger.was_sent(notice.key):
            self.stats.add(already_sent=1)
            return None
        target = self.targets[notice.target]
        for attempt in range(1, self.retry.attempts + 1):
            self.stats.add(attempts=1)
            try:
                target.send(notice)
            except TargetError as exc:
                log.info("attempt %d of %s failed: %s", attempt, notice.key, exc.reason)
                if not exc.retriable:
                    return f"refused: {exc.reason}"
                if attempt == self.retry.attempts:
                    return f"failed after {attempt} attempts: {exc.reason}"
                if self.stop.wait(self.retry.delay(attempt)):
                    raise SinkStoppedError(f"stopped while retrying {notice.key}") from exc
                continue
            self.ledger.record_sent(notice)
            self.stats.add(notices_sent=1)
            return None
        raise AssertionError("unreachable: the loop returns on its last attempt")


# -- the sink -----------------------------------------------------------------------------------


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
) -> TargetSink:
    """Open ledger, targets and consumer; the caller runs the sink and closes it."""
    ledger = SentLedger(home / "targets" / "ledger.sqlite")
    try:
        targets = open_targets(config, home)
    except TracesyncError:
        ledger.close()
        raise
    try:
        consumer = Consumer(consumer_config(kafka, group, max_poll_interval_ms=900_000))
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
