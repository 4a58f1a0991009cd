"""Components started while a dependency is away wait for it instead of exiting.

Each test starts a real ``tracesync`` process while its registry or database is missing, sees
``/readyz`` answer 503 with a check naming what it waits for (``/healthz`` still 200), brings the
dependency up a few seconds later and checks that the component proceeds and the data arrives:
the store sink on PostgreSQL (a private server of this session, never the shared one) and with
the registry stopped, and the stream worker with the registry stopped. SIGTERM while waiting
ends the process cleanly, and a zero ``--startup-timeout`` fails at once as before.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.bootstrap import worker_topics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.registry import RunningRegistry
from tests.integration.test_metrics_scrape import free_port, get
from tests.integration.test_store_sink import (
    SinkProcess,
    encoded,
    expected_state,
    produce,
    store_state,
    versioned,
    wait_for,
)
from tests.integration.test_worker_pipeline import Plant
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.registry_client import SchemaRegistry
from tracesync.contracts.schemas import current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.contracts.wire_formats import ConfluentFormat
from tracesync.devtools.infra import registry as registry_infra
from tracesync.devtools.infra.private_postgres import PrivatePostgres
from tracesync.devtools.supervise import Component
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import Settings

pytestmark = pytest.mark.integration

AWAY_S = 5.0
"""How long the dependency stays away after the component reported that it waits."""


class Sinks:
    """Starts ``tracesync sink store`` processes on one test's topics; kills them at the end."""

    def __init__(self, bootstrap: str, topic: Callable[..., str], group: str, tmp: Path):
        self.bootstrap = bootstrap
        self.chain, self.alerts, self.dlq = topic("chain"), topic("alerts"), topic("dlq", 1)
        self.group = group
        self.tmp = tmp
        self.started: list[SinkProcess] = []

    def start(self, store_url: str, port: int, *extra: str, **env: str) -> SinkProcess:
        base = dict(os.environ) | {
            "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap,
            "TRACESYNC_HOME": str(self.tmp / "home"),
            "TRACESYNC_REGISTRY__ENABLED": "false",
            "TRACESYNC_STARTUP_BACKOFF_MAX_S": "1",
        }
        args = ["--store-url", store_url, "--group", self.group, "--metrics-port", str(port)]
        args += ["--chain-topic", self.chain, "--alerts-topic", self.alerts]
        args += ["--dlq-topic", self.dlq, *extra]
        sink = SinkProcess(args, base | env, self.tmp / f"sink-{len(self.started)}.log")
        self.started.append(sink)
        return sink


@pytest.fixture
def sinks(
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
    tmp_path: Path,
) -> Iterator[Sinks]:
    made = Sinks(kafka_broker.bootstrap_servers, unique_topic, unique_group("store"), tmp_path)
    yield made
    for sink in made.started:
        sink.kill()


def waiting_for(port: int, what: str, alive: Callable[[], str | None]) -> dict[str, bool]:
    """Wait until ``/readyz`` answers 503 with a failing check that starts with ``what``."""
    seen: list[tuple[int, bytes]] = []

    def says_it_waits() -> bool:
        dead = alive()
        assert dead is None, f"the component exited instead of waiting:\n{dead}"
        seen.append(get(f"http://127.0.0.1:{port}/readyz"))
        status, body = seen[-1]
        if status != 503:
            return False
        checks: dict[str, bool] = json.loads(body)["checks"]
        return any(name.startswith(what) and not ok for name, ok in checks.items())

    wait_for(says_it_waits, 90, f"/readyz naming {what!r}")
    assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200  # alive while it waits
    checks: dict[str, bool] = json.loads(seen[-1][1])["checks"]
    return checks


def exited(sink: SinkProcess) -> str | None:
    return None if sink.proc.poll() is None else sink.log()


def test_the_store_sink_waits_for_postgresql_at_start_and_then_stores_everything(
    private_postgres_url: str, private_postgres: PrivatePostgres, sinks: Sinks
) -> None:
    url = private_postgres_url
    records = [versioned(f"S-{i}", v) for v in (1, 2) for i in range(30)]
    produce(sinks.bootstrap, sinks.chain, encoded(records))
    port = free_port()
    private_postgres.stop()
    try:
        sink = sinks.start(url, port)
        checks = waiting_for(port, "waiting for trace store at postgresql", lambda: exited(sink))
        time.sleep(AWAY_S)
        assert sink.proc.poll() is None, sink.log()
    finally:
        private_postgres.start()
    password = private_postgres.settings.password.get_secret_value()
    assert not any(f":{password}@" in name for name in checks), checks
    wait_for(lambda: store_state(url) == expected_state(records), 120, "the store after the wait")
    wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 60, "ready")
    log = sink.log()
    assert "waiting for trace store at postgresql" in log and "attempt 2 failed" in log
    assert f":{password}@" not in log
    assert sink.stop() == 0, log


def test_the_store_sink_waits_for_the_registry_at_start(
    postgres_url: str, schema_registry: RunningRegistry, sinks: Sinks
) -> None:
    registry = schema_registry.settings
    port = free_port()
    registry_infra.stop(registry)
    try:
        sink = sinks.start(
            postgres_url,
            port,
            TRACESYNC_REGISTRY__ENABLED="true",
            TRACESYNC_REGISTRY__PORT=str(registry.registry.port),
        )
        waiting_for(port, "waiting for schema registry at http", lambda: exited(sink))
        time.sleep(AWAY_S)
        assert sink.proc.poll() is None, sink.log()
    finally:
        registry_infra.start(registry, schema_registry.cache_root)
    with SchemaRegistry(schema_registry.url) as client:
        serde = RecordSerde.confluent("TraceChain", client, sinks.chain)
        records = [versioned(f"R-{i}", 1) for i in range(20)]
        produce(sinks.bootstrap, sinks.chain, [(r["batch_code"], serde.encode(r)) for r in records])
    expected = expected_state(records)
    wait_for(lambda: store_state(postgres_url) == expected, 120, "chains in the store")
    assert "waiting for schema registry at http" in sink.log()
    assert sink.stop() == 0, sink.log()


def test_sigterm_while_waiting_exits_cleanly_and_a_zero_timeout_fails_at_once(
    sinks: Sinks,
) -> None:
    unreachable = "postgresql+psycopg://tracesync:not-logged@127.0.0.1:9/tracesync"
    port = free_port()
    sink = sinks.start(unreachable, port)
    waiting_for(port, "waiting for trace store", lambda: exited(sink))
    os.killpg(sink.proc.pid, signal.SIGTERM)
    assert sink.proc.wait(60) == 0, sink.log()
    log = sink.log()
    assert "nothing was started" in log and "not-logged" not in log

    failing = sinks.start(unreachable, free_port(), "--startup-timeout", "0")
    assert failing.proc.wait(60) == 1, failing.log()
    assert "did not answer within 0 s" in failing.log()


def worker_ready(worker: Component, port: int) -> bool:
    assert worker.alive(), worker.log_tail()
    return get(f"http://127.0.0.1:{port}/readyz")[0] == 200


def test_the_worker_waits_for_the_registry_at_start_and_then_builds_the_chains(
    kafka_broker: KafkaBroker,
    schema_registry: RunningRegistry,
    unique_group: Callable[..., str],
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"{unique_group('wait')}.",
        source_partitions=3,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry=schema_registry.settings.registry,
        worker={"app_id": unique_group("worker"), "settle_s": 2.0, "take_within_s": 0.02},
        metrics={"port": port},
        startup_backoff_max_s=1.0,
    )
    worker = Component(["worker", "--loglevel", "warning"], settings, tmp_path / "worker.log")
    registry_infra.stop(schema_registry.settings)
    try:
        worker.start()
        waiting_for(
            port,
            "waiting for schema registry at http",
            lambda: None if worker.alive() else worker.log_tail(),
        )
        time.sleep(AWAY_S)
        assert worker.alive(), worker.log_tail()
    finally:
        registry_infra.start(schema_registry.settings, schema_registry.cache_root)
    try:
        # publish only once the worker has created its topics and joined its group: a record
        # sent earlier makes the broker auto-create a 1-partition topic the worker then refuses
        wait_for(lambda: worker_ready(worker, port), 120, "the worker ready after the wait")
        plant = Plant()
        plant.batch("RAW-9", "500", [])
        plant.batch("FG-9", "50", ["RAW-9"], minute=20)
        topic = worker_topics(settings).chain
        # clients of this test's own, closed after (the bootstrap's stay open for the process)
        with SchemaRegistry(schema_registry.url) as client:
            serde = EnvelopeSerde(ConfluentFormat(client, current()), schemas=current())
            sources = bootstrap.catalog(settings)
            records = [
                OutboundRecord.keyed_by_batch(
                    sources.source_topic(e["source_system"]), e["batch_code"], serde.encode(e)
                )
                for e in plant.events
            ]
            decode = RecordSerde.confluent("TraceChain", client, topic).decode
        with KafkaPublisher(settings.kafka, settings.producer) as publisher:
            publisher.publish(records)
        chains = TopicReader(settings, topic, decode)

        def built() -> bool:
            assert worker.alive(), worker.log_tail()
            chains.poll()
            return {"RAW-9", "FG-9"} <= set(chains.latest)

        wait_for(built, 120, "the chains after the registry came back")
        chains.close()
        assert "waiting for schema registry at http" in worker.log_path.read_text()
    finally:
        stopped = worker.stop()
    assert stopped == 0, worker.log_tail()
