"""Store sink throughput: chains/s through the real StoreSink, from a real topic into a store.

:func:`measure_store_sink` publishes ``chains`` synthetic ``TraceChain`` records (the synthetic
plant of ``tracesync store fill-synthetic``, ``versions`` versions of each batch, every version
after the first published again later) to fresh topics, runs the store sink built by
``sinks/bootstrap.py`` in this process against the given store URL, and times it from the first
record it consumes until the offsets of the last one are committed. The group join before the
first record is reported apart (``join_s``). Speed is measured and reported, never asserted.

    python -m tracesync.devtools.bench.store --chains 20000            # SQLite and PostgreSQL
    python -m tracesync.devtools.bench.store --chains 20000 --store-url sqlite:///var/x.db

The entry starts the local broker (and registry, when enabled) unless they already run, and, for
PostgreSQL, creates a database of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from confluent_kafka import Producer
from sqlalchemy import func, make_url, select

from sinks.bootstrap import build_store_sink
from sinks.store import schema
from sinks.store.database import create_store_engine
from sinks.store.sink import StoreSink
from sinks.topics import SinkTopics
from tracesync.bootstrap import record_serde
from tracesync.devtools.infra import postgres
from tracesync.devtools.pipeline import LocalPipeline
from tracesync.devtools.synthetic import synthetic_records
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import admin_client, producer_config
from tracesync.settings import Settings, load_settings
from tracesync.topics import TopicCatalog, TopicRole, TopicSpec, apply

PARTITIONS = 3


def bench_topics(settings: Settings, run: str, partitions: int = PARTITIONS) -> SinkTopics:
    """Fresh chain, alert and dead-letter topics for one measurement."""
    base = f"{settings.topic_prefix}bench-store-{run}"
    topics = SinkTopics(f"{base}.chain", f"{base}.alerts", f"{base}.dlq")
    specs = tuple(
        TopicSpec(name, partitions, "batch_code", TopicRole.INTERNAL)
        for name in (topics.chain, topics.alerts, topics.dead_letter)
    )
    apply(admin_client(settings.kafka), TopicCatalog("", specs))
    return topics


def _versions_of(chains: int, versions: int) -> Iterator[dict[str, Any]]:
    """``chains`` records: every batch of the plant once per version, versions in order."""
    batches = max(1, chains // versions)
    records = list(synthetic_records(batches))
    produced = 0
    for version in range(1, versions + 1):
        for record in records:
            if produced == chains:
                return
            produced += 1
            yield record | {"version": version}


def publish_chains(settings: Settings, topic: str, chains: int, versions: int) -> int:
    """Encode and publish the records; the count the broker acknowledged."""
    serde = record_serde(settings, "TraceChain", topic)
    producer = Producer(producer_config(settings.kafka, settings.producer))
    count = 0
    for record in _versions_of(chains, versions):
        value = serde.encode(record)
        while True:
            try:
                producer.produce(topic, key=record["batch_code"].encode(), value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        count += 1
    if producer.flush(120) != 0:
        raise InfrastructureError("the broker did not acknowledge every benchmark record")
    return count


def _drain(sink: StoreSink, expected: int, timeout_s: float) -> tuple[float, float, bool]:
    """Run the sink until ``expected`` records are committed: (join seconds, seconds, done)."""
    stop = threading.Event()
    runner = threading.Thread(target=sink.run, args=(stop,), name="bench-store-sink")
    launched = time.perf_counter()
    runner.start()
    first: float | None = None
    deadline = launched + timeout_s
    try:
        while sink.stats.committed < expected and time.perf_counter() < deadline:
            if first is None and sink.stats.records:
                first = time.perf_counter()
            if not runner.is_alive():
                break
            time.sleep(0.005)
        ended = time.perf_counter()
    finally:
        stop.set()
        runner.join(60)
    began = first if first is not None else ended
    return began - launched, max(ended - began, 1e-6), sink.stats.committed >= expected


def _stored_batches(store_url: str) -> int:
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.batches)).scalar_one())
    finally:
        engine.dispose()


def measure_store_sink(
    settings: Settings,
    store_url: str,
    chains: int,
    *,
    versions: int = 2,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Chains/s through the real store sink from a fresh topic into ``store_url``."""
    run = uuid.uuid4().hex[:8]
    topics = bench_topics(settings, run)
    published = publish_chains(settings, topics.chain, chains, versions)
    sink = build_store_sink(
        settings, store_url=store_url, topics=topics, group=f"bench-store-{run}"
    )
    join_s, seconds, completed = _drain(sink, published, timeout_s)
    stats = sink.stats
    return {
        "dialect": make_url(store_url).get_backend_name(),
        "chains": published,
        "versions_per_batch": versions,
        "completed": completed,
        "join_s": round(join_s, 2),
        "seconds": round(seconds, 2),
        "chains_per_s": round(stats.committed / seconds),
        "transactions": stats.transactions,
        "chains_written": stats.chains_written,
        "chains_stale": stats.chains_stale,
        "dead_letters": stats.dead_letters,
        "batches_in_store": _stored_batches(store_url),
        "batch_max_records": settings.store.batch_max_records,
    }


def _measure_default_stores(settings: Settings, chains: int, versions: int) -> list[dict[str, Any]]:
    """A fresh SQLite file and a fresh PostgreSQL database (dropped afterwards)."""
    run = uuid.uuid4().hex[:8]
    folder = (settings.home / "bench" / f"store-{run}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    results = [
        measure_store_sink(settings, f"sqlite:///{folder / 'store.db'}", chains, versions=versions)
    ]
    database = f"bench_store_{run}"
    postgres.create_database(settings.postgres, database)
    try:
        url = postgres.sqlalchemy_url(settings.postgres, database)
        results.append(measure_store_sink(settings, url, chains, versions=versions))
    finally:
        postgres.drop_database(settings.postgres, database)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tracesync.devtools.bench.store")
    parser.add_argument("--chains", type=int, default=20_000, help="chain records to publish")
    parser.add_argument("--versions", type=int, default=2, help="versions of each batch")
    parser.add_argument(
        "--store-url", action="append", help="store(s) to measure (default: SQLite + PostgreSQL)"
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    infra = LocalPipeline(settings, settings.home / "bench" / "store-logs", echo=_err)
    infra.up_infrastructure()
    try:
        if args.store_url:
            results = [
                measure_store_sink(settings, url, args.chains, versions=args.versions)
                for url in args.store_url
            ]
        else:
            results = _measure_default_stores(settings, args.chains, args.versions)
    finally:
        infra.close()
    print(json.dumps({"store_sink": results}, indent=2))


def _err(message: str) -> None:
    print(f"[bench.store] {message}", file=sys.stderr)


if __name__ == "__main__":
    main()
