"""Measure the store sink's throughput (chains/s, Kafka -> trace store) on SQLite and PostgreSQL.

Starts its own single Kafka node on the test slot's ports (the same ones the pytest fixtures use,
so do not run it while that slot's tests run), produces ``--chains`` synthetic chain records
(``--versions`` versions of each batch), drains them with the store sink in-process into a fresh
SQLite file and a fresh PostgreSQL database, prints chains/s, and stops the broker.

    TRACESYNC_TEST_SLOT=6 .venv/bin/python -m tests.perf.store_bench --chains 20000
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
import uuid

from confluent_kafka import Consumer, Producer

from sinks.store.database import open_store
from sinks.store.sink import SinkTopics, StoreSink, consumer_config
from tests.fixtures.kafka import SINGLE_BROKER_PORT, SINGLE_CONTROLLER_PORT, kafka_test_settings
from tests.slot import REPO_ROOT, TEST_HOME
from tracesync.contracts.record_serde import RecordSerde
from tracesync.devtools.infra import kafka as infra
from tracesync.devtools.infra import postgres
from tracesync.devtools.synthetic import synthetic_records
from tracesync.settings import KafkaSettings, StoreSettings, load_settings


def produce(bootstrap: str, topic: str, chains: int, versions: int) -> int:
    serde = RecordSerde.single_object("TraceChain")
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4"}
    )
    count = 0
    records = list(synthetic_records(chains // versions))
    for version in range(1, versions + 1):
        for record in records:
            value = serde.encode(record | {"version": version})
            producer.produce(topic, key=record["batch_code"].encode(), value=value)
            producer.poll(0)
            count += 1
    producer.flush(60)
    return count


def drain(bootstrap: str, topics: SinkTopics, url: str, expected: int) -> float:
    store = open_store(url)
    options = StoreSettings()
    group = f"bench-{uuid.uuid4().hex[:8]}"
    sink = StoreSink(
        store,
        topics,
        options,
        Consumer(consumer_config(bootstrap, group)),
        Producer({"bootstrap.servers": bootstrap}),
    )
    stop = threading.Event()
    runner = threading.Thread(target=sink.run, args=(stop,))
    started = time.perf_counter()
    runner.start()
    while sink.stats.committed < expected:
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    stop.set()
    runner.join()
    dialect = url.split(":", maxsplit=1)[0]
    rate = expected / elapsed
    print(f"  {dialect}: {expected} chains in {elapsed:.1f} s = {rate:.0f} chains/s; {sink.stats}")
    store.engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chains", type=int, default=20_000)
    parser.add_argument("--versions", type=int, default=2)
    args = parser.parse_args()
    root = TEST_HOME / "bench-kafka"
    settings = kafka_test_settings(
        root, broker_port=SINGLE_BROKER_PORT, controller_port=SINGLE_CONTROLLER_PORT
    )
    runtime = infra.KafkaRuntime(
        KafkaSettings().version, REPO_ROOT / "var" / "cache" / f"kafka-{KafkaSettings().version}"
    )
    cluster = infra.single_node(settings, data_dir=root / "node", runtime=runtime)
    cluster.down(timeout_s=10)
    shutil.rmtree(root, ignore_errors=True)
    cluster.up(settings.kafka.start_timeout_s)
    pg = load_settings().postgres
    database = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        bootstrap = cluster.bootstrap_servers
        topics = SinkTopics("bench.chain", "bench.alerts", "bench.dlq")
        for name in (topics.chain, topics.alerts, topics.dead_letter):
            infra.ensure_topic(bootstrap, name, 3, 1)
        count = produce(bootstrap, topics.chain, args.chains, args.versions)
        print(f"produced {count} chain records ({args.versions} versions per batch)")
        drain(bootstrap, topics, f"sqlite:///{root / 'bench.db'}", count)
        postgres.create_database(pg, database)
        try:
            drain(bootstrap, topics, postgres.sqlalchemy_url(pg, database), count)
        finally:
            postgres.drop_database(pg, database)
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
