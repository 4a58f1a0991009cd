"""The store sink's batch logic, free of Kafka and of any database (errors as data).

A :class:`Batch` collects the decoded records of one write with the offsets to commit once it is
stored; a record that cannot be decoded becomes a :class:`DeadLetter` (reason, stage, origin)
instead of stopping anything. :func:`write_batch` hands a batch to a
:class:`~sinks.store.writer.StoreWriter`: when the store rejects the batch as a whole, the records
are written one by one and only the rejected ones become dead letters. :class:`Backoff` spaces the
retries of a batch while the store is unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sinks.store.rows import ChainRows, Row, alert_row, chain_rows
from sinks.store.writer import StoreRejectedError, StoreWriter, WriteResult
from sinks.topics import SinkTopics
from tracesync.contracts.record_serde import RecordSerde
from tracesync.errors import RecordOrigin, SerializationError

log = logging.getLogger(__name__)

STAGE = "sinks.store"

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class Incoming:
    """One consumed record: where it was read, its key and value (``None`` for a tombstone)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @property
    def origin(self) -> RecordOrigin:
        return RecordOrigin(self.topic, self.partition, self.offset)


@dataclass(frozen=True)
class DeadLetter:
    """A record set aside: why, and at which stage."""

    record: Incoming
    reason: str
    stage: str


@dataclass
class Batch:
    """Decoded records of one write and the offsets to commit once it is stored."""

    chains: list[tuple[ChainRows, Incoming]] = field(default_factory=list)
    alerts: list[tuple[Row, Incoming]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    counts: dict[TopicPartition, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Records of the batch, tombstones and dead letters included."""
        return sum(self.counts.values())

    def track(self, record: Incoming) -> None:
        tp = (record.topic, record.partition)
        self.offsets[tp] = record.offset + 1
        self.counts[tp] = self.counts.get(tp, 0) + 1

    def touches(self, partitions: set[TopicPartition]) -> bool:
        return any(tp in partitions for tp in self.offsets)

    def drop_partitions(self, revoked: set[TopicPartition]) -> None:
        """Forget records of partitions taken away; their new owner reads them again."""

        def kept(record: Incoming) -> bool:
            return (record.topic, record.partition) not in revoked

        self.chains = [(c, r) for c, r in self.chains if kept(r)]
        self.alerts = [(a, r) for a, r in self.alerts if kept(r)]
        self.dead_letters = [d for d in self.dead_letters if kept(d.record)]
        self.offsets = {tp: off for tp, off in self.offsets.items() if tp not in revoked}
        self.counts = {tp: n for tp, n in self.counts.items() if tp not in revoked}


class RecordDecoder:
    """Decodes consumed records into a batch: chains and alerts as store rows, bad ones aside."""

    def __init__(self, topics: SinkTopics, chain_serde: RecordSerde, alert_serde: RecordSerde):
        self.topics = topics
        self._chains = chain_serde
        self._alerts = alert_serde

    def add(self, batch: Batch, record: Incoming) -> None:
        """Decode ``record`` into ``batch``; its offset is tracked whatever became of it."""
        origin = record.origin
        try:
            if record.topic == self.topics.alerts:
                decoded = self._alerts.decode(record.value or b"", origin)
                batch.alerts.append((alert_row(decoded), record))
            elif record.value is None:
                log.info("tombstone for %r at %s: nothing to store", record.key, origin.describe())
            else:
                decoded = self._chains.decode(record.value, origin)
                batch.chains.append((chain_rows(decoded), record))
        except SerializationError as exc:
            batch.dead_letters.append(DeadLetter(record, exc.reason, f"{STAGE}.decode"))
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"unusable record: {exc!r}"
            batch.dead_letters.append(DeadLetter(record, reason, f"{STAGE}.decode"))
        batch.track(record)


@dataclass(frozen=True)
class Flushed:
    """What writing one batch did, and the records the store refused."""

    result: WriteResult
    rejected: tuple[DeadLetter, ...] = ()


def _add(a: WriteResult, b: WriteResult) -> WriteResult:
    return WriteResult(a.written + b.written, a.stale + b.stale, a.alerts + b.alerts)


def write_batch(writer: StoreWriter, batch: Batch) -> Flushed:
    """Write ``batch`` in one call; if the store rejects it, one record per call.

    StoreUnavailableError propagates: nothing of the batch counts as stored, it is retried whole
    (records already written one by one are then not newer, which the version guard makes
    harmless).
    """
    try:
        result = writer.write([c for c, _ in batch.chains], [a for a, _ in batch.alerts])
    except StoreRejectedError as exc:
        log.warning("store rejected a batch (%s); writing its records one by one", exc)
        return _write_one_by_one(writer, batch)
    return Flushed(result)


def _write_one_by_one(writer: StoreWriter, batch: Batch) -> Flushed:
    total = WriteResult(0, 0, 0)
    rejected: list[DeadLetter] = []
    singles: list[tuple[Sequence[ChainRows], Sequence[Row], Incoming]] = [
        ([rows], [], record) for rows, record in batch.chains
    ]
    singles += [([], [alert], record) for alert, record in batch.alerts]
    for chains, alerts, record in singles:
        try:
            total = _add(total, writer.write(chains, alerts))
        except StoreRejectedError as exc:
            rejected.append(DeadLetter(record, str(exc), f"{STAGE}.write"))
    return Flushed(total, tuple(rejected))


class Backoff:
    """Waits between retries: ``initial_s``, doubled after every failure up to ``max_s``."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self._next = initial_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self._next = self.initial_s
