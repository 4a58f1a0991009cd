"""The pipeline over SASL_SSL: TLS, SCRAM logins per component, ACLs that refuse the rest.

The broker is the project's own secure node (``tests/fixtures/kafka_secure.py``). Events go in
through the REST ingest (API keys from a keys file, stored hashed) as ``ingest``, the Quix worker
merges them as ``worker``, the store sink writes them as ``store-sink``; a client without a login
or with a wrong password is refused, a principal outside its ACLs is denied, and no password or
API key appears in any log.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from sqlalchemy import select

from sinks.store import schema
from sinks.store.database import create_store_engine
from tests.fixtures.kafka_secure import SecureBroker
from tests.integration.test_worker_pipeline import Plant
from tests.slot import port
from tracesync import apikeys, bootstrap
from tracesync.devtools.supervise import Component, wait_for
from tracesync.kafka_clients import admin_config, consumer_config, producer_config
from tracesync.settings import KafkaSettings, ProducerSettings

REST_PORT = port(29096)


def _fields(tmp_path: Path) -> dict[str, Any]:
    return {
        "home": tmp_path / "home",
        "topic_prefix": f"{uuid.uuid4().hex[:8]}.",
        "source_partitions": 3,
        "registry": {"enabled": False},
        "worker": {"app_id": f"worker-{uuid.uuid4().hex[:8]}", "settle_s": 2.0},
        "store": {"sink_group": f"store-{uuid.uuid4().hex[:8]}"},
    }


def _stored_batches(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return {str(c) for c in conn.execute(select(schema.batches.c.batch_code)).scalars()}
    except Exception:  # the sink has not created the store yet
        return set()
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine", ["quix", "faust"])
def test_the_pipeline_runs_over_sasl_ssl_with_one_principal_per_component(
    secure_broker: SecureBroker, tmp_path: Path, engine: str
) -> None:
    fields = _fields(tmp_path)
    fields["worker"]["engine"] = engine
    as_admin = secure_broker.settings_for("admin", **fields)
    assert secure_broker.grant(as_admin) > 0
    plant = Plant()
    plant.batch("RAW-1", "500", [])
    plant.batch("FG-1", "50", ["RAW-1"], minute=10)
    keys = {system: apikeys.new_key() for system in ("MES", "WMS", "ERP")}
    keys_file = tmp_path / "ingest-keys.toml"
    keys_file.write_text(
        "".join(f'[[key]]\nname = "{s}"\nhash = "{apikeys.hash_key(k)}"\n' for s, k in keys.items())
    )
    ingest_settings = secure_broker.settings_for(  # only the keys of the file, no demo keys
        "ingest", **fields, ingest={"port": REST_PORT, "api_keys_file": keys_file}, demo_keys=False
    )
    assert ingest_settings.ingest.api_keys == {}
    rest = Component(
        ["ingest", "api", "--host", "127.0.0.1", "--port", str(REST_PORT)],
        ingest_settings,
        tmp_path / "ingest.log",
    )
    rest.start()
    try:
        _post_all(plant.events, keys, rest)
    finally:
        rest.stop()

    worker = Component(
        ["worker", "--loglevel", "info"],
        secure_broker.settings_for("worker", **fields),
        tmp_path / "worker.log",
    ).start()
    sink_settings = secure_broker.settings_for("store-sink", **fields)
    sink = Component(["sink", "store"], sink_settings, tmp_path / "sink.log").start()
    try:
        assert wait_for(
            lambda: _stored_batches(sink_settings.store_url) == {"RAW-1", "FG-1"},
            120,
            alive=[worker, sink],
        ), f"{worker.log_tail()}\n{sink.log_tail()}"
    finally:
        worker.stop()
        sink.stop()
    logs = "".join((tmp_path / f"{n}.log").read_text() for n in ("ingest", "worker", "sink"))
    if engine == "quix":  # Quix logs its connection settings, the password masked
        assert "'sasl.username': 'worker'" in logs
    assert re.search(r"chains_written=[1-9]", logs)  # and the sink what it wrote
    for principal, password in secure_broker.passwords.items():
        assert password not in logs, f"the password of {principal} appears in a log"
    for system, key in keys.items():
        assert key not in logs, f"the API key of {system} appears in a log"


def _post_all(events: list[dict[str, Any]], keys: dict[str, str], rest: Component) -> None:
    """POST every event to its system's route with that system's key; each must be a 202."""
    url = f"http://127.0.0.1:{REST_PORT}"
    assert wait_for(lambda: _healthy(url), 60, alive=[rest]), rest.log_tail()
    for event in events:
        system = event["source_system"]
        body = {k: event[k] for k in ("event_type", "source_ref", "source_seq", "batch_code")}
        body["occurred_at"] = event["occurred_at"].isoformat()
        body["payload"] = json.loads(json.dumps(event["payload"], default=str))
        answer = httpx.post(
            f"{url}/v1/{system.lower()}/events",
            json=body,
            headers={"X-API-Key": keys[system]},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_client_without_a_login_or_with_a_wrong_password_is_refused(
    secure_broker: SecureBroker,
) -> None:
    errors: list[KafkaError] = []
    wrong = secure_broker.kafka_for("ingest", password="not-the-password")  # noqa: S106
    admin = AdminClient(admin_config(wrong, error_cb=errors.append))
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=10)
    admin.poll(1)  # serves the error callback
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors

    anonymous = KafkaSettings(bootstrap_servers=secure_broker.bootstrap_servers)  # PLAINTEXT
    plain = AdminClient(admin_config(anonymous, log_level=0))
    with pytest.raises(KafkaException):
        plain.list_topics(timeout=5)

    right = AdminClient(admin_config(secure_broker.kafka_for("ingest")))
    assert right.list_topics(timeout=10).cluster_id  # the same principal with its password


def _produce_error(kafka: KafkaSettings, topic: str) -> KafkaError | None:
    outcome: list[KafkaError | None] = []
    producer = Producer(producer_config(kafka, ProducerSettings()))
    producer.produce(topic, b"value", b"key", on_delivery=lambda err, _: outcome.append(err))
    producer.flush(30)
    assert outcome, "no delivery report within 30 s"
    return outcome[0]


def _consume_error(kafka: KafkaSettings, topic: str, group: str) -> KafkaError | None:
    consumer = Consumer(consumer_config(kafka, group))
    consumer.subscribe([topic])
    try:
        for _ in range(40):
            msg = consumer.poll(0.5)
            if msg is not None and msg.error():
                return msg.error()  # type: ignore[no-any-return]
    finally:
        consumer.close()
    return None


def test_acls_keep_each_principal_to_what_it_needs(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    fields = _fields(tmp_path)
    settings = secure_broker.settings_for("admin", **fields)
    secure_broker.grant(settings)
    catalog = bootstrap.catalog(settings)
    chain = catalog.topic("trace.chain").name
    mes = catalog.source_topic("MES")
    ingest = secure_broker.kafka_for("ingest")
    sink = secure_broker.kafka_for("store-sink")

    assert _produce_error(ingest, mes) is None  # its own topic: allowed
    denied = _produce_error(ingest, chain)
    assert denied is not None and denied.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    denied = _produce_error(sink, mes)
    assert denied is not None and denied.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    refused = _consume_error(ingest, chain, settings.store.sink_group)
    assert refused is not None
    assert refused.code() in (
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
    ), refused
    assert _consume_error(sink, mes, settings.store.sink_group) is not None  # not its topic
    assert _consume_error(sink, chain, settings.store.sink_group) is None  # its own: allowed
