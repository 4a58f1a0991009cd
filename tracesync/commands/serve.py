"""``tracesync serve``: the query API and web console over the trace store (read-only)."""

from __future__ import annotations

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError


@click.command("serve")
@click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
@click.option("--host", help="Address to bind [default: the settings', 127.0.0.1].")
@click.option("--port", type=int, help="Port [default: the settings'].")
@click.pass_context
def serve(ctx: click.Context, store_url: str | None, host: str | None, port: int | None) -> None:
    """Serve the HTTP query API (/v1, OpenAPI at /openapi.json) and the web console (/)."""
    import uvicorn

    from serve.app import create_app
    from sinks.store.readonly import open_for_queries
    from tracesync.gs1.identifiers import master_data

    settings = settings_from(ctx)
    try:
        engine = open_for_queries(store_url or settings.store_url)
        master = master_data(settings.exports)
        app = create_app(engine, settings.serve, master)  # refused without API keys
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    bind_host, bind_port = host or settings.serve.host, port or settings.serve.port
    click.echo(f"console: http://{bind_host}:{bind_port}/   API: http://{bind_host}:{bind_port}/v1")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning")
