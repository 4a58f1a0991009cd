"""Kafka's own perf tools (ProducerPerformance, ConsumerPerformance) and their summary lines."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from tracesync.devtools.infra.kafka.runtime import KafkaRuntime


@dataclass(frozen=True)
class PerfRun:
    """The output of one perf-tool run; ``summary`` is its last non-empty line."""

    tool: str
    command: tuple[str, ...]
    output: str

    @property
    def summary(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_producer_perf(
    runtime: KafkaRuntime,
    bootstrap_servers: str,
    topic: str,
    *,
    records: int,
    record_size: int,
    producer_props: Mapping[str, str] | None = None,
) -> PerfRun:
    """``org.apache.kafka.tools.ProducerPerformance`` at full speed (acks=all by default)."""
    props = {"bootstrap.servers": bootstrap_servers, "acks": "all", **(producer_props or {})}
    args = [
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        *(f"{k}={v}" for k, v in props.items()),
    ]
    tool = "org.apache.kafka.tools.ProducerPerformance"
    return PerfRun(tool, (tool, *args), runtime.run_tool(tool, args))


def run_consumer_perf(
    runtime: KafkaRuntime,
    bootstrap_servers: str,
    topic: str,
    *,
    records: int,
    group: str | None = None,
) -> PerfRun:
    """``org.apache.kafka.tools.ConsumerPerformance`` reading ``records`` records of ``topic``."""
    args = [
        "--bootstrap-server",
        bootstrap_servers,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--group",
        group or f"perf-{uuid.uuid4().hex[:8]}",
        "--timeout",
        "60000",
    ]
    tool = "org.apache.kafka.tools.ConsumerPerformance"
    return PerfRun(tool, (tool, *args), runtime.run_tool(tool, args))


def parse_producer_summary(summary: str) -> dict[str, float]:
    """Numbers of ProducerPerformance's final line, e.g. ``{"records_per_sec": 51234.5, ...}``."""
    patterns = {
        "records": r"^(\d+) records sent",
        "records_per_sec": r"([\d.]+) records/sec",
        "mb_per_sec": r"\(([\d.]+) MB/sec\)",
        "avg_latency_ms": r"([\d.]+) ms avg latency",
        "max_latency_ms": r"([\d.]+) ms max latency",
        "p99_ms": r"([\d.]+) ms 99th",
    }
    found = {}
    for name, pattern in patterns.items():
        match = re.search(pattern, summary)
        if match:
            found[name] = float(match.group(1))
    return found
