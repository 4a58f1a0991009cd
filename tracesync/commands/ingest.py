"""``tracesync ingest``: bring source-system events into Kafka.

``ingest api`` serves the REST ingest (:mod:`producers.rest`); other ways in (database change
capture, file drops) are sub-commands of the same group: ``ingest db`` (:mod:`producers.dbpoll`)
and ``ingest files`` (:mod:`producers.files`).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from tracesync.commands.context import settings_from
from tracesync.commands.http_options import http_limit_options, with_http_limits
from tracesync.commands.observing import (
    LOG_FORMAT,
    METRICS_PORT,
    STARTUP_TIMEOUT,
    command_error,
    observing,
)
from tracesync.errors import TracesyncError


@click.group("ingest")
def ingest() -> None:
    """Bring MES, ERP, WMS and QMS events into the source topics."""


@ingest.command("api")
@click.option("--host", default=None, help="Bind address [settings: ingest.host, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [settings: ingest.port, 18080].")
@http_limit_options("ingest")
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def api(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Serve the REST ingest: POST /v1/{system}/events[/batch], OpenAPI at /openapi.json.

    /metrics, /healthz and /readyz are served on the same port (and on --metrics-port if given).
    Slow clients are cut off (--header-timeout, --body-timeout: 408, nothing of a partial body
    published) and open connections capped (--max-connections: 503 beyond).
    """
    from producers.bootstrap import serve_rest

    settings = with_http_limits(ctx, settings_from(ctx), "ingest")
    settings, obs = observing(settings, "ingest-api", metrics_port, log_format, startup_timeout)
    try:
        obs.serve()
        serve_rest(settings, host or settings.ingest.host, port or settings.ingest.port, obs)
    except TracesyncError as exc:
        raise command_error(exc) from exc
    finally:
        obs.close()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM/SIGINT: the adapter finishes its step and stops."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


_MAPPING = click.option(
    "--mapping",
    "mappings",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Mapping file (TOML), e.g. deploy/mappings/mes_batches.db.toml; repeatable.",
)
_ONCE = click.option("--once", is_flag=True, help="Handle what is there now, then exit.")


@ingest.command("db")
@_MAPPING
@click.option("--url", default=None, help="SQLAlchemy URL of the source database (one mapping).")
@_ONCE
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def db(
    ctx: click.Context,
    mappings: tuple[Path, ...],
    url: str | None,
    once: bool,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Capture changes of source tables (poll by watermark, or drain an outbox) into Kafka."""
    from producers.bootstrap import run_db_ingest

    settings, obs = observing(
        settings_from(ctx), "ingest-db", metrics_port, log_format, startup_timeout
    )
    try:
        obs.serve()
        run_db_ingest(settings, mappings, url, _stop_on_signals(), once=once, observability=obs)
    except TracesyncError as exc:
        raise command_error(exc) from exc
    finally:
        obs.close()


@ingest.command("files")
@_MAPPING
@click.option(
    "--watch",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder where CSV/XML exports are dropped.",
)
@_ONCE
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def files(
    ctx: click.Context,
    mappings: tuple[Path, ...],
    watch: Path,
    once: bool,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Publish dropped CSV/XML files; move them to processed/ or rejected/ with a report."""
    from producers.bootstrap import run_file_ingest

    settings, obs = observing(
        settings_from(ctx), "ingest-files", metrics_port, log_format, startup_timeout
    )
    try:
        obs.serve()
        run_file_ingest(settings, mappings, watch, _stop_on_signals(), once=once, observability=obs)
    except TracesyncError as exc:
        raise command_error(exc) from exc
    finally:
        obs.close()
