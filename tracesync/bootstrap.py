"""The composition root: build serdes, topic names and components from one Settings object.

Entry points (the CLI commands, tests) call these builders; nothing below them reads settings
from anywhere else. The wire format is chosen here, once: the Confluent wire format with schema
ids from the registry when ``settings.registry.enabled``, Avro single-object encoding otherwise.
"""

from __future__ import annotations

from functools import cache

from confluent_kafka.admin import AdminClient

from streams.app import TABLES, TraceWorker, WorkerCodecs, WorkerTopics
from streams.processor import Incoming
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.registry_client import Compatibility, RegistryError, SchemaRegistry
from tracesync.contracts.schemas import current
from tracesync.contracts.serde import ConfluentFormat, EnvelopeSerde, SingleObjectFormat
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog, TopicRole, TopicSpec, apply


def catalog(settings: Settings) -> TopicCatalog:
    return TopicCatalog.from_settings(settings)


@cache
def _registry(url: str) -> SchemaRegistry:
    registry = SchemaRegistry(url)
    # Apicurio starts with no rule; registering an incompatible schema must be refused
    try:
        registry.set_compatibility(Compatibility.BACKWARD)
    except RegistryError as exc:
        if exc.status != 409:  # 409: another component created the rule at the same moment
            raise
    return registry


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
    """The serde of one of the pipeline's own records (``TraceChain``, ``Alert``)."""
    if settings.registry.enabled:
        return RecordSerde.confluent(name, schema_registry(settings), topic)
    return RecordSerde.single_object(name)


def worker_topics(settings: Settings) -> WorkerTopics:
    cat = catalog(settings)
    return WorkerTopics(
        sources=tuple(spec.name for spec in cat.by_role(TopicRole.SOURCE)),
        derived=cat.topic("trace.derived").name,
        genealogy=cat.topic("trace.genealogy").name,
        chain=cat.topic("trace.chain").name,
        alerts=cat.topic("trace.alerts").name,
        dead_letter=cat.dlq("streams"),
    )


def admin(settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})


def ensure_topics(settings: Settings) -> None:
    """Create or verify the catalog's topics; TopologyError when they are not co-partitioned."""
    apply(admin(settings), catalog(settings))


def changelog_catalog(settings: Settings) -> TopicCatalog:
    """The worker tables' changelog topics, created up front with the source partition count.

    faust would create them itself, but then checks their partitions against metadata that does
    not list them yet and fails; creating them first (and waiting until visible) avoids that.
    """
    specs = tuple(
        TopicSpec(
            f"{settings.worker.app_id}-{table}-changelog",
            settings.source_partitions,
            "table key",
            TopicRole.INTERNAL,
            "compact",
            None,
        )
        for table in TABLES
    )
    return TopicCatalog("", specs)


def build_worker(settings: Settings) -> TraceWorker:
    """The stream worker, after checking the topic layout it relies on."""
    ensure_topics(settings)
    apply(admin(settings), changelog_catalog(settings))
    topics = worker_topics(settings)
    envelopes = envelope_serde(settings)

    def decode_envelope(record: Incoming) -> dict[str, object]:
        return envelopes.decode(record.value or b"", record.origin)

    codecs = WorkerCodecs(
        decode_envelope=decode_envelope,
        encode_chain=record_serde(settings, "TraceChain", topics.chain).encode,
        encode_alert=record_serde(settings, "Alert", topics.alerts).encode,
    )
    return TraceWorker(settings, topics, codecs)
