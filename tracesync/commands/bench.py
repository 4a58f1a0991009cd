"""``tracesync bench``: measure the whole pipeline on this machine and print one JSON document."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracesync.commands.context import settings_from, with_worker

PARTS = ("raw", "throughput", "worker", "processor", "latency", "store", "rest")
"""The bench's parts, in the order they run (``tracesync.devtools.bench.session.PARTS``; kept
here too so that loading the CLI loads no tooling)."""


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
    "--store-chains",
    default=20_000,
    show_default=True,
    help="Chain records through the store sink, on SQLite and on PostgreSQL.",
)
@click.option("--rest-requests", default=20_000, show_default=True, help="REST single-event posts.")
@click.option("--rest-concurrency", default=64, show_default=True, help="Concurrent REST clients.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(PARTS),
    help="Run only this part (repeatable; default: every part).",
)
@click.option(
    "--skip", multiple=True, type=click.Choice(PARTS), help="Skip this part (repeatable)."
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
    store_chains: int,
    rest_requests: int,
    rest_concurrency: int,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    timeout_s: float,
    out: Path | None,
) -> None:
    """Measure the pipeline and its parts on this machine; print one JSON document.

    Starts the local broker and registry unless they already run. The parts, each on fresh
    topics (and a fresh worker and SQLite store where it runs the pipeline): raw (the ceiling:
    confluent-kafka producing and consuming the same records, no processing), throughput (all
    events as fast as possible until the store holds every chain), worker (the worker alone:
    its lag on events already published, drained to zero), processor (the stream processor
    alone, in memory on one core), latency (events offered at --rate; per batch, store time
    minus the time of its latest event, and per hop: source topic to chain topic, chain topic
    to store, from the records' timestamps and the store's write time), store (the store sink
    alone on SQLite and on PostgreSQL, chains/s), rest (REST single-event posts from
    concurrent clients). peak_rss_mib gives each component's peak memory. --only / --skip
    choose the parts; --engine and --workers the stream engine and how many worker processes
    share the work. Progress goes to stderr, the JSON document to stdout. Not part of `make
    test`: speed is reported, never asserted.
    """
    from tracesync.devtools.bench.session import BenchOptions, choose_parts, run_bench

    def echo(message: str) -> None:
        click.echo(f"[bench] {message}", err=True)

    options = BenchOptions(
        events,
        rate,
        latency_events,
        worker_events,
        timeout_s,
        workers,
        store_chains=store_chains,
        rest_requests=rest_requests,
        rest_concurrency=rest_concurrency,
        parts=choose_parts(only, skip, worker_events),
    )
    result = run_bench(with_worker(settings_from(ctx), engine=engine), options, echo)
    text = json.dumps(result.document, indent=2)
    click.echo(text)
    if out is not None:
        out.write_text(text + "\n")
    if not result.completed:
        sys.exit(1)
