"""Running DB change capture: which database a mapping reads, and the polling loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError

from producers.dbpoll.capture import DbChangeCapture, StepResult
from producers.mapping import SourceMapping
from tracesync.errors import ConfigurationError, TracesyncError
from tracesync.settings import Settings

log = logging.getLogger(__name__)


def source_url(mapping: SourceMapping, settings: Settings, override: str | None) -> str:
    """The source database of a mapping: ``--url``, then settings, then the file's ``url``."""
    if override:
        return override
    configured = settings.ingest_db.source_urls.get(mapping.name)
    if configured is not None:
        return configured.get_secret_value()
    if mapping.db is not None and mapping.db.url:
        return mapping.db.url
    raise ConfigurationError(
        f"no database for mapping {mapping.name}: pass --url, set "
        f"TRACESYNC_INGEST_DB__SOURCE_URLS__{mapping.name} or [db] url in {mapping.path}"
    )


def engine_for(url: str) -> Engine:
    """A SQLAlchemy engine for a source database (checked connections: sources restart)."""
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigurationError(f"bad source database URL: {exc}") from exc


def run(
    adapters: Sequence[DbChangeCapture],
    stop: threading.Event,
    interval_s: float,
    backoff_s: float,
    once: bool = False,
) -> StepResult:
    """Poll every adapter until ``stop`` (or, with ``once``, until all are drained)."""
    total = StepResult(0, 0, 0)
    started = time.monotonic()
    while not stop.is_set():
        busy = False
        for adapter in adapters:
            try:
                result = adapter.step()
            except TracesyncError as exc:
                if once:
                    raise
                log.error("%s: step failed, retrying: %s", adapter.mapping.name, exc)
                stop.wait(backoff_s)
                continue
            busy = busy or result.rows > 0
            total = total + result
        if not busy:
            if once:
                break
            stop.wait(interval_s)
    elapsed = time.monotonic() - started
    log.info(
        "db ingest: %d rows, %d published, %d dead-lettered in %.2fs (%.0f rows/s)",
        total.rows,
        total.published,
        total.dead_lettered,
        elapsed,
        total.rows / elapsed if elapsed > 0 else 0.0,
    )
    return total
