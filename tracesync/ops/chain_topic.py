"""Read a compacted chain topic to its current end: the newest version of every batch.

Every partition is read from its start to the high watermark taken when reading begins, without
joining a consumer group (nothing is committed, no running component is disturbed). A batch's
newest version wins, whatever the order its records are in (a re-driven old chain can be the
last record of its key). Records that cannot be decoded are counted and named, not fatal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
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


def read_chain_topic(
    kafka: KafkaSettings,
    topic: str,
    decode: Decoder,
    progress: Progress | None = None,
) -> TopicSnapshot:
    """Every batch's newest chain on ``topic``, read up to the end offsets taken at the start."""
    consumer = Consumer(consumer_config(kafka, "tracesync-ops-reader"))
    try:
        ends = _assign_to_start(consumer, topic)
        total = sum(high - low for low, high in ends.values())
        snapshot = TopicSnapshot()
        remaining = {p for p, (low, high) in ends.items() if high > low}
        while remaining:
            for message in consumer.consume(_BATCH, timeout=_POLL_S):
                if message.error() is not None:
                    raise TracesyncError(f"reading {topic}: {message.error()}")
                _take(snapshot, message, decode)
                if message.offset() >= ends[message.partition()][1] - 1:
                    remaining.discard(message.partition())
            if progress is not None:
                progress(snapshot.records, total)
        return snapshot
    finally:
        consumer.close()


def _take(snapshot: TopicSnapshot, message: Any, decode: Decoder) -> None:
    snapshot.records += 1
    value = message.value()
    if value is None:  # a tombstone: nothing to compare
        return
    try:
        _keep_newest(snapshot, decode(value))
    except Exception as exc:  # a bad record is a finding, not a crash
        where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
        snapshot.undecodable.append(f"{where}: {type(exc).__name__}: {exc}")


def _assign_to_start(consumer: Consumer, topic: str) -> dict[int, tuple[int, int]]:
    metadata = consumer.list_topics(topic, timeout=15).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise ConfigurationError(f"topic {topic!r} does not exist on the broker")
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)
        for p in sorted(metadata.partitions)
    }
    consumer.assign([TopicPartition(topic, p, low) for p, (low, _high) in ends.items()])
    return ends
