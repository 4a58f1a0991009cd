"""TLS and SASL settings of every kind of client, the secure node's properties, the ACL plan."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path

import pytest
from confluent_kafka.admin import AclOperation, ResourceType
from pydantic import SecretStr, ValidationError

from tracesync.devtools.infra.kafka import BrokerSecurity, NodeSpec, acl_plan, server_properties
from tracesync.devtools.infra.kafka.security import (
    PRINCIPALS,
    SecurityFiles,
    ensure_material,
    scram_format_args,
)
from tracesync.kafka_clients import (
    admin_config,
    aiokafka_security,
    consumer_config,
    producer_config,
    quix_producer_extra,
)
from tracesync.settings import KafkaSettings, ProducerSettings, Settings
from tracesync.topics import TopicCatalog

SECURE = KafkaSettings(
    bootstrap_servers="broker:9093",
    security_protocol="SASL_SSL",
    sasl_username="worker",
    sasl_password=SecretStr("s3cret"),
    ssl_ca_location=Path("/etc/tracesync/ca.pem"),
)


def test_plaintext_clients_carry_no_security_settings() -> None:
    config = producer_config(KafkaSettings(), ProducerSettings())
    assert not any(key.startswith(("sasl.", "ssl.", "security.")) for key in config)


@pytest.mark.parametrize(
    "config",
    [
        producer_config(SECURE, ProducerSettings()),
        consumer_config(SECURE, "g"),
        admin_config(SECURE),
    ],
)
def test_every_librdkafka_client_logs_in_with_tls_and_scram(config: dict[str, object]) -> None:
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert (config["sasl.username"], config["sasl.password"]) == ("worker", "s3cret")
    assert config["ssl.ca.location"] == "/etc/tracesync/ca.pem"
    assert config["ssl.endpoint.identification.algorithm"] == "https"


def test_the_quix_extras_leave_the_login_to_its_connection_config() -> None:
    extra = quix_producer_extra(SECURE, ProducerSettings())
    assert not any(key.startswith(("sasl.", "ssl.", "security.", "bootstrap.")) for key in extra)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> SecurityFiles:
    files = SecurityFiles(tmp_path_factory.mktemp("security"))
    ensure_material(files, "127.0.0.1")
    return files


def test_the_local_ca_signs_a_broker_certificate_for_its_host(material: SecurityFiles) -> None:
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(material.ca_cert), str(material.broker_cert)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(material.broker_cert)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text
    assert material.ca_key.stat().st_mode & 0o077 == 0  # the CA key and the passwords: owner only
    assert material.users.stat().st_mode & 0o077 == 0
    passwords = json.loads(material.users.read_text())
    assert set(passwords) == set(PRINCIPALS) and len(set(passwords.values())) == len(PRINCIPALS)
    again = ensure_material(material, "127.0.0.1")
    assert again.passwords == passwords  # kept, not regenerated


def test_faust_gets_the_same_login_with_a_verifying_ssl_context(material: SecurityFiles) -> None:
    assert aiokafka_security(KafkaSettings()) == {}
    login = aiokafka_security(SECURE.model_copy(update={"ssl_ca_location": material.ca_cert}))
    assert (login["username"], login["password"], login["mechanism"]) == (
        "worker",
        "s3cret",
        "SCRAM-SHA-512",
    )
    context = login["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_sasl_without_a_login_is_refused_and_the_password_is_not_shown() -> None:
    with pytest.raises(ValidationError, match="sasl_username"):
        KafkaSettings(security_protocol="SASL_SSL")
    assert "s3cret" not in repr(SECURE) and "s3cret" not in str(SECURE.model_dump())


def _security(tmp_path: Path) -> BrokerSecurity:
    return BrokerSecurity(tmp_path / "ks.pem", tmp_path / "ca.pem", {"admin": "adm", "ingest": "i"})


def test_a_secure_node_listens_only_with_tls_and_sasl_and_enforces_acls(tmp_path: Path) -> None:
    spec = NodeSpec(1, "127.0.0.1", 29094, 29095, tmp_path, security=_security(tmp_path))
    props = server_properties(spec)
    assert props["listeners"] == "SASL_SSL://127.0.0.1:29094,CONTROLLER://127.0.0.1:29095"
    assert props["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL"
    assert "PLAINTEXT" not in props["listeners"]
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin"
    assert props["ssl.keystore.type"] == "PEM"
    assert "adm" not in repr(spec)  # the passwords stay out of the spec's repr


def test_scram_users_are_created_at_format_time() -> None:
    args = scram_format_args({"worker": "w", "admin": "a"})
    assert args == [
        "--add-scram",
        "SCRAM-SHA-512=[name=admin,password=a]",
        "--add-scram",
        "SCRAM-SHA-512=[name=worker,password=w]",
    ]


def _grants(principal: str) -> set[tuple[str, str, str, bool]]:
    settings = Settings(topic_prefix="p.", worker={"app_id": "w1"}, store={"sink_group": "sg"})
    return {
        (g.resource.name, g.name, g.operation.name, g.prefixed)
        for g in acl_plan(settings, TopicCatalog.from_settings(settings))
        if g.principal == principal
    }


def test_ingest_may_only_write_source_topics_and_its_own() -> None:
    grants = _grants("ingest")
    writes = {name for kind, name, op, _ in grants if op == "WRITE"}
    assert writes == {
        "p.mes.events",
        "p.erp.events",
        "p.wms.events",
        "p.qms.events",
        "p.ingest.receipts",
        "p.dlq.ingest",
    }
    assert not any(op in ("READ", "ALL") for _, _, op, _ in grants)
    assert not any(kind == ResourceType.GROUP.name for kind, *_ in grants)


def test_the_worker_owns_its_changelogs_group_and_transactional_ids() -> None:
    grants = _grants("worker")
    assert ("TOPIC", "p.mes.events", "READ", False) in grants
    assert ("TOPIC", "p.trace.chain", "WRITE", False) in grants
    assert ("TOPIC", "changelog__w1--", AclOperation.ALL.name, True) in grants
    assert ("GROUP", "w1", "READ", True) in grants
    assert ("TRANSACTIONAL_ID", "w1", "WRITE", True) in grants
    assert ("TOPIC", "p.trace.chain", "READ", False) not in grants


def test_sinks_read_the_chain_in_their_groups_and_write_only_their_dead_letters() -> None:
    grants = _grants("store-sink")
    assert {n for _, n, op, _ in grants if op == "READ"} == {
        "p.trace.chain",
        "p.trace.alerts",
        "sg",
    }
    assert {n for _, n, op, _ in grants if op == "WRITE"} == {"p.dlq.sinks"}
    serve = _grants("serve")
    assert not any(op == "WRITE" for _, _, op, _ in serve)
