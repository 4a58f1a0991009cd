"""Creating a topic on a local broker by its bootstrap address or settings (tools and tests)."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from tracesync.devtools.infra.kafka.node import client_settings
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import admin_config
from tracesync.settings import KafkaSettings


def ensure_topic(
    target: str | KafkaSettings, topic: str, partitions: int, replication_factor: int
) -> None:
    """Create ``topic`` unless it exists; raises InfrastructureError on any other failure.

    ``target``: a PLAINTEXT broker's bootstrap address, or settings with the login to use.
    """
    admin = AdminClient(admin_config(client_settings(target)))
    future = admin.create_topics([NewTopic(topic, partitions, replication_factor)])[topic]
    try:
        future.result(timeout=30)
    except KafkaException as exc:
        if exc.args and getattr(exc.args[0], "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
            return
        raise InfrastructureError(f"could not create topic {topic}: {exc}") from exc
