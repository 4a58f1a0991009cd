"""``tracesync serve``: the query API and web console over the trace store (read-only)."""

from __future__ import annotations

from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from tracesync.commands.assess import edge_timings
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

if TYPE_CHECKING:
    from tracesync.settings import Settings


@click.command("serve")
@click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
@click.option("--host", help="Address to bind [default: the settings', 127.0.0.1].")
@click.option("--port", type=int, help="Port [default: the settings'].")
@http_limit_options("serve")
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def serve(
    ctx: click.Context,
    store_url: str | None,
    host: str | None,
    port: int | None,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Serve the HTTP query API (/v1, OpenAPI at /openapi.json) and the web console (/), with its
    assessment page (/assess).

    The live holds and alerts view follows the alerts topic and the dead-letter page reads the
    dlq.* topics, on the settings' Kafka; while the broker is down, they say so and retry.
    /metrics, /healthz and /readyz (store reachable) are served on the same port (and on
    --metrics-port if given). Slow clients are cut off (--header-timeout, --body-timeout: 408)
    and open connections capped (--max-connections: 503 beyond).
    """
    from serve.app import create_app
    from serve.pipeline import pipeline_of
    from sinks.store.readonly import open_for_queries
    from tracesync.gs1.identifiers import master_data
    from tracesync.observability.asgi import instrument
    from tracesync.startup import database, wait_for_dependencies

    settings = with_http_limits(ctx, settings_from(ctx), "serve")
    settings, obs = observing(settings, "serve", metrics_port, log_format, startup_timeout)
    url = store_url or settings.store_url
    try:
        obs.serve()  # /readyz says what it waits for, on --metrics-port
        wait_for_dependencies(settings, [database("trace store", url)], health=obs.health)
        engine = open_for_queries(url)
        master = master_data(settings.exports)
        app = create_app(  # refused without API keys
            engine,
            settings.serve,
            master,
            time_zone=settings.time_zone,
            assess_timings=edge_timings(settings),
            pipeline=pipeline_of(settings),
        )
    except TracesyncError as exc:
        raise command_error(exc) from exc
    obs.health.add("store reachable", lambda: _reachable(engine))
    instrument(app, obs.metrics, obs.health)
    bind_host, bind_port = host or settings.serve.host, port or settings.serve.port
    click.echo(f"console: http://{bind_host}:{bind_port}/   API: http://{bind_host}:{bind_port}/v1")
    try:
        _run(app, bind_host, bind_port, settings, json_logs=settings.log_format == "json")
    finally:
        obs.close()


def _run(app: Any, host: str, port: int, settings: Settings, *, json_logs: bool) -> None:
    """Uvicorn until SIGINT/SIGTERM, ending the open live streams first (they would hold the
    shutdown up); slow and surplus clients are cut off by :mod:`tracesync.http_limits`."""
    import uvicorn

    from serve.live import end_streams
    from tracesync.http_limits import uvicorn_config

    config = uvicorn_config(
        app,
        host,
        port,
        settings.serve.http,
        log_level="warning",
        # JSON logs: uvicorn logs through the root logger's handlers, not its own
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            end_streams(app)
            super().handle_exit(sig, frame)

    Server(config).run()


def _reachable(engine: Any) -> bool:
    """The store answers a trivial query."""
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return True
