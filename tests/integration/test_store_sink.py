"""The store sink as a real process against the real broker, on SQLite and PostgreSQL.

Shown here: the newest version of every chain ends up in the store whatever the arrival order;
undecodable records go to the dead-letter topic with their origin; offsets are committed only
after the database commit (SIGKILL mid-run, restart, same end state); a PostgreSQL outage pauses
the sink, which resumes afterwards without losing anything.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from sqlalchemy import select

from sinks.store import schema
from sinks.store.database import create_store_engine
from tests.fixtures.kafka import KafkaBroker
from tests.unit.store_plant import T0, chain
from tracesync.contracts.record_serde import RecordSerde
from tracesync.devtools.infra.private_postgres import PrivatePostgres

pytestmark = pytest.mark.integration

TRACESYNC = str(Path(sys.executable).parent / "tracesync")
CHAINS = RecordSerde.single_object("TraceChain")
ALERTS = RecordSerde.single_object("Alert")


@dataclass(frozen=True)
class Wiring:
    """Broker, topics and consumer group of one test's sink."""

    bootstrap: str
    chain: str
    alerts: str
    dlq: str
    group: str


class SinkProcess:
    """``tracesync sink store`` as a child process with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [TRACESYNC, "sink", "store", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)
        return self.proc.returncode


@pytest.fixture
def wiring(
    kafka_broker: KafkaBroker, unique_topic: Callable[..., str], unique_group: Callable[..., str]
) -> Wiring:
    return Wiring(
        kafka_broker.bootstrap_servers,
        unique_topic("chain"),
        unique_topic("alerts"),
        unique_topic("dlq", 1),
        unique_group("store"),
    )


@pytest.fixture
def start_sink(tmp_path: Path, wiring: Wiring) -> Iterator[Callable[..., SinkProcess]]:
    """Factory ``start_sink(store_url, **store_settings)``; every sink is killed after the test."""
    started: list[SinkProcess] = []
    topics = wiring

    def start(store_url: str, **store: object) -> SinkProcess:
        env = dict(os.environ)
        env["TRACESYNC_KAFKA__BOOTSTRAP_SERVERS"] = wiring.bootstrap
        env["TRACESYNC_HOME"] = str(tmp_path / "home")
        env["TRACESYNC_REGISTRY__ENABLED"] = "false"  # single-object; the registry path: e2e
        store = {"session_timeout_ms": 6000} | store  # a killed sink's partitions move soon
        env |= {f"TRACESYNC_STORE__{k.upper()}": str(v) for k, v in store.items()}
        args = ["--store-url", store_url, "--group", wiring.group]
        args += ["--chain-topic", topics.chain, "--alerts-topic", topics.alerts]
        args += ["--dlq-topic", topics.dlq]
        sink = SinkProcess(args, env, tmp_path / f"sink-{len(started)}.log")
        started.append(sink)
        return sink

    yield start
    for sink in started:
        sink.kill()


def produce(bootstrap: str, topic: str, items: list[tuple[str, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for key, value in items:
        producer.produce(topic, key=key.encode(), value=value)
        producer.poll(0)
    assert producer.flush(30) == 0


def versioned(code: str, version: int) -> dict[str, Any]:
    """A chain whose content (parent lot, stock location) says which version it is."""
    return chain(
        code,
        version,
        product="P",
        consumes=[(f"LOT-{code}-{version % 3}", "RM", str(version))],
        stock=[(f"WH-{version}", str(version))],
    )


def shuffled_versions(codes: list[str], versions: int, seed: int) -> list[dict[str, Any]]:
    """Every version of every code, each code's versions in a random order, codes interleaved."""
    rng = random.Random(seed)
    per_code = {c: rng.sample(range(1, versions + 1), versions) for c in codes}
    return [versioned(c, per_code[c][i]) for i in range(versions) for c in codes]


def encoded(records: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    return [(r["batch_code"], CHAINS.encode(r)) for r in records]


def expected_state(records: list[dict[str, Any]]) -> dict[str, tuple[int, frozenset[str]]]:
    """Batch code -> (highest version, its parent lots)."""
    best: dict[str, dict[str, Any]] = {}
    for r in records:
        if r["batch_code"] not in best or r["version"] > best[r["batch_code"]]["version"]:
            best[r["batch_code"]] = r
    return {
        code: (r["version"], frozenset(c["parent_lot"] for c in r["consumptions"]))
        for code, r in best.items()
    }


def store_state(url: str) -> dict[str, tuple[int, frozenset[str]]]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            versions = dict(
                (str(code), int(v))
                for code, v in conn.execute(
                    select(schema.batches.c.batch_code, schema.batches.c.version)
                )
            )
            edges: dict[str, set[str]] = {}
            query = select(schema.genealogy_edges.c.child_code, schema.genealogy_edges.c.parent_lot)
            for child, parent in conn.execute(query):
                edges.setdefault(str(child), set()).add(str(parent))
    except Exception:  # the store may not exist yet, or be down: not there yet
        return {}
    finally:
        engine.dispose()
    return {code: (v, frozenset(edges.get(code, ()))) for code, v in versions.items()}


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.2)


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offset per partition (-1001 = none); retried while the group
    coordinator is still loading."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        for _ in range(50):
            try:
                tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], 10)
            except KafkaException:
                time.sleep(0.2)
                continue
            return {tp.partition: tp.offset for tp in tps}
        pytest.fail(f"cannot read the committed offsets of {group}")
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
            for p in range(partitions)
        }
    finally:
        consumer.close()


def read_all(bootstrap: str, topic: str, count: int) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline = time.monotonic() + 30
    while len(messages) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            messages.append(message)
    consumer.close()
    return messages


def test_sink_stores_the_newest_versions_and_dead_letters_bad_records(
    store_url: str,
    wiring: Wiring,
    start_sink: Callable[..., SinkProcess],
) -> None:
    bootstrap, topics, group = wiring.bootstrap, wiring, wiring.group
    records = shuffled_versions([f"B-{i}" for i in range(20)], 6, seed=1)
    items = encoded(records)
    items.insert(17, ("BAD-1", b"this is not avro"))
    produce(bootstrap, topics.chain, items)
    alert = {
        "alert_id": "0b5f8d8e-3f4c-4d55-8c1e-9a0f6a7b0001",
        "batch_code": "B-1",
        "kind": "HOLD_PLACED",
        "subject": "H-1",
        "message": "hold placed",
        "origin_code": "B-1",
        "occurred_at": T0,
    }
    produce(bootstrap, topics.alerts, [("B-1", ALERTS.encode(alert))] * 2)
    sink = start_sink(store_url, batch_max_records=25)

    expected = expected_state(records)
    wait_for(lambda: store_state(store_url) == expected, 90, "the newest version of each chain")
    (letter,) = read_all(bootstrap, topics.dlq, 1)
    headers = {k: v.decode() for k, v in letter.headers()}
    assert letter.key() == b"BAD-1"
    assert letter.value() == b"this is not avro"
    assert headers["dlq.stage"] == "sinks.store.decode"
    assert headers["dlq.topic"] == topics.chain
    assert "TraceChain" in headers["dlq.reason"]
    engine = create_store_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(select(schema.alerts.c.alert_id)).scalars().all() == [alert["alert_id"]]
    engine.dispose()

    wait_for(
        lambda: (
            committed(bootstrap, group, topics.chain, 3) == end_offsets(bootstrap, topics.chain, 3)
        ),
        30,
        "offsets of every stored record to be committed",
    )
    assert sink.stop() == 0, sink.log()
    assert "store sink stopped" in sink.log()


def test_sink_killed_mid_run_has_committed_only_stored_records_and_recovers(
    store_url: str,
    wiring: Wiring,
    start_sink: Callable[..., SinkProcess],
) -> None:
    bootstrap, topics, group = wiring.bootstrap, wiring, wiring.group
    records = shuffled_versions([f"K-{i}" for i in range(400)], 10, seed=2)
    produce(bootstrap, topics.chain, encoded(records))
    sink = start_sink(store_url, batch_max_records=40)

    wait_for(
        lambda: any(o >= 0 for o in committed(bootstrap, group, topics.chain, 3).values()),
        90,
        "a first commit",
    )
    sink.kill()
    at_kill = committed(bootstrap, group, topics.chain, 3)
    stored = store_state(store_url)
    consumed = read_all(bootstrap, topics.chain, len(records))
    covered = [m for m in consumed if m.offset() < at_kill.get(m.partition(), -1)]
    # Every record below a committed offset is in the store (the same version or a newer one).
    for message in covered:
        record = CHAINS.decode(message.value())
        assert stored[record["batch_code"]][0] >= record["version"]
    print(f"at SIGKILL: {len(covered)}/{len(records)} records committed, {len(stored)} batches")

    start_sink(store_url, batch_max_records=40)
    expected = expected_state(records)
    wait_for(lambda: store_state(store_url) == expected, 120, "the store to reach the final chains")


OUTAGE_S = 30  # as long as the issue asks: the sink must ride out half a minute of no database


def test_sink_pauses_during_a_postgresql_outage_and_resumes_without_loss(
    private_postgres_url: str,
    private_postgres: PrivatePostgres,
    wiring: Wiring,
    start_sink: Callable[..., SinkProcess],
) -> None:
    bootstrap, topics, group = wiring.bootstrap, wiring, wiring.group
    codes = [f"O-{i}" for i in range(100)]
    first = shuffled_versions(codes, 3, seed=3)
    produce(bootstrap, topics.chain, encoded(first))
    postgres_url = private_postgres_url  # a server of this session's own: stopping it is ours
    sink = start_sink(postgres_url, batch_max_records=50, retry_initial_s=0.2, retry_max_s=2)
    wait_for(lambda: store_state(postgres_url) == expected_state(first), 90, "the first part")

    private_postgres.stop()
    try:
        second = [versioned(code, v) for v in (7, 4, 5) for code in codes]
        produce(bootstrap, topics.chain, encoded(second))
        time.sleep(OUTAGE_S)
        assert sink.proc.poll() is None, sink.log()
    finally:
        private_postgres.start()

    expected = expected_state(first + second)
    wait_for(lambda: store_state(postgres_url) == expected, 120, "the store after the outage")
    wait_for(
        lambda: (
            committed(bootstrap, group, topics.chain, 3) == end_offsets(bootstrap, topics.chain, 3)
        ),
        30,
        "every offset committed after the outage",
    )
    log = sink.log()
    assert "trace store unavailable, pausing consumption" in log
    assert "trace store back, resuming consumption" in log
    assert sink.stop() == 0, log
