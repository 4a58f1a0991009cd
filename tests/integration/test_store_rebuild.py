"""``tracesync store rebuild`` with the store sink running, on SQLite and PostgreSQL.

The store's batches are deleted while the sink runs and chains keep arriving; the rebuild
restores it from the chain topic, the sink goes on, and ``tracesync verify`` then passes.
``tracesync store rollback`` switches the kept content back in.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from sqlalchemy import delete

from sinks.store import schema
from sinks.store.database import create_store_engine
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import wait_until
from tests.integration.test_replay import PARTITIONS, publish_two_hours, replay_settings
from tests.integration.test_store_sink import (
    CHAINS,
    SinkProcess,
    committed,
    end_offsets,
    store_state,
    versioned,
)
from tracesync.cli import main
from tracesync.kafka_clients import producer_config
from tracesync.topics import TopicCatalog

pytestmark = pytest.mark.integration


def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_rebuild_restores_a_deleted_store_while_the_sink_runs(
    kafka_broker: KafkaBroker, tmp_path: Path, store_url: str
) -> None:
    settings, env = replay_settings(kafka_broker, tmp_path)
    chain_topic = TopicCatalog.from_settings(settings).topic("trace.chain").name
    bootstrap = settings.kafka.bootstrap_servers
    codes = [f"R-{i:03d}" for i in range(40)]
    publish_two_hours(settings, codes)
    sink = SinkProcess(["--store-url", store_url], os.environ | env, tmp_path / "sink.log")

    def caught_up() -> bool:
        ends = end_offsets(bootstrap, chain_topic, PARTITIONS)
        return committed(bootstrap, settings.store.sink_group, chain_topic, PARTITIONS) == ends

    try:
        wait_until(caught_up, 90, "the store sink to store the first chains")
        engine = create_store_engine(store_url)
        with engine.begin() as conn:
            conn.execute(delete(schema.batches))
        engine.dispose()
        assert store_state(store_url) == {}

        producer = Producer(producer_config(settings.kafka, settings.producer))
        for code in codes[:10]:  # newer versions arrive while the store is being rebuilt
            producer.produce(
                chain_topic, key=code.encode(), value=CHAINS.encode(versioned(code, 5))
            )
        assert producer.flush(30) == 0

        code, output = _cli(env, "store", "rebuild", "--store-url", store_url)
        assert code == 0, output
        assert "previous content kept as" in output
        kept = output.split("previous content kept as ")[1].split()[0]

        for code_ in codes[10:20]:  # and after it
            producer.produce(
                chain_topic, key=code_.encode(), value=CHAINS.encode(versioned(code_, 6))
            )
        assert producer.flush(30) == 0
        wait_until(caught_up, 90, "the store sink to store the later chains")
    finally:
        assert sink.stop() == 0

    state = store_state(store_url)
    assert len(state) == len(codes)
    assert {c: state[c][0] for c in codes[:10]} == dict.fromkeys(codes[:10], 5)
    assert {c: state[c][0] for c in codes[10:20]} == dict.fromkeys(codes[10:20], 6)
    code, output = _cli(env, "verify", "--store-url", store_url)
    assert code == 0, output
    assert "verdict: OK" in output

    code, output = _cli(env, "store", "rollback", kept, "--store-url", store_url)
    assert code == 0, output
    # the kept content is the deleted store plus what the sink wrote into it before the switch
    kept_state = store_state(store_url)
    assert set(kept_state) <= set(codes[:10])
    assert {v for v, _ in kept_state.values()} <= {5}
