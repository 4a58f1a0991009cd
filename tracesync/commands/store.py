"""``tracesync store``: the trace store's schema (Alembic) and a synthetic plant to measure."""

from __future__ import annotations

import time

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

_WRITE_CHUNK = 500
_CHAIN_HEAD_FIELDS = 2  # batch_code and version, the first fields of TraceChain


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


def _rebuild_progress(read: int, total: int, seconds: float) -> None:
    rate = read / seconds if seconds else 0.0
    eta = (total - read) / rate if rate else 0.0
    width = 30
    done = int(width * read / total) if total else width
    bar = "#" * done + "-" * (width - done)
    click.echo(
        f"\r[{bar}] {read}/{total} chain records, {rate:,.0f}/s, ETA {eta:,.0f} s",
        nl=False,
        err=True,
    )


@store.command("rebuild")
@click.option("--store-url", help="SQLAlchemy URL of the live store (default: the settings').")
@click.option("--topic", help="Chain topic (default: the catalog's trace.chain).")
@click.pass_context
def rebuild_command(ctx: click.Context, store_url: str | None, topic: str | None) -> None:
    """Rebuild the store from the compacted chain topic and switch over in one transaction.

    Builds beside the live store (SQLite: a new file; PostgreSQL: a new schema), keeps the live
    content for rollback (a named file or schema, printed at the end), replaces the live rows in
    one transaction, then writes what arrived on the topic meanwhile. A running store sink may
    keep running. Undo with `tracesync store rollback KEPT`.
    """
    from ops.rebuild_store import rebuild_store
    from tracesync.bootstrap import catalog, record_serde
    from tracesync.collector import tuned_collector

    settings = settings_from(ctx)
    chain_topic = topic or catalog(settings).topic("trace.chain").name
    url = store_url or settings.store_url
    try:
        serde = record_serde(settings, "TraceChain", chain_topic)
        with tuned_collector():  # as in the store sink: decoding allocates a dict tree per chain
            result = rebuild_store(
                settings.kafka,
                chain_topic,
                serde.decode,
                url,
                _rebuild_progress,
                head=serde.head_reader(_CHAIN_HEAD_FIELDS),
            )
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("", err=True)
    click.echo(
        f"rebuilt {result.chains_written} chains from {result.records_read} records of "
        f"{chain_topic} in {result.seconds:.1f} s ({result.rate:,.0f} records/s; the build "
        f"alone {result.build_seconds:.1f} s, {result.build_rate:,.0f} records/s); "
        f"caught up {result.caught_up} written meanwhile"
    )
    for bad in result.undecodable[:20]:
        click.echo(f"  undecodable: {bad}")
    click.echo(
        f"previous content kept as {result.kept_as} (tracesync store rollback {result.kept_as})"
    )


@store.command("rollback")
@click.argument("kept")
@click.option("--store-url", help="SQLAlchemy URL of the live store (default: the settings').")
@click.pass_context
def rollback_command(ctx: click.Context, kept: str, store_url: str | None) -> None:
    """Switch the content KEPT by a rebuild back into the live store (one transaction)."""
    from ops.rebuild_store import rollback

    url = store_url or settings_from(ctx).store_url
    try:
        rollback(url, kept)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"switched {kept} back into {url}")
