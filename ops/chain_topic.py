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


class ChainTopicReader:
    """Reads ``topic`` from ``start`` (default: each partition's beginning) to the end offsets
    taken when it opened (:attr:`ends`), in decoded batches; undecodable records are noted."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        decode: Decoder,
        start: Mapping[int, int] | None = None,
    ) -> None:
        self.topic = topic
        self._decode = decode
        self._consumer = Consumer(consumer_config(kafka, "tracesync-ops-reader"))
        self.ends, self.total = self._assign(start or {})
        self.read = 0
        self.undecodable: list[str] = []

    def close(self) -> None:
        self._consumer.close()

    def batches(self) -> Iterator[list[Record]]:
        """Decoded records in read order, a consumed batch at a time, until every end."""
        remaining = {p for p, (first, end) in self._ranges.items() if end > first}
        while remaining:
            decoded: list[Record] = []
            for message in self._consumer.consume(_BATCH, timeout=_POLL_S):
                if message.error() is not None:
                    raise TracesyncError(f"reading {self.topic}: {message.error()}")
                self.read += 1
                record = self._decoded(message)
                if record is not None:
                    decoded.append(record)
            remaining -= self._finished(remaining)
            yield decoded

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

    def _assign(self, start: Mapping[int, int]) -> tuple[dict[int, int], int]:
        metadata = self._consumer.list_topics(self.topic, timeout=15).topics.get(self.topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise ConfigurationError(f"topic {self.topic!r} does not exist on the broker")
        self._ranges: dict[int, tuple[int, int]] = {}
        for p in sorted(metadata.partitions):
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=15
            )
            self._ranges[p] = (max(low, start.get(p, low)), high)
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
