"""Reading dead-letter topics: list what is there, and redrive records to their origin topic.

:func:`redrive` reads a dead-letter topic from its consumer group's committed position up to the
end as it was when the call started, sends every record that passes the filter back to the topic
named by its ``dlq.topic`` header (same key and value, non-``dlq.`` headers kept, plus
``dlq.redriven`` = how often it has been redriven), waits until the broker acknowledged them
(idempotent producer), and only then commits the group's offsets past what it examined. So one
request redrives a record once, and the next request starts after it. Records the filter leaves
out are passed over for that group too (use another ``--group`` to treat them separately); with
``--limit`` the records after the limit stay for the next request.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaException, Message, TopicPartition

from tracesync import deadletter
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import consumer_config
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings

log = logging.getLogger(__name__)

_CHUNK = 500
_TIMEOUT_S = 10.0


_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> int:
    """``30m``/``2h``/``1d`` ago, or an ISO 8601 time (UTC when no zone) -> epoch millis."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        moment = now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{text!r}: use 30m, 2h, 1d or an ISO 8601 time") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class RedriveFilter:
    """Which dead letters to redrive; None means no condition."""

    since_ms: int | None = None
    reason_contains: str | None = None
    limit: int | None = None

    def accepts(self, info: deadletter.DeadLetterInfo, timestamp_ms: int) -> bool:
        if self.since_ms is not None and timestamp_ms < self.since_ms:
            return False
        wanted = self.reason_contains
        return wanted is None or wanted.lower() in info.reason.lower()


@dataclass
class RedriveReport:
    """What one redrive request did (or, with dry_run, would do)."""

    examined: int = 0
    redriven: int = 0
    filtered_out: int = 0
    no_origin: int = 0
    to_topics: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False


@dataclass
class DeadLetterSummary:
    """What a dead-letter topic holds, and how much of it a redrive group has not yet examined."""

    count: int = 0
    pending: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    origins: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)


def redrive_group(topic: str) -> str:
    """The default consumer group that remembers how far a dead-letter topic was redriven."""
    return f"tracesync-dlq-redrive.{topic}"


def _consumer(kafka: KafkaSettings, group: str) -> Consumer:
    try:
        return Consumer(consumer_config(kafka, group, partition_eof=False))
    except KafkaException as exc:
        raise InfrastructureError(f"cannot create a consumer: {exc}") from exc


def _ranges(consumer: Consumer, topic: str, from_committed: bool) -> list[tuple[int, int, int]]:
    """(partition, start, end) of each partition that has records to read."""
    try:
        metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics[topic]
        if metadata.error is not None:
            raise InfrastructureError(f"topic {topic}: {metadata.error}")
        partitions = [TopicPartition(topic, p) for p in sorted(metadata.partitions)]
        committed = (
            consumer.committed(partitions, timeout=_TIMEOUT_S) if from_committed else partitions
        )
        ranges = []
        for part in committed:
            low, high = consumer.get_watermark_offsets(part, timeout=_TIMEOUT_S)
            start = part.offset if from_committed and part.offset != OFFSET_INVALID else low
            start = max(start, low)
            if start < high:
                ranges.append((part.partition, start, high))
        return ranges
    except KafkaException as exc:
        raise InfrastructureError(f"cannot read the positions of {topic}: {exc}") from exc


def _read(
    consumer: Consumer, topic: str, ranges: Sequence[tuple[int, int, int]]
) -> Iterator[Message]:
    """Every record of the ranges, partition by partition in offset order."""
    for partition, start, end in ranges:
        consumer.assign([TopicPartition(topic, partition, start)])
        position = start
        while position < end:
            message = consumer.poll(_TIMEOUT_S)
            if message is None:
                raise InfrastructureError(
                    f"{topic}[{partition}]: no record at offset {position} within {_TIMEOUT_S}s"
                )
            if message.error() is not None:
                raise InfrastructureError(f"{topic}[{partition}]: {message.error()}")
            position = int(message.offset() or 0) + 1
            yield message


def summarize(kafka: KafkaSettings, topic: str, group: str) -> DeadLetterSummary:
    """Count a dead-letter topic's records by reason, origin, stage and route."""
    summary = DeadLetterSummary()
    consumer = _consumer(kafka, group)
    try:
        pending = {p: high - start for p, start, high in _ranges(consumer, topic, True)}
        summary.pending = sum(pending.values())
        for message in _read(consumer, topic, _ranges(consumer, topic, False)):
            info = deadletter.parse_headers(message.headers())
            summary.count += 1
            summary.reasons[info.reason[:120] or "<no reason>"] += 1
            summary.origins[info.topic or "<no origin>"] += 1
            summary.stages[info.stage or "<no stage>"] += 1
            if deadletter.ROUTE in info.extra:
                summary.routes[info.extra[deadletter.ROUTE]] += 1
    finally:
        consumer.close()
    return summary


@dataclass(frozen=True)
class StoredDeadLetter:
    """One record of a dead-letter topic: where it is, what its headers say, whether the redrive
    group has yet to examine it."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes
    value_bytes: int
    info: deadletter.DeadLetterInfo
    pending: bool


def read_dead_letters(kafka: KafkaSettings, topic: str, group: str) -> list[StoredDeadLetter]:
    """Every record of a dead-letter topic, in partition and offset order (values left out)."""
    consumer = _consumer(kafka, group)
    letters = []
    try:
        # where the group's next redrive starts, per partition that has records left for it
        pending_from = {p: start for p, start, _ in _ranges(consumer, topic, True)}
        for message in _read(consumer, topic, _ranges(consumer, topic, False)):
            partition, offset = int(message.partition() or 0), int(message.offset() or 0)
            letters.append(
                StoredDeadLetter(
                    partition,
                    offset,
                    int(message.timestamp()[1]),
                    message.key() or b"",
                    len(message.value() or b""),
                    deadletter.parse_headers(message.headers()),
                    partition in pending_from and offset >= pending_from[partition],
                )
            )
    finally:
        consumer.close()
    return letters


def _redriven_record(message: Message, info: deadletter.DeadLetterInfo) -> OutboundRecord:
    headers = (*info.passthrough, (deadletter.REDRIVEN, str(info.redriven + 1).encode()))
    return OutboundRecord(str(info.topic), message.key() or b"", message.value() or b"", headers)


def redrive(
    kafka: KafkaSettings,
    publisher: KafkaPublisher,
    topic: str,
    *,
    group: str,
    wanted: RedriveFilter,
    dry_run: bool = False,
) -> RedriveReport:
    """Send dead letters back to their origin; commit the group only after the broker acked."""
    report = RedriveReport(dry_run=dry_run)
    consumer = _consumer(kafka, group)
    outbox: list[OutboundRecord] = []
    positions: dict[int, int] = {}
    try:
        for message in _read(consumer, topic, _ranges(consumer, topic, True)):
            if wanted.limit is not None and report.redriven >= wanted.limit:
                break
            report.examined += 1
            positions[int(message.partition() or 0)] = int(message.offset() or 0) + 1
            info = deadletter.parse_headers(message.headers())
            if info.topic is None:
                report.no_origin += 1
                log.warning("dead letter at offset %s has no dlq.topic", message.offset())
                continue
            if not wanted.accepts(info, int(message.timestamp()[1])):
                report.filtered_out += 1
                continue
            report.redriven += 1
            report.to_topics[info.topic] += 1
            outbox.append(_redriven_record(message, info))
            if len(outbox) >= _CHUNK and not dry_run:
                _flush(consumer, publisher, topic, outbox, positions)
        if not dry_run:
            _flush(consumer, publisher, topic, outbox, positions)
    finally:
        consumer.close()
    return report


def _flush(
    consumer: Consumer,
    publisher: KafkaPublisher,
    topic: str,
    outbox: list[OutboundRecord],
    positions: dict[int, int],
) -> None:
    if outbox:
        publisher.publish(outbox)  # raises unless every record was acknowledged
        outbox.clear()
    if positions:
        offsets = [TopicPartition(topic, p, o) for p, o in positions.items()]
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise InfrastructureError(
                f"redriven records were sent but the position on {topic} was not saved: {exc}"
            ) from exc
