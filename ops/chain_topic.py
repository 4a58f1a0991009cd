"""Read a compacted chain topic to its current end: the newest version of every batch.

Every partition is read from its start to the high watermark taken when reading begins, without
joining a consumer group (nothing is committed, no running component is disturbed). A batch's
newest version wins, whatever the order its records are in (a re-driven old chain can be the
last record of its key). Records that cannot be decoded are counted and named, not fatal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Consumer, TopicPartition

from tracesync.errors import ConfigurationError, TracesyncError
from tracesync.kafka_clients import consumer_config
from tracesync.settings import KafkaSettings

Record = dict[str, Any]
Decoder = Callable[[bytes], Record]
Progress = Callable[[int, int], None]
"""Called with (records read, records to read) as reading goes on."""

_POLL_S = 1.0
_BATCH = 5000


def content_hash(chain: Mapping[str, Any]) -> str:
    """A stable hash of a chain's JSON form (keys sorted), equal for equal content."""
    return hashlib.sha256(orjson.dumps(chain, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class TopicSnapshot:
    """The newest record of every batch on the topic, and what could not be read."""

    latest: dict[str, Record] = field(default_factory=dict)
    records: int = 0
    undecodable: list[str] = field(default_factory=list)


def _keep_newest(snapshot: TopicSnapshot, record: Record) -> None:
    code = str(record["batch_code"])
    current = snapshot.latest.get(code)
    if current is None or int(record["version"]) >= int(current["version"]):
        snapshot.latest[code] = record


Keep = Callable[[int, int], bool]
"""Whether the record at (partition, offset) is to be decoded at all."""


class ChainTopicReader:
    """Reads ``topic`` from ``start`` (default: each partition's beginning) to ``ends`` (default:
    the end offsets taken when it opened, :attr:`ends`), in decoded batches; undecodable records
    are noted. With ``keep``, only the records it accepts are decoded (the others are read and
    counted, nothing more)."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        decode: Decoder,
        start: Mapping[int, int] | None = None,
        *,
        ends: Mapping[int, int] | None = None,
        keep: Keep | None = None,
    ) -> None:
        self.topic = topic
        self._decode = decode
        self._keep = keep
        self._consumer = Consumer(consumer_config(kafka, "tracesync-ops-reader"))
        self.ends, self.total = self._assign(start or {}, ends)
        self.read = 0
        self.undecodable: list[str] = []

    def close(self) -> None:
        self._consumer.close()

    def batches(self) -> Iterator[list[Record]]:
        """Decoded records in read order, a consumed batch at a time, until every end."""
        for messages in self.messages():
            decoded = (self._decoded(m) for m in messages)
            yield [record for record in decoded if record is not None]

    def messages(self) -> Iterator[list[Any]]:
        """The messages themselves (those ``keep`` accepts, before any end), a batch at a time."""
        keep, ends = self._keep, self.ends
        remaining = {p for p, (first, end) in self._ranges.items() if end > first}
        while remaining:
            batch = []
            for message in self._consumer.consume(_BATCH, timeout=_POLL_S):
                if message.error() is not None:
                    raise TracesyncError(f"reading {self.topic}: {message.error()}")
                partition, offset = message.partition(), message.offset()
                if offset >= ends[partition]:
                    continue  # past the end taken at the start: not this read's
                self.read += 1
                if keep is None or keep(partition, offset):
                    batch.append(message)
            remaining -= self._finished(remaining)
            yield batch

    def _finished(self, partitions: set[int]) -> set[int]:
        # by position, not by the last offset seen: transaction markers and compacted-away
        # records occupy offsets that are never delivered
        positions = self._consumer.position([TopicPartition(self.topic, p) for p in partitions])
        return {tp.partition for tp in positions if tp.offset >= self.ends[tp.partition]}

    def _decoded(self, message: Any) -> Record | None:
        value = message.value()
        if value is None:  # a tombstone
            return None
        try:
            return self._decode(value)
        except Exception as exc:  # a bad record is a finding, not a crash
            where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
            self.undecodable.append(f"{where}: {type(exc).__name__}: {exc}")
            return None

    def _assign(
        self, start: Mapping[int, int], ends: Mapping[int, int] | None
    ) -> tuple[dict[int, int], int]:
        metadata = self._consumer.list_topics(self.topic, timeout=15).topics.get(self.topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise ConfigurationError(f"topic {self.topic!r} does not exist on the broker")
        self._ranges: dict[int, tuple[int, int]] = {}
        for p in sorted(metadata.partitions):
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=15
            )
            end = high if ends is None else min(high, ends.get(p, high))
            self._ranges[p] = (max(low, start.get(p, low)), end)
        self._consumer.assign(
            [TopicPartition(self.topic, p, first) for p, (first, _) in self._ranges.items()]
        )
        ends = {p: end for p, (_, end) in self._ranges.items()}
        return ends, sum(max(end - first, 0) for first, end in self._ranges.values())


def read_chain_topic(
    kafka: KafkaSettings,
    topic: str,
    decode: Decoder,
    progress: Progress | None = None,
) -> TopicSnapshot:
    """Every batch's newest chain on ``topic``, read up to the end offsets taken at the start."""
    reader = ChainTopicReader(kafka, topic, decode)
    snapshot = TopicSnapshot()
    try:
        for batch in reader.batches():
            for record in batch:
                _keep_newest(snapshot, record)
            if progress is not None:
                progress(reader.read, reader.total)
    finally:
        reader.close()
    snapshot.records = reader.read
    snapshot.undecodable = reader.undecodable
    return snapshot


def newest_positions(
    kafka: KafkaSettings, topic: str, head: Decoder
) -> tuple[dict[int, int], set[tuple[int, int]]]:
    """Where every batch's newest record is on ``topic`` (up to the end offsets taken at the
    start), from a read of the records' heads only: the end offsets and the (partition, offset)
    of the records worth decoding. ``head`` decodes ``batch_code`` and ``version``; a record whose
    head it cannot read is kept, so that the full decoding names what is wrong with it."""
    reader = ChainTopicReader(kafka, topic, head)
    newest: dict[str, tuple[int, int, int]] = {}
    unread: set[tuple[int, int]] = set()
    try:
        for messages in reader.messages():
            for message in messages:
                value = message.value()
                if value is None:  # a tombstone
                    continue
                where = (message.partition(), message.offset())
                try:
                    decoded = head(value)
                    code, version = str(decoded["batch_code"]), int(decoded["version"])
                except Exception:  # decoded in full later, and reported there
                    unread.add(where)
                    continue
                current = newest.get(code)
                if current is None or version >= current[0]:
                    newest[code] = (version, *where)
    finally:
        reader.close()
    return reader.ends, unread | {(p, o) for _, p, o in newest.values()}
