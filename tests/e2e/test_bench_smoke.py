"""``tracesync bench`` runs end to end on a tiny workload and prints its document.

Speed is never asserted here (the benchmark reports it); this only keeps the command working:
every phase completes, the store holds every batch, and the document has its fields.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.fixtures.kafka import KafkaBroker
from tracesync.devtools.supervise import TRACESYNC


def test_bench_completes_every_phase_on_a_tiny_workload(
    kafka_broker: KafkaBroker, schema_registry: Any, postgres_server: Any, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACESYNC_")}
    env |= {
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "TRACESYNC_REGISTRY__PORT": str(schema_registry.settings.registry.port),
        "TRACESYNC_HOME": str(tmp_path / "home"),
    }
    args = [
        "bench",
        "--events",
        "400",
        "--worker-events",
        "400",
        "--latency-events",
        "200",
        "--rate",
        "200",
        "--store-chains",
        "200",
        "--rest-requests",
        "200",
        "--rest-concurrency",
        "4",
        "--timeout",
        "180",
    ]
    done = subprocess.run(
        [TRACESYNC, *args], env=env, capture_output=True, text=True, timeout=540, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout[done.stdout.index("{") :])
    assert document["throughput"]["completed"] and document["latency"]["completed"]
    assert document["worker_only"]["completed"]
    assert document["throughput"]["batches_in_store"] == document["throughput"]["batches_expected"]
    assert document["latency"]["samples"] > 0
    assert set(document["throughput"]["peak_rss_mib"]) == {"worker", "sink-store"}
    assert document["raw_ceiling"]["events"] == document["throughput"]["events"] > 0
    assert document["parts"] == [
        "raw",
        "throughput",
        "worker",
        "processor",
        "latency",
        "store",
        "rest",
    ]
    _check_new_parts(document)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _check_new_parts(document: dict[str, Any]) -> None:
    """The store sink, REST, per-hop latency, processor and memory figures, by type only."""
    hops = document["latency"]["hops"]
    assert set(hops) == {"source_to_chain", "chain_to_store", "source_to_store"}
    for hop in hops.values():
        assert hop["samples"] > 0
        assert all(isinstance(hop[k], int | float) for k in ("p50_ms", "p95_ms", "p99_ms"))
    assert hops["source_to_chain"]["samples"] == hops["source_to_store"]["samples"]
    store = document["store_sink"]
    assert set(store) == {"sqlite", "postgresql"}
    for result in store.values():
        assert result["completed"] and result["chains"] == 200
        assert _number(result["chains_per_s"]) and result["batches_in_store"] > 0
    rest = document["rest"]
    assert rest["requests"] == 200 and rest["stored_equals_accepted"]
    assert rest["statuses"] == {"202": 200}
    assert _number(rest["requests_per_s"]) and _number(rest["latency_ms"]["p99"])
    processor = document["processor_only"]
    assert processor["events"] == 400 and _number(processor["us_per_event"])
    memory = document["peak_rss_mib"]
    assert {"worker", "sink-store", "ingest-api", "bench"} <= set(memory)
    assert all(_number(mib) and mib > 0 for mib in memory.values())
    assert _number(document["ratio_to_raw_ceiling"])


def test_bench_runs_only_the_chosen_parts(
    kafka_broker: KafkaBroker, schema_registry: Any, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACESYNC_")}
    env |= {
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
        "TRACESYNC_REGISTRY__PORT": str(schema_registry.settings.registry.port),
        "TRACESYNC_HOME": str(tmp_path / "home"),
    }
    args = ["bench", "--events", "300", "--only", "processor", "--only", "raw", "--skip", "raw"]
    done = subprocess.run(
        [TRACESYNC, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout[done.stdout.index("{") :])
    assert document["parts"] == ["processor"]
    assert "raw_ceiling" not in document and "throughput" not in document
    assert "ratio_to_raw_ceiling" not in document
    assert document["processor_only"]["events"] == 300
