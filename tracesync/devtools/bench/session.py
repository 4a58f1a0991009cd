"""One ``tracesync bench`` session: the chosen measurements in order, then one JSON document.

The parts (:data:`PARTS`, chosen with ``--only`` / ``--skip``): ``raw`` the ceiling,
``throughput`` end to end, ``worker`` the worker alone, ``processor`` the processor alone in
memory, ``latency`` at an offered rate with the per-hop breakdown, ``store`` the store sink on
SQLite and on PostgreSQL, ``rest`` REST single events. Each pipeline measurement runs on fresh
topics, worker and SQLite store (:func:`~.run.phase_settings`); the broker and the registry are
started unless they already run, and stopped again if started. ``peak_rss_mib`` gathers the peak
resident memory of each component over the parts that ran it.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracesync import bootstrap
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.bench.processor import measure_processor
from tracesync.devtools.bench.rest import measure_rest
from tracesync.devtools.bench.run import (
    Echo,
    latency,
    phase_settings,
    raw_ceiling,
    throughput,
    worker_only,
)
from tracesync.devtools.bench.store import measure_default_stores
from tracesync.devtools.bench.workload import Workload, build_workload, encode_all
from tracesync.devtools.pipeline import LocalPipeline
from tracesync.settings import Settings

PARTS = ("raw", "throughput", "worker", "processor", "latency", "store", "rest")


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
    store_chains: int = 20_000
    rest_requests: int = 20_000
    rest_concurrency: int = 64
    parts: frozenset[str] = field(default_factory=lambda: frozenset(PARTS))


def choose_parts(
    only: tuple[str, ...], skip: tuple[str, ...], worker_events: int
) -> frozenset[str]:
    """The parts to run: ``only`` (all when empty) minus ``skip``; no worker part at 0 events."""
    chosen = set(only or PARTS) - set(skip)
    if not worker_events:
        chosen.discard("worker")
    return frozenset(chosen)


@dataclass(frozen=True)
class BenchResult:
    """The JSON document and whether every measurement ran to completion."""

    document: dict[str, Any]
    completed: bool


@dataclass
class _Context:
    settings: Settings
    run: str
    options: BenchOptions
    echo: Echo
    serde: EnvelopeSerde
    workload: tuple[Workload, list[bytes]] | None = None
    """the throughput workload, simulated and encoded once for the raw ceiling and throughput"""


def run_bench(settings: Settings, options: BenchOptions, echo: Echo) -> BenchResult:
    """Run the chosen measurements on this machine and collect them into one document."""
    run = time.strftime("%Y%m%d%H%M%S")
    infra = LocalPipeline(settings, settings.home / "bench" / run / "logs", echo=echo)
    infra.up_infrastructure()
    try:
        context = _Context(settings, run, options, echo, bootstrap.envelope_serde(settings))
        measured = {
            key: measure(context) for part, key, measure in _MEASUREMENTS if part in options.parts
        }
    finally:
        infra.close()
    document = {
        "run": run,
        "parts": [part for part in PARTS if part in options.parts],
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
        "peak_rss_mib": peak_rss(measured),
    }
    if "raw_ceiling" in measured and "throughput" in measured:
        ratio = measured["throughput"]["events_per_s"] / measured["raw_ceiling"]["events_per_s"]
        document["ratio_to_raw_ceiling"] = round(ratio, 3)
    return BenchResult(document, _completed(measured))


def peak_rss(measured: dict[str, Any]) -> dict[str, float]:
    """The peak resident memory (MiB) of each component over the parts that ran it.

    ``bench`` is this process, where the processor alone and the store sink bench run.
    """
    peaks: dict[str, float] = {}
    for part in measured.values():
        for name, mib in part.get("peak_rss_mib", {}).items():
            peaks[name] = max(peaks.get(name, 0.0), mib)
    rest = measured.get("rest", {}).get("server_peak_rss_mib")
    if rest is not None:
        peaks["ingest-api"] = rest
    peaks["bench"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return dict(sorted(peaks.items()))


def _completed(measured: dict[str, Any]) -> bool:
    flags = [part["completed"] for part in measured.values() if "completed" in part]
    flags += [store["completed"] for store in measured.get("store_sink", {}).values()]
    if "rest" in measured:
        flags.append(bool(measured["rest"]["stored_equals_accepted"]))
    return all(flags)


def _workload(context: _Context) -> tuple[Workload, list[bytes]]:
    if context.workload is None:
        events = context.options.events
        context.echo(f"simulating {events} events")
        workload = build_workload(events)
        context.workload = (workload, encode_all(workload, context.serde))
    return context.workload


def _raw(context: _Context) -> dict[str, Any]:
    workload, values = _workload(context)
    keys = [e["batch_code"].encode() for e in workload.envelopes]
    context.echo("raw ceiling: confluent-kafka produce + consume, no processing")
    ceiling = raw_ceiling(context.settings, context.run, keys, values)
    context.echo(f"  {ceiling['events_per_s']} events/s")
    return ceiling


def _throughput(context: _Context) -> dict[str, Any]:
    workload, values = _workload(context)
    context.echo("throughput: all events as fast as possible through worker and store sink")
    phase = phase_settings(context.settings, context.run, "throughput", context.options.workers)
    sustained = throughput(
        phase,
        workload,
        values,
        context.serde,
        echo=context.echo,
        timeout_s=context.options.timeout_s,
    )
    context.echo(f"  {sustained['events_per_s']} events/s")
    return sustained


def _worker(context: _Context) -> dict[str, Any]:
    options = context.options
    context.echo(f"worker alone: {options.worker_events} events already in the source topics")
    few = build_workload(options.worker_events, seed=3)
    alone = worker_only(
        phase_settings(context.settings, context.run, "worker", options.workers),
        few,
        encode_all(few, context.serde),
        echo=context.echo,
        timeout_s=options.timeout_s,
    )
    context.echo(f"  {alone['events_per_s']} events/s")
    return alone


def _processor(context: _Context) -> dict[str, Any]:
    context.echo("processor alone: decode, merge, view, encode in memory, one core")
    processor = measure_processor(min(context.options.events, 30_000), buffer=1000, seed=7)
    context.echo(f"  {processor['events_per_s']} events/s")
    return processor


def _latency(context: _Context) -> dict[str, Any]:
    options = context.options
    context.echo(f"latency: {options.latency_events} events offered at {options.rate:.0f}/s")
    return latency(
        phase_settings(context.settings, context.run, "latency", options.workers),
        build_workload(options.latency_events, seed=2),
        context.serde,
        rate=options.rate,
        echo=context.echo,
        timeout_s=options.timeout_s,
    )


def _store(context: _Context) -> dict[str, Any]:
    chains = context.options.store_chains
    context.echo(f"store sink: {chains} chain records into SQLite, then PostgreSQL")
    results = measure_default_stores(context.settings, chains, versions=2)
    for result in results:
        context.echo(f"  {result['dialect']}: {result['chains_per_s']} chains/s")
    return {str(result["dialect"]): result for result in results}


def _rest(context: _Context) -> dict[str, Any]:
    options = context.options
    requests, concurrency = options.rest_requests, options.rest_concurrency
    context.echo(f"REST: {requests} single-event posts from {concurrency} clients")
    result = measure_rest(
        context.settings, requests, concurrency, warmup=max(1, min(1_000, requests // 10))
    )
    context.echo(f"  {result['requests_per_s']} requests/s")
    return result


_MEASUREMENTS: tuple[tuple[str, str, Callable[[_Context], dict[str, Any]]], ...] = (
    ("raw", "raw_ceiling", _raw),
    ("throughput", "throughput", _throughput),
    ("worker", "worker_only", _worker),
    ("processor", "processor_only", _processor),
    ("latency", "latency", _latency),
    ("store", "store_sink", _store),
    ("rest", "rest", _rest),
)
"""(part, key in the document, measurement), in the order they run."""
