"""The composition root of the stream worker: topics, codecs and the engine, from settings.

``tracesync worker`` calls :func:`build_worker`; tests call the same builders. The topic layout is
checked (co-partitioned sources; the engine's changelogs created up front) before the engine
starts. The engine (``settings.worker.engine``) is imported only when chosen.
"""

from __future__ import annotations

from streams.engines.base import Engine, WorkerCodecs, WorkerTopics
from streams.processor import Incoming
from tracesync.bootstrap import admin, catalog, ensure_topics, envelope_serde, record_serde
from tracesync.errors import ConfigurationError
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


def quix_changelog_catalog(settings: Settings) -> TopicCatalog:
    """The Quix stores' changelog topics, created up front and waited for until visible.

    Quix Streams creates a missing changelog topic itself and describes it at once; on a busy
    broker the new topic is not in the metadata yet and the worker stops at start with
    ``TopicNotFoundError``. Created here first, Quix finds them.
    """
    from streams.engines.quix import STORES, changelog_topic  # noqa: PLC0415 (quix only)

    app_id = settings.worker.app_id
    specs = tuple(
        TopicSpec(
            changelog_topic(app_id, stream_id, store),
            settings.source_partitions,
            "store key",
            TopicRole.INTERNAL,
            "compact",
            None,
        )
        for stream_id, store in STORES
    )
    return TopicCatalog("", specs)


def faust_changelog_catalog(settings: Settings) -> TopicCatalog:
    """The faust tables' changelog topics, created up front with the source partition count.

    faust would create them itself, but then checks their partitions against metadata that does
    not list them yet and fails; creating them first (and waiting until visible) avoids that.
    (Quix Streams creates its changelog topics itself, before it subscribes.)
    """
    from streams.engines.faust import TABLES  # noqa: PLC0415 (faust only when it runs)

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


def worker_codecs(settings: Settings, topics: WorkerTopics) -> WorkerCodecs:
    envelopes = envelope_serde(settings)

    def decode_envelope(record: Incoming) -> dict[str, object]:
        return envelopes.decode(record.value or b"", record.origin, native=True)

    return WorkerCodecs(
        decode_envelope=decode_envelope,
        encode_chain=record_serde(settings, "TraceChain", topics.chain).encode,
        encode_alert=record_serde(settings, "Alert", topics.alerts).encode,
    )


def build_worker(settings: Settings, loglevel: str = "info") -> Engine:
    """The stream worker on the configured engine, after checking the topic layout it relies on."""
    ws = settings.worker
    ensure_topics(settings)
    topics = worker_topics(settings)
    codecs = worker_codecs(settings, topics)
    if ws.engine == "quix":
        from streams.engines.quix import QuixEngine  # noqa: PLC0415 (one engine per process)

        apply(admin(settings), quix_changelog_catalog(settings))
        return QuixEngine(settings, topics, codecs, loglevel)
    if ws.processing_guarantee != "at-least-once":
        raise ConfigurationError(
            "the faust engine runs at-least-once only (its exactly-once mode does not hold under "
            "a kill); set worker.processing_guarantee=at-least-once or use --engine quix"
        )
    from streams.engines.faust import FaustEngine  # noqa: PLC0415 (one engine per process)

    apply(admin(settings), faust_changelog_catalog(settings))
    return FaustEngine(settings, topics, codecs, loglevel)
