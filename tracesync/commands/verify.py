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
@click.option(
    "--rebuilt",
    metavar="TOPIC",
    help="Verify a rebuilt worker's shadow chain topic against the chain topic instead.",
)
@click.pass_context
def verify(
    ctx: click.Context, store_url: str | None, topic: str | None, repair: bool, rebuilt: str | None
) -> None:
    """Compare the store with the chain topic batch by batch (version and content hash).

    Prints the counts, the first differences and a verdict; exits 1 when they differ. With
    --repair, batches missing, stale or different in the store get the topic's newest chain,
    and the comparison is run again. With --rebuilt TOPIC (the shadow chain topic that
    `tracesync worker rebuild` printed), that topic is compared with the chain topic instead.
    """
    if rebuilt is not None:
        _verify_rebuilt(ctx, topic, rebuilt)
        return
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


def _verify_rebuilt(ctx: click.Context, topic: str | None, rebuilt: str) -> None:
    from ops.rebuild_worker import compare_topics
    from tracesync.bootstrap import catalog

    settings = settings_from(ctx)
    chain_topic = topic or catalog(settings).topic("trace.chain").name
    try:
        comparison, _ = compare_topics(settings, chain_topic, rebuilt)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in comparison.lines():
        click.echo(line)
    if not comparison.ok:
        ctx.exit(1)
