"""``tracesync sink``: the sinks that read the chain and alert topics (one sub-command each)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click
from confluent_kafka import Consumer, Producer

from sinks.store.database import open_store
from sinks.store.sink import SinkTopics, StoreSink, consumer_config
from tracesync.cli import settings_from
from tracesync.errors import TracesyncError
from tracesync.topics import TopicCatalog


@click.group("sink")
def sink() -> None:
    """Sinks: write the trace chains to the store or to target systems."""


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so the loop finishes its batch and closes cleanly."""
    stop = threading.Event()

    def handle(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


@sink.command("store")
@click.option("--store-url", help="SQLAlchemy URL of the trace store (default: the settings').")
@click.option("--chain-topic", help="Default: the catalog's trace.chain.")
@click.option("--alerts-topic", help="Default: the catalog's trace.alerts.")
@click.option("--dlq-topic", help="Default: the catalog's dlq.sinks.")
@click.option("--group", help="Consumer group id (default: settings.store.sink_group).")
@click.pass_context
def store(
    ctx: click.Context,
    store_url: str | None,
    chain_topic: str | None,
    alerts_topic: str | None,
    dlq_topic: str | None,
    group: str | None,
) -> None:
    """Write chains and alerts to the trace store; offsets are committed after the database."""
    from tracesync.bootstrap import record_serde

    settings = settings_from(ctx)
    catalog = TopicCatalog.from_settings(settings)
    topics = SinkTopics(
        chain=chain_topic or catalog.topic("trace.chain").name,
        alerts=alerts_topic or catalog.topic("trace.alerts").name,
        dead_letter=dlq_topic or catalog.dlq("sinks"),
    )
    bootstrap = settings.kafka.bootstrap_servers
    try:
        trace_store = open_store(store_url or settings.store_url)
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    group_id = group or settings.store.sink_group
    consumer = Consumer(consumer_config(bootstrap, group_id, settings.store.session_timeout_ms))
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    runner = StoreSink(
        trace_store,
        topics,
        settings.store,
        consumer,
        producer,
        chain_serde=record_serde(settings, "TraceChain", topics.chain),
        alert_serde=record_serde(settings, "Alert", topics.alerts),
    )
    click.echo(f"store sink: {topics.chain} + {topics.alerts} -> {trace_store.engine.url!r}")
    stats = runner.run(stop_on_signals())
    click.echo(f"store sink stopped: {stats}")


def _option_value(text: str) -> object:
    """A ``--target`` value as TOML would read it (number, bool, ...), else the text itself."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


@sink.command("targets")
@click.option(
    "--routes",
    "routes_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Routes file (TOML), e.g. deploy/routes/example.toml.",
)
@click.option(
    "--target",
    "overrides",
    multiple=True,
    help="Override a target option: TARGET.OPTION=VALUE (e.g. wms.url=http://...); repeatable.",
)
@click.option("--group", default="tracesync-targets", show_default=True, help="Consumer group.")
@click.option("--concurrency", default=8, show_default=True, help="Batches delivered at once.")
@click.pass_context
def targets(
    ctx: click.Context,
    routes_file: Path,
    overrides: tuple[str, ...],
    group: str,
    concurrency: int,
) -> None:
    """Send chain changes to target systems (HTTP, table, file) by the routes file.

    Each notice carries an idempotency key (route + batch + fact) and is sent once: the ledger
    under <home>/targets/ remembers what targets acknowledged. Notices failing all attempts go
    to dlq.sinks with the reason and route; offsets are committed after ack or dead letter.
    """
    from producers.core import KafkaPublisher
    from sinks.targets.routing import Source
    from sinks.targets.sink import SinkTopics as TargetTopics
    from sinks.targets.sink import load_routes, open_sink, parse_override
    from tracesync.bootstrap import record_serde

    settings = settings_from(ctx)
    catalog = TopicCatalog.from_settings(settings)
    topics = TargetTopics(
        chain=catalog.topic("trace.chain").name,
        alerts=catalog.topic("trace.alerts").name,
        dead_letter=catalog.dlq("sinks"),
    )
    try:
        changes: dict[str, dict[str, object]] = {}
        for text in overrides:
            name, option, value = parse_override(text)
            changes.setdefault(name, {})[option] = _option_value(value)
        config = load_routes(routes_file, changes)
        decoders = {
            Source.CHAIN: record_serde(settings, "TraceChain", topics.chain).decode,
            Source.ALERTS: record_serde(settings, "Alert", topics.alerts).decode,
        }
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
    publisher = KafkaPublisher(settings.kafka, settings.producer)
    try:
        runner = open_sink(
            settings.kafka,
            publisher=publisher,
            config=config,
            home=settings.home,
            topics=topics,
            decoders=decoders,
            group=group,
            concurrency=concurrency,
            stop=stop_on_signals(),
        )
    except TracesyncError as exc:
        publisher.close()
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"targets sink: {', '.join(runner.subscribed_topics())} -> "
        f"{', '.join(sorted(runner.targets))} ({len(config.routes)} routes, group {group})"
    )
    try:
        runner.run()
    finally:
        runner.close()
        publisher.close()
    click.echo(f"targets sink stopped: {runner.stats.snapshot()}")
