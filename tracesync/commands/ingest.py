"""``tracesync ingest``: bring source-system events into Kafka.

``ingest api`` serves the REST ingest (:mod:`producers.rest`); other ways in (database change
capture, file drops) are sub-commands of the same group.
"""

from __future__ import annotations

import click

from producers.rest import run_server
from tracesync.cli import settings_from


@click.group("ingest")
def ingest() -> None:
    """Bring MES, ERP, WMS and QMS events into the source topics."""


@ingest.command("api")
@click.option("--host", default=None, help="Bind address [settings: ingest.host, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [settings: ingest.port, 18080].")
@click.pass_context
def api(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the REST ingest: POST /v1/{system}/events[/batch], OpenAPI at /openapi.json."""
    settings = settings_from(ctx)
    run_server(settings, host or settings.ingest.host, port or settings.ingest.port)
