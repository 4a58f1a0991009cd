"""The composition root of the stream worker: topics, codecs and the engine, from settings.

``tracesync worker`` calls :func:`build_worker`; tests call the same builders. The topic layout is
checked (co-partitioned sources; for faust, its changelogs created up front) before the engine
starts. The engine (``settings.worker.engine``) is imported only when chosen.
"""

from __future__ import annotations

from streams.engines.base import Engine, WorkerCodecs, WorkerTopics
from streams.observe import WorkerProbe
from streams.processor import Incoming
from tracesync.bootstrap import admin, catalog, ensure_topics, envelope_serde, record_serde
from tracesync.errors import ConfigurationError
from tracesync.observability.runtime import Observability
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


def build_worker(
    settings: Settings, loglevel: str = "info", observability: Observability | None = None
) -> Engine:
    """The stream worker on the configured engine, after checking the topic layout it relies on.

    With ``observability``, the engine reports its buffers, lag and readiness there."""
    ws = settings.worker
    ensure_topics(settings)
    topics = worker_topics(settings)
    codecs = worker_codecs(settings, topics)
    probe = WorkerProbe(observability, ws.app_id) if observability is not None else None
    if ws.engine == "quix":
        from streams.engines.quix import QuixEngine  # noqa: PLC0415 (one engine per process)

        return QuixEngine(settings, topics, codecs, loglevel, probe)
    if ws.processing_guarantee != "at-least-once":
        raise ConfigurationError(
            "the faust engine runs at-least-once only (its exactly-once mode does not hold under "
            "a kill); set worker.processing_guarantee=at-least-once or use --engine quix"
        )
    from streams.engines.faust import FaustEngine  # noqa: PLC0415 (one engine per process)

    apply(admin(settings), faust_changelog_catalog(settings))
    return FaustEngine(settings, topics, codecs, loglevel, probe)
