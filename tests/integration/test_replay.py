"""``tracesync replay`` against the real broker: dry run, refusal while active, and convergence.

A replayed store sink ends with the same store (same checksum) and a replayed targets sink sends
nothing twice; a group with a running member is never reset.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer

from sinks.topics import SinkTopics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import RunningSink, TargetServer, wait_until
from tests.integration.test_store_sink import (
    CHAINS,
    SinkProcess,
    committed,
    end_offsets,
    store_state,
    versioned,
)
from tests.integration.test_targets_http import example_config
from tracesync import bootstrap
from tracesync.cli import main
from tracesync.kafka_clients import producer_config
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog

pytestmark = pytest.mark.integration

PARTITIONS = 3
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def replay_settings(kafka_broker: KafkaBroker, tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    prefix = f"replay-{uuid.uuid4().hex[:8]}."
    env = {
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "TRACESYNC_TOPIC_PREFIX": prefix,
        "TRACESYNC_SOURCE_PARTITIONS": str(PARTITIONS),
        "TRACESYNC_HOME": str(tmp_path / "home"),
        "TRACESYNC_REGISTRY__ENABLED": "false",
        "TRACESYNC_STORE__SINK_GROUP": f"{prefix}store",
        "TRACESYNC_STORE__SESSION_TIMEOUT_MS": "6000",
    }
    settings = Settings(
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        topic_prefix=prefix,
        source_partitions=PARTITIONS,
        home=tmp_path / "home",
        registry={"enabled": False},
        store={"sink_group": f"{prefix}store"},
    )
    bootstrap.ensure_topics(settings)
    return settings, env


def publish_two_hours(settings: Settings, codes: list[str]) -> None:
    """Versions 1-2 of every chain an hour before versions 3-4 (record timestamps)."""
    topic = TopicCatalog.from_settings(settings).topic("trace.chain").name
    # idempotent, like every producer of ours: a retried batch never lands after a later one
    producer = Producer(producer_config(settings.kafka, settings.producer))
    for hour, versions in ((0, (1, 2)), (1, (3, 4))):
        millis = int((T0 + timedelta(hours=hour)).timestamp() * 1000)
        for version in versions:
            for code in codes:
                value = CHAINS.encode(versioned(code, version))
                producer.produce(topic, key=code.encode(), value=value, timestamp=millis)
        assert producer.flush(30) == 0


def _replay(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["replay", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.output


def _checksum(url: str) -> str:
    state = store_state(url)
    return hashlib.sha256(repr(sorted(state.items())).encode()).hexdigest()


def test_store_sink_replayed_from_a_datetime_ends_with_the_same_store(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    settings, env = replay_settings(kafka_broker, tmp_path)
    chain_topic = TopicCatalog.from_settings(settings).topic("trace.chain").name
    codes = [f"B-{i:03d}" for i in range(30)]
    publish_two_hours(settings, codes)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    ends = end_offsets(settings.kafka.bootstrap_servers, chain_topic, PARTITIONS)
    group = settings.store.sink_group

    def caught_up() -> bool:
        return committed(settings.kafka.bootstrap_servers, group, chain_topic, PARTITIONS) == ends

    sink = SinkProcess(["--store-url", url], os.environ | env, tmp_path / "sink-1.log")
    try:
        wait_until(caught_up, 90, "the store sink to commit every chain")
        before = _checksum(url)
        assert len(store_state(url)) == len(codes)

        code, output = _replay(
            env, "store-sink", "--to-datetime", "2026-11-02T08:30:00Z", "--execute"
        )
        assert code != 0
        assert "active member" in output
        assert committed(settings.kafka.bootstrap_servers, group, chain_topic, PARTITIONS) == ends
    finally:
        assert sink.stop() == 0

    code, output = _replay(env, "store-sink", "--to-datetime", "2026-11-02T08:30:00+00:00")
    assert code == 0, output
    assert "dry run" in output
    assert committed(settings.kafka.bootstrap_servers, group, chain_topic, PARTITIONS) == ends

    code, output = _replay(
        env, "store-sink", "--to-datetime", "2026-11-02T08:30:00+00:00", "--execute"
    )
    assert code == 0, output
    reset = committed(settings.kafka.bootstrap_servers, group, chain_topic, PARTITIONS)
    assert sum(ends.values()) - sum(reset.values()) == 2 * len(codes)  # the second hour again

    sink = SinkProcess(["--store-url", url], os.environ | env, tmp_path / "sink-2.log")
    try:
        wait_until(caught_up, 90, "the replayed store sink to catch up")
    finally:
        assert sink.stop() == 0
    assert _checksum(url) == before


def test_targets_sink_replayed_to_earliest_sends_nothing_twice(
    kafka_broker: KafkaBroker,
    tmp_path: Path,
    target_server: Callable[..., TargetServer],
    run_targets_sink: Callable[..., RunningSink],
) -> None:
    settings, env = replay_settings(kafka_broker, tmp_path)
    topics = SinkTopics.from_catalog(TopicCatalog.from_settings(settings))
    codes = [f"T-{i:03d}" for i in range(20)]
    publish_two_hours(settings, codes)
    server = target_server()
    config = example_config(server.url)
    group = f"{settings.topic_prefix}targets"
    ends = end_offsets(settings.kafka.bootstrap_servers, topics.chain, PARTITIONS)

    def caught_up() -> bool:
        return committed(settings.kafka.bootstrap_servers, group, topics.chain, PARTITIONS) == ends

    running = run_targets_sink(config, topics, tmp_path / "targets-home", group)
    wait_until(caught_up, 90, "the targets sink to commit every chain")
    sent = sorted(r.key for r in server.accepted)
    assert sent, "the example routes send notices for these chains"
    code, output = _replay(env, "targets-sink", "--group", group, "--to-earliest", "--execute")
    assert code != 0 and "active member" in output
    running.stop()

    code, output = _replay(env, "targets-sink", "--group", group, "--to-earliest", "--execute")
    assert code == 0, output
    assert committed(settings.kafka.bootstrap_servers, group, topics.chain, PARTITIONS) == {
        p: 0 for p in range(PARTITIONS)
    }
    rerun = run_targets_sink(config, topics, tmp_path / "targets-home", group)
    wait_until(caught_up, 90, "the replayed targets sink to catch up")
    rerun.stop()
    assert sorted(r.key for r in server.accepted) == sent
    assert len(server.requests) == len(sent)
