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
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from sqlalchemy import Engine, func, make_url, select, text

from sinks.bootstrap import build_store_sink
from sinks.observe import MeteredWriter
from sinks.store import schema
from sinks.store.database import TraceStore, create_store_engine
from sinks.store.sink import StoreSink
from sinks.topics import SinkTopics
from tracesync.bootstrap import record_serde
from tracesync.collector import tuned_collector
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


@dataclass(frozen=True)
class _Drained:
    join_s: float
    seconds: float
    cpu_s: float  # of this process (the sink's threads and librdkafka's) while it drained
    completed: bool


def _drain(sink: StoreSink, expected: int, timeout_s: float) -> _Drained:
    """Run the sink until ``expected`` records are committed; timed from the first record."""
    stop = threading.Event()
    runner = threading.Thread(target=sink.run, args=(stop,), name="bench-store-sink")
    launched = time.perf_counter()
    runner.start()
    first: tuple[float, float] | None = None
    deadline = launched + timeout_s
    try:
        while sink.stats.committed < expected and time.perf_counter() < deadline:
            if first is None and sink.stats.records:
                first = (time.perf_counter(), time.process_time())
            if not runner.is_alive():
                break
            time.sleep(0.005)
        ended = (time.perf_counter(), time.process_time())
    finally:
        stop.set()
        runner.join(60)
    began = first or ended
    return _Drained(
        join_s=began[0] - launched,
        seconds=max(ended[0] - began[0], 1e-6),
        cpu_s=ended[1] - began[1],
        completed=sink.stats.committed >= expected,
    )


def _stored_batches(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.batches)).scalar_one())


def _backend_cpu_s(engine: Engine) -> float | None:
    """CPU seconds of the PostgreSQL server processes serving this engine's database (local
    server only; the database is fresh, so they are the sink's connections)."""
    if engine.dialect.name != "postgresql":
        return None
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    with engine.connect() as conn:
        pids = [int(p) for p in conn.execute(query).scalars()]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None  # not a local server
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return round(total, 2)


def measure_store_sink(
    settings: Settings,
    store_url: str,
    chains: int,
    *,
    versions: int = 2,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Chains/s through the real store sink from a fresh topic into ``store_url``.

    Besides wall-clock chains/s it reports the CPU the sink's process used per chain (and, on a
    local PostgreSQL, the server processes' CPU), which say more than wall time on a busy
    machine.
    """
    run = uuid.uuid4().hex[:8]
    topics = bench_topics(settings, run)
    published = publish_chains(settings, topics.chain, chains, versions)
    sink = build_store_sink(
        settings, store_url=store_url, topics=topics, group=f"bench-store-{run}"
    )
    with tuned_collector():  # as in the sink process
        drained = _drain(sink, published, timeout_s)
    stats = sink.stats
    engine = create_store_engine(store_url)
    try:
        db_cpu_s = _backend_cpu_s(engine)
        stored = _stored_batches(engine)
    finally:
        engine.dispose()
        store = sink.writer.inner if isinstance(sink.writer, MeteredWriter) else sink.writer
        if isinstance(store, TraceStore):
            store.engine.dispose()
    per_chain = 1e6 / max(stats.committed, 1)
    return {
        "dialect": make_url(store_url).get_backend_name(),
        "write_method": getattr(sink.writer, "method", None),
        "chains": published,
        "versions_per_batch": versions,
        "completed": drained.completed,
        "join_s": round(drained.join_s, 2),
        "seconds": round(drained.seconds, 2),
        "chains_per_s": round(stats.committed / drained.seconds),
        "sink_cpu_us_per_chain": round(drained.cpu_s * per_chain, 1),
        "db_server_cpu_us_per_chain": None if db_cpu_s is None else round(db_cpu_s * per_chain, 1),
        "transactions": stats.transactions,
        "chains_written": stats.chains_written,
        "chains_stale": stats.chains_stale,
        "dead_letters": stats.dead_letters,
        "batches_in_store": stored,
        "batch_max_records": settings.store.batch_max_records,
    }


def measure_default_stores(settings: Settings, chains: int, versions: int) -> list[dict[str, Any]]:
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
            results = measure_default_stores(settings, args.chains, args.versions)
    finally:
        infra.close()
    print(json.dumps({"store_sink": results}, indent=2))


def _err(message: str) -> None:
    print(f"[bench.store] {message}", file=sys.stderr)


if __name__ == "__main__":
    main()
