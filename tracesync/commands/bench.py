"""``tracesync bench``: measure the whole pipeline on this machine and print one JSON document."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracesync.commands.context import settings_from, with_worker


@click.command("bench")
@click.option("--events", default=100_000, show_default=True, help="Events for throughput.")
@click.option("--rate", default=5000.0, show_default=True, help="Offered events/s for latency.")
@click.option(
    "--worker-events",
    default=20_000,
    show_default=True,
    help="Events for the worker-alone measurement (0: skip it).",
)
@click.option(
    "--latency-events",
    default=50_000,
    show_default=True,
    help="Events offered at --rate for the latency measurement.",
)
@click.option(
    "--engine",
    type=click.Choice(["quix", "faust"]),
    default=None,
    help="Stream engine of the workers (default: settings.worker.engine).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes in one consumer group, splitting the partitions.",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=1800.0,
    show_default=True,
    help="Give up waiting for the pipeline to drain after this many seconds.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON document here.",
)
@click.pass_context
def bench(
    ctx: click.Context,
    events: int,
    rate: float,
    latency_events: int,
    worker_events: int,
    engine: str | None,
    workers: int,
    timeout_s: float,
    out: Path | None,
) -> None:
    """Push simulated events through source topics, worker, store sink and trace store.

    Starts the local broker and registry unless they already run. Four measurements in one run,
    each on fresh topics, worker and SQLite store: the raw ceiling (confluent-kafka producing and
    consuming the same records, no processing), sustained end-to-end throughput (all events as
    fast as possible until the store holds every chain), the worker alone (its lag on events
    already published, drained to zero) and end-to-end latency (events offered
    at --rate; per batch, store time minus the time of its latest event). --engine and --workers
    choose the stream engine and how many worker processes share the work. Progress goes to
    stderr, the JSON document to stdout. Not part of `make test`: speed is reported, never
    asserted.
    """
    from tracesync.devtools.bench.session import BenchOptions, run_bench

    def echo(message: str) -> None:
        click.echo(f"[bench] {message}", err=True)

    options = BenchOptions(events, rate, latency_events, worker_events, timeout_s, workers)
    result = run_bench(with_worker(settings_from(ctx), engine=engine), options, echo)
    text = json.dumps(result.document, indent=2)
    click.echo(text)
    if out is not None:
        out.write_text(text + "\n")
    if not result.completed:
        sys.exit(1)
