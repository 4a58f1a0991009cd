"""``tracesync serve``: the query API and web console over the trace store (read-only)."""

from __future__ import annotations

from types import FrameType

import click

from tracesync.commands.assess import edge_timings
from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError


@click.command("serve")
@click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
@click.option("--host", help="Address to bind [default: the settings', 127.0.0.1].")
@click.option("--port", type=int, help="Port [default: the settings'].")
@click.pass_context
def serve(ctx: click.Context, store_url: str | None, host: str | None, port: int | None) -> None:
    """Serve the HTTP query API (/v1, OpenAPI at /openapi.json) and the web console (/), with its
    assessment page (/assess).

    The live holds and alerts view follows the alerts topic and the dead-letter page reads the
    dlq.* topics, on the settings' Kafka; while the broker is down, they say so and retry.
    """
    import uvicorn

    from serve.app import create_app
    from serve.live import end_streams
    from serve.pipeline import pipeline_of
    from sinks.store.readonly import open_for_queries
    from tracesync.gs1.identifiers import master_data

    settings = settings_from(ctx)
    try:
        engine = open_for_queries(store_url or settings.store_url)
        master = master_data(settings.exports)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    app = create_app(
        engine,
        settings.serve,
        master,
        time_zone=settings.time_zone,
        assess_timings=edge_timings(settings),
        pipeline=pipeline_of(settings),
    )
    bind_host, bind_port = host or settings.serve.host, port or settings.serve.port
    click.echo(f"console: http://{bind_host}:{bind_port}/   API: http://{bind_host}:{bind_port}/v1")
    config = uvicorn.Config(app, host=bind_host, port=bind_port, log_level="warning")

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            end_streams(app)  # open live streams would hold the shutdown up
            super().handle_exit(sig, frame)

    Server(config).run()
