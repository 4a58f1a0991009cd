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
    kafka_broker: KafkaBroker, schema_registry: Any, tmp_path: Path
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
