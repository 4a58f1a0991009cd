"""The composition root of the stream worker: topics, codecs and the engine, from settings.

``tracesync worker`` calls :func:`build_worker`; tests call the same builders. The topic layout is
checked (co-partitioned sources, changelogs created up front) before the engine starts.
"""

from __future__ import annotations

from streams.app import TABLES, TraceWorker, WorkerCodecs, WorkerTopics
from streams.processor import Incoming
from tracesync.bootstrap import admin, catalog, ensure_topics, envelope_serde, record_serde
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog, TopicRole, TopicSpec, apply


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
        return envelopes.decode(record.value or b"", record.origin, native=True)

    codecs = WorkerCodecs(
        decode_envelope=decode_envelope,
        encode_chain=record_serde(settings, "TraceChain", topics.chain).encode,
        encode_alert=record_serde(settings, "Alert", topics.alerts).encode,
    )
    return TraceWorker(settings, topics, codecs)
