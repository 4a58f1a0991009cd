"""``tracesync verify``: the trace store against the chain topic, with a verdict."""

from __future__ import annotations

import sys

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError


def _progress(read: int, total: int) -> None:
    if sys.stderr.isatty():
        click.echo(f"\rread {read}/{total} chain records", nl=False, err=True)


@click.command("verify")
@click.option("--store-url", help="SQLAlchemy URL of the trace store (default: the settings').")
@click.option("--topic", help="Chain topic (default: the catalog's trace.chain).")
@click.option("--repair", is_flag=True, help="Write the topic's chain where the store differs.")
@click.pass_context
def verify(ctx: click.Context, store_url: str | None, topic: str | None, repair: bool) -> None:
    """Compare the store with the chain topic batch by batch (version and content hash).

    Prints the counts, the first differences and a verdict; exits 1 when they differ. With
    --repair, batches missing, stale or different in the store get the topic's newest chain,
    and the comparison is run again.
    """
    from ops import verify as checks
    from ops.chain_topic import read_chain_topic
    from sinks.store.database import open_store
    from tracesync.bootstrap import catalog, record_serde

    settings = settings_from(ctx)
    chain_topic = topic or catalog(settings).topic("trace.chain").name
    engine = None
    try:
        engine = open_store(store_url or settings.store_url).engine
        decode = record_serde(settings, "TraceChain", chain_topic).decode
        snapshot = read_chain_topic(settings.kafka, chain_topic, decode, _progress)
        report = checks.compare(snapshot, checks.store_rows(engine))
        if repair and not report.ok:
            written = checks.repair(engine, snapshot, report.findings)
            click.echo(f"repaired: wrote {written} chains from {chain_topic}")
            report = checks.compare(snapshot, checks.store_rows(engine))
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if engine is not None:
            engine.dispose()
    click.echo(f"store {engine.url!r} against {chain_topic}:")
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        ctx.exit(1)
