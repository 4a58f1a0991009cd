"""``tracesync sink``: the sinks that read the chain and alert topics (one sub-command each)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click

from tracesync.commands.context import settings_from
from tracesync.commands.observing import (
    LOG_FORMAT,
    METRICS_PORT,
    STARTUP_TIMEOUT,
    command_error,
    observing,
)
from tracesync.errors import TracesyncError


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
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def store(
    ctx: click.Context,
    store_url: str | None,
    chain_topic: str | None,
    alerts_topic: str | None,
    dlq_topic: str | None,
    group: str | None,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Write chains and alerts to the trace store; offsets are committed after the database."""
    from sinks.bootstrap import build_store_sink
    from sinks.topics import SinkTopics
    from tracesync.collector import tune_collector
    from tracesync.topics import TopicCatalog

    settings, obs = observing(
        settings_from(ctx), "sink-store", metrics_port, log_format, startup_timeout
    )
    default = SinkTopics.from_catalog(TopicCatalog.from_settings(settings))
    topics = SinkTopics(
        chain=chain_topic or default.chain,
        alerts=alerts_topic or default.alerts,
        dead_letter=dlq_topic or default.dead_letter,
    )
    try:
        obs.serve()
        runner = build_store_sink(
            settings, store_url=store_url, topics=topics, group=group, observability=obs
        )
        click.echo(f"store sink: {topics.chain} + {topics.alerts} -> {runner.writer!r}")
        tune_collector()
        stats = runner.run(stop_on_signals())
    except TracesyncError as exc:
        raise command_error(exc) from exc
    finally:
        obs.close()
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
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def targets(
    ctx: click.Context,
    routes_file: Path,
    overrides: tuple[str, ...],
    group: str,
    concurrency: int,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Send chain changes to target systems (HTTP, table, file) by the routes file.

    Each notice carries an idempotency key (route + batch + fact) and is sent once: the ledger
    under <home>/targets/ remembers what targets acknowledged. Notices failing all attempts go
    to dlq.sinks with the reason and route; offsets are committed after ack or dead letter.
    """
    from sinks.bootstrap import build_targets_sink
    from sinks.targets.config import parse_override

    settings, obs = observing(
        settings_from(ctx), "sink-targets", metrics_port, log_format, startup_timeout
    )
    try:
        obs.serve()
        changes: dict[str, dict[str, object]] = {}
        for text in overrides:
            name, option, value = parse_override(text)
            changes.setdefault(name, {})[option] = _option_value(value)
        runtime = build_targets_sink(
            settings,
            routes_file,
            changes,
            group=group,
            concurrency=concurrency,
            stop=stop_on_signals(),
            observability=obs,
        )
    except TracesyncError as exc:
        obs.close()
        raise command_error(exc) from exc
    runner = runtime.sink
    click.echo(
        f"targets sink: {', '.join(runner.subscribed_topics())} -> "
        f"{', '.join(sorted(runner.targets))} ({len(runner.config.routes)} routes, group {group})"
    )
    try:
        runner.run()
    finally:
        runtime.close()
        obs.close()
    click.echo(f"targets sink stopped: {runner.stats.snapshot()}")
