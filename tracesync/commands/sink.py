"""``tracesync sink``: the sinks that read the chain and alert topics (one sub-command each)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from confluent_kafka import Consumer, Producer

from sinks.store import open_store
from sinks.store_sink import SinkTopics, StoreSink, consumer_config
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
def store(  # noqa: PLR0917 - one parameter per click option
    ctx: click.Context,
    store_url: str | None,
    chain_topic: str | None,
    alerts_topic: str | None,
    dlq_topic: str | None,
    group: str | None,
) -> None:
    """Write chains and alerts to the trace store; offsets are committed after the database."""
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
    consumer = Consumer(consumer_config(bootstrap, group or settings.store.sink_group))
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    runner = StoreSink(trace_store, topics, settings.store, consumer, producer)
    click.echo(f"store sink: {topics.chain} + {topics.alerts} -> {trace_store.engine.url!r}")
    stats = runner.run(stop_on_signals())
    click.echo(f"store sink stopped: {stats}")
