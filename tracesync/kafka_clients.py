"""Every Kafka client configuration of the project, built from the typed settings.

Producers, consumers and admin clients all start from :func:`common` (the brokers, and TLS with
SASL/SCRAM when ``security_protocol`` is ``SASL_SSL``), so no module writes a librdkafka
dictionary by hand; the faust engine's aiokafka clients get the same login from
:func:`aiokafka_security`. Producers are idempotent with
``acks=all`` and ``partitioner=murmur2_random``: keys land in the partitions that Java clients,
aiokafka and the stream engines (all murmur2) expect.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from confluent_kafka.admin import AdminClient

from tracesync.settings import KafkaSettings, ProducerSettings

Config = dict[str, Any]


def common(kafka: KafkaSettings) -> Config:
    """What every client shares: where the brokers are and how to log in to them."""
    return {"bootstrap.servers": kafka.bootstrap_servers} | security(kafka)


def security(kafka: KafkaSettings) -> Config:
    """librdkafka's TLS and SASL settings (empty for PLAINTEXT).

    The password goes in as plain text because librdkafka needs it so; never log the result.
    """
    if kafka.security_protocol == "PLAINTEXT":
        return {}
    config: Config = {
        "security.protocol": kafka.security_protocol,
        "sasl.mechanism": kafka.sasl_mechanism,
        "sasl.username": kafka.sasl_username,
        "sasl.password": _password(kafka),
        # the broker's certificate must name the host we connect to
        "ssl.endpoint.identification.algorithm": "https",
    }
    if kafka.ssl_ca_location is not None:
        config["ssl.ca.location"] = str(kafka.ssl_ca_location)
    return config


def aiokafka_security(kafka: KafkaSettings) -> dict[str, Any]:
    """The same login for aiokafka (the faust engine): an SSL context, mechanism and user.

    Returns ``{}`` for PLAINTEXT, else the keyword arguments of ``faust.SASLCredentials``.
    """
    if kafka.security_protocol == "PLAINTEXT":
        return {}
    cafile = str(kafka.ssl_ca_location) if kafka.ssl_ca_location is not None else None
    context = ssl.create_default_context(cafile=cafile)  # checks the certificate and host name
    return {
        "username": kafka.sasl_username,
        "password": _password(kafka),
        "ssl_context": context,
        "mechanism": kafka.sasl_mechanism,
    }


def _password(kafka: KafkaSettings) -> str:
    return kafka.sasl_password.get_secret_value() if kafka.sasl_password is not None else ""


def producer_config(kafka: KafkaSettings, settings: ProducerSettings) -> Config:
    """The idempotent producer every component publishes with."""
    return common(kafka) | {
        "enable.idempotence": True,
        "acks": "all",
        # Java/aiokafka/Quix compatible: murmur2 of the key bytes; records without a key go random
        "partitioner": "murmur2_random",
        "compression.type": settings.compression,
        "linger.ms": settings.linger_ms,
        "batch.size": settings.batch_size,
        "delivery.timeout.ms": settings.delivery_timeout_ms,
    }


def consumer_config(
    kafka: KafkaSettings,
    group: str,
    *,
    session_timeout_ms: int | None = None,
    max_poll_interval_ms: int | None = None,
    partition_eof: bool | None = None,
) -> Config:
    """A consumer that commits its offsets itself, reading from the start of a new group."""
    config = common(kafka) | {
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    }
    if session_timeout_ms is not None:
        config["session.timeout.ms"] = session_timeout_ms
    if max_poll_interval_ms is not None:
        config["max.poll.interval.ms"] = max_poll_interval_ms
    if partition_eof is not None:
        config["enable.partition.eof"] = partition_eof
    return config


def quix_producer_extra(kafka: KafkaSettings, settings: ProducerSettings) -> Config:
    """What the Quix engine's own producer gets on top of its defaults.

    Quix Streams defaults to ``partitioner=murmur2`` (Java-compatible for keyed records, but every
    record without a key goes to one partition); the project's producer settings replace it, so
    its outputs and changelogs are partitioned like every other producer's.
    """
    config = producer_config(kafka, settings)
    for key in common(kafka):  # Quix takes the brokers and the login as its broker_address
        del config[key]
    return config


def quix_consumer_extra(session_timeout_ms: int, fetch_wait_max_ms: int = 10) -> Config:
    """What the Quix engine's consumer gets on top of its own settings (group, offsets, commits).

    ``read_committed``: with exactly-once, records of aborted transactions must stay unseen.
    ``fetch.wait.max.ms``: when partitions are assigned, Quix asks the broker for the watermarks
    of every assigned source and changelog partition, one request at a time, and each waits
    behind the long-polling fetch on the same connection. librdkafka's 500 ms default made
    assigning 6 partitions of 6 topics take 18 s; 100 ms still took 6.8 s (72 look-ups of 94 ms,
    profiled; 10 ms: 20 ms each, 1.4 s), a pause every start and rebalance adds to the latency of
    the records meanwhile.
    With records flowing a fetch returns at once, so the wait only bounds an idle fetch.
    """
    return {
        "isolation.level": "read_committed",
        "session.timeout.ms": session_timeout_ms,
        "fetch.wait.max.ms": fetch_wait_max_ms,
    }


def with_statistics(
    config: Config, on_statistics: Callable[[str], None], interval_ms: int
) -> Config:
    """``config`` with librdkafka statistics (JSON) handed to ``on_statistics`` every interval,
    from inside the client's poll; :mod:`tracesync.observability.kafka_stats` reads them."""
    return config | {"statistics.interval.ms": interval_ms, "stats_cb": on_statistics}


def admin_config(kafka: KafkaSettings, **overrides: Any) -> Config:
    return common(kafka) | overrides


def admin_client(kafka: KafkaSettings) -> AdminClient:
    return AdminClient(admin_config(kafka))
