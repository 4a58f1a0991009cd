"""Latency per hop, from the records' own timestamps and the store's write time.

After a latency run, for every batch in the store:

- ``source_to_chain``: the broker timestamp of the batch's final chain record on the chain
  topic (the last one of its key, in offset order) minus the timestamp of its latest source
  record (the last event the chain can include): the worker's share, queueing included;
- ``chain_to_store``: the store's ``stored_at`` of the batch minus that chain record's
  timestamp: the store sink's share;
- ``source_to_store``: the two together.

Timestamps are the producers' create times (librdkafka's default), on this machine's clock like
``stored_at``. Percentiles p50/p95/p99 and the maximum, in milliseconds. The warm-up batch
(:mod:`.ready`) is left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from sqlalchemy import create_engine, text

from tracesync.devtools.bench.measure import percentile
from tracesync.devtools.bench.ready import WARM_UP_BATCH
from tracesync.kafka_clients import consumer_config
from tracesync.settings import Settings

HOPS = ("source_to_chain", "chain_to_store", "source_to_store")
_IDLE_POLLS = 3


def _latest_timestamps(
    settings: Settings, topics: Sequence[str], *, last: bool
) -> dict[bytes, int]:
    """Per key: the timestamp (ms) of its last record (``last``) or its newest one (max)."""
    consumer = Consumer(
        consumer_config(settings.kafka, f"bench-hops-{uuid.uuid4().hex[:8]}")
        | {"enable.auto.commit": False}
    )
    out: dict[bytes, int] = {}
    try:
        ends: dict[tuple[str, int], int] = {}
        assignment = []
        for topic in topics:
            metadata = consumer.list_topics(topic, timeout=10).topics[topic]
            for partition in metadata.partitions:
                high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)[1]
                if high > 0:
                    ends[(topic, partition)] = high
                    assignment.append(TopicPartition(topic, partition, OFFSET_BEGINNING))
        consumer.assign(assignment)
        idle = 0
        while ends and idle < _IDLE_POLLS:  # a transaction marker can be a partition's last
            messages = consumer.consume(10_000, timeout=1.0)
            idle = 0 if messages else idle + 1
            for message in messages:
                if message.error() is not None:
                    continue
                where = (message.topic(), message.partition())
                key, stamp = message.key(), message.timestamp()[1]
                if key is not None:
                    out[key] = stamp if last else max(stamp, out.get(key, stamp))
                if where in ends and message.offset() + 1 >= ends[where]:
                    del ends[where]
    finally:
        consumer.close()
    return out


def _stored_at_ms(store_url: str) -> dict[bytes, int]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT batch_code, stored_at FROM batches")).all()
    finally:
        engine.dispose()
    out = {}
    for code, stored_at in rows:
        if stored_at is None:
            continue
        moment = stored_at if isinstance(stored_at, datetime) else datetime.fromisoformat(stored_at)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        out[str(code).encode()] = int(moment.timestamp() * 1000)
    return out


def _summary(samples: Iterable[float]) -> dict[str, Any]:
    values = sorted(samples)
    return {
        "samples": len(values),
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": values[-1] if values else None,
    }


def hop_latencies(
    settings: Settings, sources: Sequence[str], chain: str, store_url: str
) -> dict[str, Any]:
    """p50/p95/p99 of each hop over the batches in the store (see the module's doc)."""
    source = _latest_timestamps(settings, sources, last=False)
    chained = _latest_timestamps(settings, [chain], last=True)
    stored = _stored_at_ms(store_url)
    stored.pop(WARM_UP_BATCH.encode(), None)
    return hops_between(source, chained, stored)


def hops_between(
    source: dict[bytes, int], chained: dict[bytes, int], stored: dict[bytes, int]
) -> dict[str, Any]:
    """The hops' summaries from per-batch times (ms): latest source record, final chain, store.

    A batch missing from any of the three is left out of every hop, so the hops count the same
    batches.
    """
    hops: dict[str, list[float]] = {name: [] for name in HOPS}
    for code, at in stored.items():
        if code not in source or code not in chained:
            continue
        hops["source_to_chain"].append(chained[code] - source[code])
        hops["chain_to_store"].append(at - chained[code])
        hops["source_to_store"].append(at - source[code])
    return {name: _summary(samples) for name, samples in hops.items()}
