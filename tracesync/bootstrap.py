"""What every process's composition root shares: the topic catalog, the registry, the serdes.

Each process has its own root (``producers/bootstrap.py``, ``streams/bootstrap.py``,
``sinks/bootstrap.py``) that calls these builders; nothing below them reads settings from
anywhere else. The wire format is chosen here, once: the Confluent wire format with schema
ids from the registry when ``settings.registry.enabled``, Avro single-object encoding otherwise.
"""

from __future__ import annotations

from functools import cache

from confluent_kafka.admin import AdminClient

from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.registry_client import (
    INPUT_COMPATIBILITY,
    OUTPUT_COMPATIBILITY,
    SchemaRegistry,
)
from tracesync.contracts.schemas import current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.contracts.wire_formats import ConfluentFormat, SingleObjectFormat, topic_subject
from tracesync.kafka_clients import admin_client
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog, apply


def catalog(settings: Settings) -> TopicCatalog:
    return TopicCatalog.from_settings(settings)


@cache
def _registry(url: str) -> SchemaRegistry:
    registry = SchemaRegistry(url)
    # Apicurio starts with no rule; registering an incompatible schema must be refused
    registry.hold_to(INPUT_COMPATIBILITY)
    return registry


@cache
def _output_subject(url: str, subject: str) -> str:
    """Set the output rule on ``subject`` before anything is registered under it (once)."""
    _registry(url).hold_to(OUTPUT_COMPATIBILITY, subject)
    return subject


def schema_registry(settings: Settings) -> SchemaRegistry:
    """The registry client, with BACKWARD compatibility enforced globally."""
    return _registry(settings.registry.url)


def envelope_serde(settings: Settings, *, fastavro_validation: bool = True) -> EnvelopeSerde:
    """The serde of source envelopes, in the configured wire format.

    ``fastavro_validation=False`` skips fastavro's second pass in ``encode`` for callers whose
    input already went through ``from_json`` (every field checked); it halves the cost.
    """
    schemas = current()
    single = SingleObjectFormat.from_current()
    if settings.registry.enabled:
        confluent = ConfluentFormat(schema_registry(settings), schemas)
        return EnvelopeSerde(
            confluent, readers=[single], schemas=schemas, validate_with_fastavro=fastavro_validation
        )
    return EnvelopeSerde(single, schemas=schemas, validate_with_fastavro=fastavro_validation)


def record_serde(settings: Settings, name: str, topic: str) -> RecordSerde:
    """The serde of one of the pipeline's own records (``TraceChain``, ``Alert``).

    With the registry, the topic's subject (``<topic>-value``) is held to FULL_TRANSITIVE
    compatibility first: downstream consumers on any earlier version read what is written.
    """
    if settings.registry.enabled:
        _output_subject(settings.registry.url, topic_subject(topic))
        return RecordSerde.confluent(name, schema_registry(settings), topic)
    return RecordSerde.single_object(name)


def admin(settings: Settings) -> AdminClient:
    return admin_client(settings.kafka)


def ensure_topics(settings: Settings) -> None:
    """Create or verify the catalog's topics; TopologyError when they are not co-partitioned."""
    apply(admin(settings), catalog(settings))
