"""``tracesync bench``: measure the whole pipeline on this machine and print one JSON document."""

from __future__ import annotations

import json
import sys
import time
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
    from tracesync import bootstrap
    from tracesync.devtools.bench.run import (
        latency,
        phase_settings,
        raw_ceiling,
        throughput,
        worker_only,
    )
    from tracesync.devtools.bench.workload import build_workload, encode_all
    from tracesync.devtools.pipeline import LocalPipeline

    settings = with_worker(settings_from(ctx), engine=engine)

    def echo(message: str) -> None:
        click.echo(f"[bench] {message}", err=True)

    run = time.strftime("%Y%m%d%H%M%S")
    infra = LocalPipeline(settings, settings.home / "bench" / run / "logs", echo=echo)
    infra.up_infrastructure()
    try:
        serde = bootstrap.envelope_serde(settings)
        echo(f"simulating {events} events")
        workload = build_workload(events)
        values = encode_all(workload, serde)
        keys = [e["batch_code"].encode() for e in workload.envelopes]
        echo("raw ceiling: confluent-kafka produce + consume, no processing")
        ceiling = raw_ceiling(settings, run, keys, values)
        echo(f"  {ceiling['events_per_s']} events/s")
        echo("throughput: all events as fast as possible through worker and store sink")
        sustained = throughput(
            phase_settings(settings, run, "throughput", workers),
            workload,
            values,
            echo=echo,
            timeout_s=timeout_s,
        )
        echo(f"  {sustained['events_per_s']} events/s")
        alone: dict[str, object] = {}
        if worker_events:
            echo(f"worker alone: {worker_events} events already in the source topics")
            few = build_workload(worker_events, seed=3)
            alone = worker_only(
                phase_settings(settings, run, "worker", workers),
                few,
                encode_all(few, serde),
                echo=echo,
                timeout_s=timeout_s,
            )
            echo(f"  {alone['events_per_s']} events/s")
        echo(f"latency: {latency_events} events offered at {rate:.0f}/s")
        offered = build_workload(latency_events, seed=2)
        lat = latency(
            phase_settings(settings, run, "latency", workers),
            offered,
            serde,
            rate=rate,
            echo=echo,
            timeout_s=timeout_s,
        )
    finally:
        infra.close()
    document = {
        "run": run,
        "machine": {
            "cpus": _cpus(),
            "kafka": settings.kafka.version,
            "wire_format": "confluent+registry" if settings.registry.enabled else "single-object",
        },
        "worker": {
            "engine": settings.worker.engine,
            "processes": workers,
            "processing_guarantee": settings.worker.processing_guarantee,
            "partitions": settings.source_partitions,
        },
        "raw_ceiling": ceiling,
        "throughput": sustained,
        "worker_only": alone,
        "latency": lat,
        "ratio_to_raw_ceiling": round(sustained["events_per_s"] / ceiling["events_per_s"], 3),
    }
    text = json.dumps(document, indent=2)
    click.echo(text)
    if out is not None:
        out.write_text(text + "\n")
    if not (sustained["completed"] and lat["completed"]):
        sys.exit(1)


def _cpus() -> int:
    import os

    return os.cpu_count() or 0
