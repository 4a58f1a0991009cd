"""The composition root of the ingest edge: one builder per ``tracesync ingest`` command.

Each builder takes the settings built at the entry point, wires the publisher, serde, topic
catalog and adapter together, runs it until ``stop`` (or the server's signal), and closes
everything it opened. Nothing else in ``producers/`` builds its own dependencies.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from sqlalchemy import Engine

from producers.dbpoll import (
    WATERMARK_FILE,
    DbChangeCapture,
    StepResult,
    WatermarkStore,
    engine_for,
    run,
    source_url,
)
from producers.files import (
    LEDGER_FILE,
    CompletenessTracker,
    Completion,
    FileDropIngest,
    FileLedger,
    FileOutcome,
    watch,
)
from producers.mapping import load_mapping
from producers.rest import RestIngest, create_app
from tracesync import bootstrap
from tracesync.errors import ConfigurationError
from tracesync.http_limits import uvicorn_config
from tracesync.observability.asgi import instrument
from tracesync.observability.publishing import MeteredPublisher
from tracesync.observability.runtime import Observability
from tracesync.publisher import KafkaPublisher
from tracesync.settings import Settings
from tracesync.startup import database, messaging, wait_for_dependencies
from tracesync.topics import TopicCatalog

log = logging.getLogger(__name__)


def _publisher(settings: Settings, obs: Observability, stage: str) -> KafkaPublisher:
    """The ingest's publisher, counting what it sends; ready once a broker answers."""
    return MeteredPublisher(
        settings.kafka,
        settings.producer,
        metrics=obs.metrics,
        stage=stage,
        producer_factory=obs.producer_factory("broker reachable"),
    )


def serve_rest(
    settings: Settings, host: str, port: int, observability: Observability | None = None
) -> None:
    """Serve until SIGINT/SIGTERM, then flush the producer (bounded by its flush timeout).

    ``/metrics``, ``/healthz`` and ``/readyz`` are served by the same app."""
    obs = observability or Observability("ingest-api", settings.metrics)
    wait_for_dependencies(settings, messaging(settings), health=obs.health)
    topics = TopicCatalog.from_settings(settings)
    publisher = _publisher(settings, obs, "ingest.rest")
    try:
        # every event reaching encode came through from_json, which checked each field already;
        # the encoder still fails (SerializationError, answered 422) on a mismatch
        serde = bootstrap.envelope_serde(settings, fastavro_validation=False)
        ingest = RestIngest(
            publisher, serde, topics.source_topic, settings.plant, limits=settings.worker
        )
        app = create_app(settings, ingest, on_shutdown=lambda: _close(publisher))
        instrument(app, obs.metrics, obs.health)
        limits = settings.ingest.http
        config = uvicorn_config(app, host, port, limits, access_log=False, log_config=None)
        # Everything built so far (FastAPI, pydantic models, schemas, clients) lives as long as
        # the server: out of the collector's sight, a full collection no longer pauses every
        # request in flight for ~100 ms (what set the REST latency tail under load).
        gc.freeze()
        uvicorn.Server(config).run()
    finally:
        _close(publisher)


def _close(publisher: KafkaPublisher) -> None:
    remaining = publisher.close()
    log.info("REST ingest stopped; producer flushed, %d record(s) left undelivered", remaining)


def run_db_ingest(
    settings: Settings,
    mapping_paths: Sequence[Path],
    url: str | None,
    stop: threading.Event,
    *,
    once: bool = False,
    observability: Observability | None = None,
) -> StepResult:
    """Entry point of ``tracesync ingest db``: poll every mapping's table until ``stop``."""
    mappings = [load_mapping(p) for p in mapping_paths]
    if url and len(mappings) > 1:
        raise ConfigurationError("--url names one database; give one --mapping with it")
    obs = observability or Observability("ingest-db", settings.metrics)
    sources = [source_url(mapping, settings, url) for mapping in mappings]
    needs = messaging(settings) + [
        database(f"source database of {m.name}", u) for m, u in zip(mappings, sources, strict=True)
    ]
    wait_for_dependencies(settings, needs, health=obs.health, stop=stop)
    publisher = _publisher(settings, obs, "ingest.db")
    watermarks = WatermarkStore(settings.home / "ingest" / WATERMARK_FILE)
    engines: list[Engine] = []
    try:
        serde = bootstrap.envelope_serde(settings)
        topics = TopicCatalog.from_settings(settings)
        adapters = []
        for mapping, source in zip(mappings, sources, strict=True):
            engines.append(engine_for(source))
            adapters.append(
                DbChangeCapture(
                    mapping,
                    engines[-1],
                    publisher,
                    serde,
                    topics,
                    watermarks=watermarks,
                    plant=settings.plant,
                    batch_size=settings.ingest_db.batch_size,
                )
            )
        db = settings.ingest_db
        return run(adapters, stop, db.poll_interval_s, db.retry_backoff_s, once=once)
    finally:
        publisher.close()
        watermarks.close()
        for engine in engines:
            engine.dispose()


def run_file_ingest(
    settings: Settings,
    mapping_paths: Sequence[Path],
    folder: Path,
    stop: threading.Event,
    *,
    once: bool = False,
    observability: Observability | None = None,
) -> list[FileOutcome]:
    """Entry point of ``tracesync ingest files``: watch ``folder`` until ``stop``."""
    mappings = [load_mapping(p) for p in mapping_paths]
    if not folder.is_dir():
        raise ConfigurationError(f"watched folder {folder} does not exist")
    obs = observability or Observability("ingest-files", settings.metrics)
    obs.health.add("watched folder exists", folder.is_dir)
    wait_for_dependencies(settings, messaging(settings), health=obs.health, stop=stop)
    publisher = _publisher(settings, obs, "ingest.files")
    ledger = FileLedger(settings.home / "ingest" / LEDGER_FILE)
    try:
        ingest = FileDropIngest(
            folder,
            mappings,
            publisher,
            bootstrap.envelope_serde(settings),
            TopicCatalog.from_settings(settings),
            ledger=ledger,
            plant=settings.plant,
            publish_chunk=settings.ingest_files.publish_chunk,
        )
        files = settings.ingest_files
        tracker = CompletenessTracker(
            Completion(files.completion),
            files.settle_s,
            accepts=lambda name: ingest.mapping_for(name) is not None,
        )
        return watch(ingest, stop, files.poll_interval_s, tracker, once=once)
    finally:
        publisher.close()
        ledger.close()
