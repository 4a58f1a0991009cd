"""``tracesync verify`` against the real broker, on SQLite and PostgreSQL: a store written from
the chain topic verifies; a deleted, an outdated and a corrupted batch are each found and named,
and ``--repair`` makes the verdict OK again."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from sinks.store import schema
from sinks.store.database import open_store
from sinks.store.rows import chain_rows
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_replay import publish_two_hours
from tests.integration.test_store_sink import versioned
from tracesync import bootstrap
from tracesync.cli import main
from tracesync.settings import Settings

pytestmark = pytest.mark.integration


def _verify(env: dict[str, str], store_url: str, *extra: str) -> tuple[int, str]:
    args = ["verify", "--store-url", store_url, *extra]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_verify_finds_each_difference_and_repair_fixes_them(
    kafka_broker: KafkaBroker, tmp_path: Path, store_url: str
) -> None:
    prefix = f"verify-{uuid.uuid4().hex[:8]}."
    settings = Settings(
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        topic_prefix=prefix,
        source_partitions=3,
        home=tmp_path / "home",
        registry={"enabled": False},
    )
    env = {
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "TRACESYNC_TOPIC_PREFIX": prefix,
        "TRACESYNC_SOURCE_PARTITIONS": "3",
        "TRACESYNC_HOME": str(tmp_path / "home"),
        "TRACESYNC_REGISTRY__ENABLED": "false",
    }
    bootstrap.ensure_topics(settings)
    codes = [f"V-{i:03d}" for i in range(12)]
    publish_two_hours(settings, codes)
    store = open_store(store_url)
    store.write([chain_rows(versioned(code, 4)) for code in codes])

    code, output = _verify(env, store_url)
    assert code == 0, output
    assert "verdict: OK" in output and "equal" in output

    with store.engine.begin() as conn:
        conn.execute(delete(schema.batches).where(schema.batches.c.batch_code == "V-001"))
        conn.execute(
            update(schema.batches).where(schema.batches.c.batch_code == "V-002").values(version=3)
        )
        corrupted = versioned("V-003", 4) | {"plant": "ELSEWHERE"}
        conn.execute(
            update(schema.batches)
            .where(schema.batches.c.batch_code == "V-003")
            .values(chain=chain_rows(corrupted).batch["chain"])
        )
    store.write([chain_rows(versioned("X-999", 1))])

    code, output = _verify(env, store_url)
    assert code == 1
    assert "V-001: missing in store" in output
    assert "V-002: older version in store" in output
    assert "V-003: same version, different content" in output
    assert "X-999: only in store" in output
    assert "verdict: DIFFERENT" in output

    code, output = _verify(env, store_url, "--repair")
    assert "repaired: wrote 3 chains" in output
    assert code == 1  # the batch only the store has is reported, never deleted
    store.engine.dispose()
    with open_store(store_url).engine.begin() as conn:
        conn.execute(delete(schema.batches).where(schema.batches.c.batch_code == "X-999"))
    code, output = _verify(env, store_url)
    assert code == 0, output
