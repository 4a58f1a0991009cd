"""The benchmark's workload: simulated plant events, pre-encoded, keyed and routed to topics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.topics import TopicCatalog

EVENTS_PER_BATCH = 19.8  # what the simulator produces on average


@dataclass(frozen=True)
class Workload:
    """Envelopes in send order (no faults: every event is valid)."""

    envelopes: list[dict[str, Any]]

    @property
    def batch_codes(self) -> set[str]:
        return {e["batch_code"] for e in self.envelopes}

    def topics(self, catalog: TopicCatalog) -> list[str]:
        """Each envelope's source topic in ``catalog`` (each phase has its own topics)."""
        return [catalog.source_topic(e["source_system"]) for e in self.envelopes]


def build_workload(events: int, seed: int = 1) -> Workload:
    batches = max(1, math.ceil(events / EVENTS_PER_BATCH))
    sim = simulate(SimulationConfig(batches=batches, seed=seed, rates=_no_faults()))
    return Workload(sim.events[:events])


def _no_faults() -> FaultRates:
    return FaultRates(duplicates=0, reorder=0, late=0, malformed=0, mismatch=0, missing=0)


def encode_all(workload: Workload, serde: EnvelopeSerde) -> list[bytes]:
    for envelope in workload.envelopes[:100]:
        serde.check(envelope)  # the simulator's output is valid; check a sample, encode fast
    return [serde.encode_checked(e) for e in workload.envelopes]


def encode_now(envelope: dict[str, Any], serde: EnvelopeSerde) -> bytes:
    """Encode with event time = now, so store time minus event time is end-to-end latency."""
    now = datetime.now(UTC)
    return serde.encode_checked(envelope | {"occurred_at": now, "recorded_at": now})
