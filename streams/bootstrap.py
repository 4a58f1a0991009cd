"""The composition root of the stream worker: topics, codecs and the engine, from settings.

``tracesync worker`` calls :func:`build_worker`; tests call the same builders. The topic layout is
checked (co-partitioned sources; the engine's changelogs created up front; a rebuild's own
topics created) before the engine starts. The engine (``settings.worker.engine``) is imported
only when chosen.
"""

from __future__ import annotations

from streams.domain.events import Event
from streams.engines.base import Engine, WorkerCodecs, WorkerTopics
from streams.observe import WorkerProbe
from streams.processor import Incoming
from tracesync.bootstrap import admin, catalog, ensure_topics, envelope_serde, record_serde
from tracesync.errors import ConfigurationError, SerializationError
from tracesync.observability.runtime import Observability
from tracesync.settings import Settings
from tracesync.startup import messaging, wait_for_dependencies
from tracesync.topics import TopicCatalog, TopicRole, TopicSpec, apply


def _catalog_under(settings: Settings, extra_prefix: str) -> TopicCatalog:
    return TopicCatalog.build(settings.topic_prefix + extra_prefix, settings.source_partitions)


def worker_topics(settings: Settings) -> WorkerTopics:
    """The topics of this worker: the catalog's sources; its outputs under
    ``worker.output_prefix`` and its own internal topics under ``worker.internal_prefix``."""
    cat = catalog(settings)
    ws = settings.worker
    own = _catalog_under(settings, ws.internal_prefix)
    out = _catalog_under(settings, ws.output_prefix)
    return WorkerTopics(
        sources=tuple(spec.name for spec in cat.by_role(TopicRole.SOURCE)),
        derived=own.topic("trace.derived").name,
        genealogy=own.topic("trace.genealogy").name,
        chain=out.topic("trace.chain").name,
        alerts=out.topic("trace.alerts").name,
        dead_letter=out.dlq("streams"),
    )


def prefixed_worker_catalog(settings: Settings) -> TopicCatalog:
    """The worker's topics that are not the catalog's (a rebuild's shadow and internal topics),
    with the catalog's specs (partitions, compaction, retention) under their own names."""
    ws = settings.worker
    specs = []
    if ws.output_prefix:
        out = _catalog_under(settings, ws.output_prefix)
        specs += [out.topic(name) for name in ("trace.chain", "trace.alerts", "dlq.streams")]
    if ws.internal_prefix:
        own = _catalog_under(settings, ws.internal_prefix)
        specs += [own.topic(name) for name in ("trace.derived", "trace.genealogy")]
    return TopicCatalog("", tuple(specs))


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

    def decode_event(record: Incoming) -> Event:
        # the origin only for a failure: building it for every record costs more than it seems
        try:
            return envelopes.decode_as(record.value or b"", Event)
        except SerializationError as exc:
            raise SerializationError(
                exc.reason, field=exc.field, batch_code=exc.batch_code, origin=record.origin
            ) from exc

    return WorkerCodecs(
        decode_event=decode_event,
        encode_chain=record_serde(settings, "TraceChain", topics.chain).encode,
        encode_alert=record_serde(settings, "Alert", topics.alerts).encode,
    )


def build_worker(
    settings: Settings, loglevel: str = "info", observability: Observability | None = None
) -> Engine:
    """The stream worker on the configured engine, after checking the topic layout it relies on.

    With ``observability``, the engine reports its buffers, lag and readiness there."""
    ws = settings.worker
    health = observability.health if observability is not None else None
    wait_for_dependencies(settings, messaging(settings), health=health)
    ensure_topics(settings)
    own = prefixed_worker_catalog(settings)
    if own.topics:
        apply(admin(settings), own)
    topics = worker_topics(settings)
    codecs = worker_codecs(settings, topics)
    probe = WorkerProbe(observability, ws.app_id) if observability is not None else None
    if ws.engine == "quix":
        from streams.engines.quix import QuixEngine  # noqa: PLC0415 (one engine per process)

        apply(admin(settings), quix_changelog_catalog(settings))
        return QuixEngine(settings, topics, codecs, loglevel, probe)
    if ws.processing_guarantee != "at-least-once":
        raise ConfigurationError(
            "the faust engine runs at-least-once only (its exactly-once mode does not hold under "
            "a kill); set worker.processing_guarantee=at-least-once or use --engine quix"
        )
    from streams.engines.faust import FaustEngine  # noqa: PLC0415 (one engine per process)

    apply(admin(settings), faust_changelog_catalog(settings))
    return FaustEngine(settings, topics, codecs, loglevel, probe)
