"""``tracesync worker``: run the stream worker (faust) that keeps one trace chain per batch."""

from __future__ import annotations

import logging

import click

from tracesync.commands.context import settings_from


@click.command("worker")
@click.option("--loglevel", default="info", show_default=True, help="faust log level.")
@click.pass_context
def worker(ctx: click.Context, loglevel: str) -> None:
    """Merge the four source topics into one live trace chain per batch.

    Reads mes/erp/wms/qms.events, keeps the chains in a RocksDB table (settings.worker.store),
    publishes every changed chain to trace.chain, alerts to trace.alerts, bad records to
    dlq.streams. Refuses to start when the source topics are not co-partitioned. Stops on
    SIGTERM/SIGINT; at-least-once, so a restart (even after SIGKILL) loses nothing.
    """
    import faust

    from streams.bootstrap import build_worker

    class Worker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            # faust's terminal spinner sets the root logger to DEBUG so that it spins on every
            # record; that builds a log record for every message sent (a tenth of the CPU)
            self.spinner = None

    trace_worker = build_worker(settings_from(ctx))
    Worker(trace_worker.app, loglevel=loglevel).execute_from_commandline()
