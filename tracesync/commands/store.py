"""``tracesync store``: the trace store's schema (Alembic) and a synthetic plant to measure."""

from __future__ import annotations

import time

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

_WRITE_CHUNK = 500


@click.group("store")
def store() -> None:
    """The trace store (SQLite by default, PostgreSQL by URL)."""


@store.command("migrate")
@click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def migrate_command(ctx: click.Context, store_url: str | None, revision: str) -> None:
    """Run `alembic upgrade REVISION` on the store."""
    from sinks.store.database import create_store_engine, migrate

    url = store_url or settings_from(ctx).store_url
    engine = create_store_engine(url)
    try:
        migrate(engine, revision)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(f"trace store at {engine.url!r} is at revision {revision}")


@store.command("fill-synthetic")
@click.option("--store-url", help="SQLAlchemy URL (default: the settings').")
@click.option("--batches", default=100_000, show_default=True, type=click.IntRange(min=10))
@click.option("--seed", default=7, show_default=True)
@click.pass_context
def fill_synthetic(ctx: click.Context, store_url: str | None, batches: int, seed: int) -> None:
    """Write a synthetic multi-level plant of BATCHES chains (for trace/recall measurements)."""
    from sinks.store.database import open_store
    from tracesync.devtools.synthetic import synthetic_chains

    url = store_url or settings_from(ctx).store_url
    trace_store = open_store(url)
    started = time.perf_counter()
    chunk = []
    written = 0
    for rows in synthetic_chains(batches, seed):
        chunk.append(rows)
        if len(chunk) == _WRITE_CHUNK:
            written += trace_store.write(chunk).written
            chunk = []
    written += trace_store.write(chunk).written
    trace_store.engine.dispose()
    elapsed = time.perf_counter() - started
    click.echo(
        f"wrote {written} chains in {elapsed:.1f} s ({written / elapsed:.0f} chains/s, "
        f"{_WRITE_CHUNK} per transaction) to {trace_store.engine.url!r}"
    )
