"""One ``tracesync bench`` session: the measurements in order, then one JSON document.

Each measurement runs on fresh topics, worker and SQLite store (:func:`~.run.phase_settings`);
the broker and the registry are started unless they already run, and stopped again if started.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from tracesync import bootstrap
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.bench.processor import measure_processor
from tracesync.devtools.bench.run import (
    Echo,
    latency,
    phase_settings,
    raw_ceiling,
    throughput,
    worker_only,
)
from tracesync.devtools.bench.workload import build_workload, encode_all
from tracesync.devtools.pipeline import LocalPipeline
from tracesync.settings import Settings


@dataclass(frozen=True)
class BenchOptions:
    """What one session measures: event counts, the offered rate, how long to wait at most."""

    events: int
    rate: float
    latency_events: int
    worker_events: int
    timeout_s: float
    workers: int = 1
    """worker processes in one consumer group"""


@dataclass(frozen=True)
class BenchResult:
    """The JSON document and whether every measurement ran to completion."""

    document: dict[str, Any]
    completed: bool


def run_bench(settings: Settings, options: BenchOptions, echo: Echo) -> BenchResult:
    """Run the four measurements on this machine and collect them into one document."""
    run = time.strftime("%Y%m%d%H%M%S")
    infra = LocalPipeline(settings, settings.home / "bench" / run / "logs", echo=echo)
    infra.up_infrastructure()
    try:
        serde = bootstrap.envelope_serde(settings)
        measured = _measure(settings, run, serde, options, echo)
    finally:
        infra.close()
    ceiling, sustained = measured["raw_ceiling"], measured["throughput"]
    document = {
        "run": run,
        "machine": {
            "cpus": os.cpu_count() or 0,
            "kafka": settings.kafka.version,
            "wire_format": "confluent+registry" if settings.registry.enabled else "single-object",
        },
        "worker": {
            "engine": settings.worker.engine,
            "processes": options.workers,
            "processing_guarantee": settings.worker.processing_guarantee,
            "partitions": settings.source_partitions,
        },
        **measured,
        "ratio_to_raw_ceiling": round(sustained["events_per_s"] / ceiling["events_per_s"], 3),
    }
    completed = bool(sustained["completed"] and measured["latency"]["completed"])
    return BenchResult(document, completed)


def _measure(
    settings: Settings, run: str, serde: EnvelopeSerde, options: BenchOptions, echo: Echo
) -> dict[str, Any]:
    echo(f"simulating {options.events} events")
    workload = build_workload(options.events)
    values = encode_all(workload, serde)
    keys = [e["batch_code"].encode() for e in workload.envelopes]
    echo("raw ceiling: confluent-kafka produce + consume, no processing")
    ceiling = raw_ceiling(settings, run, keys, values)
    echo(f"  {ceiling['events_per_s']} events/s")
    echo("throughput: all events as fast as possible through worker and store sink")
    phase = phase_settings(settings, run, "throughput", options.workers)
    sustained = throughput(phase, workload, values, echo=echo, timeout_s=options.timeout_s)
    echo(f"  {sustained['events_per_s']} events/s")
    alone = _worker_alone(settings, run, serde, options, echo)
    echo("processor alone: decode, merge, view, encode in memory, one core")
    processor = measure_processor(min(options.events, 30_000), buffer=1000, seed=7)
    echo(f"  {processor['events_per_s']} events/s")
    echo(f"latency: {options.latency_events} events offered at {options.rate:.0f}/s")
    offered = build_workload(options.latency_events, seed=2)
    lat = latency(
        phase_settings(settings, run, "latency", options.workers),
        offered,
        serde,
        rate=options.rate,
        echo=echo,
        timeout_s=options.timeout_s,
    )
    return {
        "raw_ceiling": ceiling,
        "throughput": sustained,
        "worker_only": alone,
        "processor_only": processor,
        "latency": lat,
    }


def _worker_alone(
    settings: Settings, run: str, serde: EnvelopeSerde, options: BenchOptions, echo: Echo
) -> dict[str, Any]:
    if not options.worker_events:
        return {}
    echo(f"worker alone: {options.worker_events} events already in the source topics")
    few = build_workload(options.worker_events, seed=3)
    alone = worker_only(
        phase_settings(settings, run, "worker", options.workers),
        few,
        encode_all(few, serde),
        echo=echo,
        timeout_s=options.timeout_s,
    )
    echo(f"  {alone['events_per_s']} events/s")
    return alone
