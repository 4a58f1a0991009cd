"""``tracesync worker``: run the stream worker that keeps one trace chain per batch;
``tracesync worker rebuild``: rebuild its state from the source topics (``worker_rebuild``)."""

from __future__ import annotations

import click

from tracesync.commands.context import settings_from, with_worker
from tracesync.commands.observing import (
    LOG_FORMAT,
    METRICS_PORT,
    STARTUP_TIMEOUT,
    command_error,
    observing,
)
from tracesync.commands.worker_rebuild import rebuild_command
from tracesync.errors import TracesyncError


@click.group("worker", invoke_without_command=True)
@click.option(
    "--engine",
    type=click.Choice(["quix", "faust"]),
    default=None,
    help="Stream engine (default: settings.worker.engine, which defaults to quix).",
)
@click.option(
    "--instance",
    default=None,
    help="Name of this worker's local state folder; give each worker on one host its own.",
)
@click.option("--loglevel", default="info", show_default=True, help="Log level.")
@METRICS_PORT
@LOG_FORMAT
@STARTUP_TIMEOUT
@click.pass_context
def worker(
    ctx: click.Context,
    engine: str | None,
    instance: str | None,
    loglevel: str,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None,
) -> None:
    """Merge the four source topics into one live trace chain per batch.

    Reads mes/erp/wms/qms.events, keeps the chains in per-partition RocksDB state backed by
    changelog topics, publishes every changed chain to trace.chain, alerts to trace.alerts, bad
    records to dlq.streams. Refuses to start when the source topics are not co-partitioned. Run
    several (same settings.worker.app_id, each its own --instance) and they split the
    partitions. Stops on SIGTERM/SIGINT; a restart, even after SIGKILL, loses nothing.

    `tracesync worker rebuild` rebuilds the state under a new application id and compares.
    """
    settings = with_worker(settings_from(ctx), engine=engine, instance=instance)
    if ctx.invoked_subcommand is not None:
        ctx.find_root().obj = settings
        return
    from streams.bootstrap import build_worker
    from tracesync.collector import tune_collector

    settings, obs = observing(settings, "worker", metrics_port, log_format, startup_timeout)
    try:
        obs.serve()
        stream_worker = build_worker(settings, loglevel, obs)
        tune_collector()
        stream_worker.run()
    except TracesyncError as exc:
        raise command_error(exc) from exc
    finally:
        obs.close()


worker.add_command(rebuild_command)
