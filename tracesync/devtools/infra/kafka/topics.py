"""Creating a topic on a local broker by its bootstrap address (for tools and tests)."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from tracesync.errors import InfrastructureError


def ensure_topic(
    bootstrap_servers: str, topic: str, partitions: int, replication_factor: int
) -> None:
    """Create ``topic`` unless it exists; raises InfrastructureError on any other failure."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    future = admin.create_topics([NewTopic(topic, partitions, replication_factor)])[topic]
    try:
        future.result(timeout=30)
    except KafkaException as exc:
        if exc.args and getattr(exc.args[0], "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
            return
        raise InfrastructureError(f"could not create topic {topic}: {exc}") from exc
