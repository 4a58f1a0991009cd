"""REST ingest under load: single-event posts against a real ``tracesync ingest api`` and broker.

:func:`measure_rest` creates its own topics (a fresh prefix), starts the server as a child
process the way an operator does, warms it up, then sends ``requests`` distinct MES events from
``concurrency`` keep-alive clients (:mod:`tracesync.devtools.bench.rest_load`), each waiting for
its answer (``202`` only after the broker's acknowledgement). It reports throughput, latency
percentiles, the statuses, the server's peak memory, and checks that the topic holds exactly
one record per ``202`` (nothing lost, nothing doubled).

``python -m tracesync.devtools.bench.rest --requests 20000 --concurrency 64`` prints the figures
as JSON; settings come from the environment as for every command (the broker must be up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from confluent_kafka import Consumer, TopicPartition

from tracesync.devtools.bench.measure import PeakMemory, percentile
from tracesync.devtools.bench.rest_load import ClientKind, LoadResult, Target, run_load
from tracesync.devtools.supervise import Component
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import admin_client, consumer_config
from tracesync.settings import DEV_INGEST_KEYS, Settings, load_settings, with_demo_keys
from tracesync.topics import TopicCatalog, apply

PATH = "/v1/mes/events"


def measure_rest(
    settings: Settings,
    requests: int = 20_000,
    concurrency: int = 64,
    *,
    warmup: int = 1_000,
    client: ClientKind = "raw",
) -> dict[str, Any]:
    """Single-event posts from ``concurrency`` clients; throughput, latency, memory, delivery."""
    run = f"{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    settings = settings.model_copy(update={"topic_prefix": f"bench-rest-{run}."})
    catalog = TopicCatalog.from_settings(settings)
    apply(admin_client(settings.kafka), catalog)
    port = _free_port()
    home = (settings.home / "bench" / f"rest-{run}").resolve()
    home.mkdir(parents=True, exist_ok=True)
    # the benchmark's ingest accepts the demo's well-known keys, whatever else is configured
    settings = with_demo_keys(settings.model_copy(update={"home": home}))
    args = ["ingest", "api", "--host", "127.0.0.1", "--port", str(port)]
    server = Component(args, settings, home / "ingest-api.log").start()
    try:
        _wait_healthy(server, port)
        key = DEV_INGEST_KEYS["MES"]
        target = Target("127.0.0.1", port, PATH, key)
        bodies, warm = _bodies(f"B{run}", requests), _bodies(f"W{run}", warmup)
        load, cost = _measured_load(target, (warm, bodies), concurrency, client, server)
    finally:
        server.stop()
    stored = _records_on(settings, catalog.source_topic("MES")) - warmup
    return {"client": client, **_report(load, requests, concurrency, cost, stored)}


@dataclass(frozen=True)
class ServerCost:
    """What the load cost the server process: peak resident memory, CPU time (user + system)."""

    peak_rss_mib: float | None
    cpu_s: float | None


def _measured_load(
    target: Target,
    bodies: tuple[list[bytes], list[bytes]],
    concurrency: int,
    client: ClientKind,
    server: Component,
) -> tuple[LoadResult, ServerCost]:
    memory = PeakMemory()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            memory.sample({"ingest_api": server.pid})

    sampler = threading.Thread(target=sample, daemon=True)
    cpu_before = _cpu_seconds(server.pid)
    sampler.start()
    try:
        load = run_load(target, bodies[1], concurrency, client, warmup=bodies[0])
    finally:
        done.set()
        sampler.join(5)
    memory.sample({"ingest_api": server.pid})
    cpu_after = _cpu_seconds(server.pid)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return load, ServerCost(memory.mib().get("ingest_api"), cpu)


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (``/proc/PID/stat``), in seconds."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def _report(
    load: LoadResult, requests: int, concurrency: int, cost: ServerCost, stored: int
) -> dict[str, Any]:
    latencies = sorted(load.latencies_s)

    def ms(q: float) -> float | None:
        value = percentile(latencies, q)
        return None if value is None else round(value * 1000, 1)

    accepted = load.statuses.get(202, 0)
    answered = len(latencies)
    served = answered + (len(load.warmup.latencies_s) if load.warmup else 0)  # the CPU covers both
    return {
        "requests": requests,
        "concurrency": concurrency,
        "seconds": round(load.seconds, 2),
        "requests_per_s": round(answered / load.seconds) if load.seconds else None,
        "latency_ms": {"p50": ms(0.50), "p95": ms(0.95), "p99": ms(0.99), "max": ms(1.0)},
        "statuses": {str(code): count for code, count in sorted(load.statuses.items())},
        "transport_errors": dict(load.errors),
        "records_stored": stored,
        "stored_equals_accepted": stored == accepted,
        "server_peak_rss_mib": cost.peak_rss_mib,
        # CPU per request does not depend on how busy the rest of the machine is
        "server_cpu_ms_per_request": (
            round(cost.cpu_s * 1000 / served, 3) if cost.cpu_s is not None and served else None
        ),
    }


def _bodies(prefix: str, count: int) -> list[bytes]:
    """Distinct valid MES events (batch codes spread over the partitions)."""
    return [
        orjson.dumps(
            {
                "event_type": "BATCH_STARTED",
                "source_ref": f"MES:BS:{prefix}-{i}",
                "source_seq": 1,
                "batch_code": f"{prefix}-{i:07d}",
                "occurred_at": "2025-03-01T06:00:00Z",
                "payload": {
                    "order_id": f"PO-{i}",
                    "product_code": "P-100",
                    "line_id": "L1",
                    "shift": "A",
                    "team": "T1",
                    "operators": ["op-1", "op-2"],
                    "equipment": ["MIX-1"],
                },
            }
        )
        for i in range(count)
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_healthy(server: Component, port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise InfrastructureError(f"ingest api exited:\n{server.log_tail()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise InfrastructureError(f"ingest api did not answer within {timeout_s}s")


def _records_on(settings: Settings, topic: str) -> int:
    """Records on a topic (sum of the partitions' end offsets; the topic is fresh)."""
    consumer = Consumer(consumer_config(settings.kafka, f"bench-rest-count-{uuid.uuid4().hex}"))
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        partitions = [TopicPartition(topic, p) for p in metadata.partitions]
        return sum(consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions)
    finally:
        consumer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    options = parser.parse_args(argv)
    result = measure_rest(
        load_settings(),
        options.requests,
        options.concurrency,
        warmup=options.warmup,
        client=options.client,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
