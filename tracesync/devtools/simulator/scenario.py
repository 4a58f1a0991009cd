"""One simulation run: ground truth -> data faults -> events -> transport faults -> oracle.

Every stage draws from its own ``random.Random`` seeded from ``(stage, seed)``, so the same config
gives the same events, the same sending order and the same oracle, byte for byte.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tracesync.devtools.simulator.events import Envelope, build_events
from tracesync.devtools.simulator.faults import (
    Fault,
    FaultRates,
    OutRecord,
    inject_data_faults,
    inject_transport_faults,
)
from tracesync.devtools.simulator.model import Plant
from tracesync.devtools.simulator.oracle import DEFAULT_TOLERANCE, Oracle, build_oracle
from tracesync.devtools.simulator.plant import PlantConfig, build_plant
from tracesync.devtools.simulator.timing import DEFAULT_BASE_TIME


@dataclass(frozen=True)
class SimulationConfig:
    batches: int
    seed: int
    rates: FaultRates = field(default_factory=FaultRates)
    tolerance: Decimal = DEFAULT_TOLERANCE
    plant_id: str = "PLANT-01"
    base_time: datetime = DEFAULT_BASE_TIME


@dataclass(frozen=True)
class Simulation:
    """The outcome: truth as the systems report it, its events, what to send, and the oracle."""

    config: SimulationConfig
    truth: Plant
    reported: Plant
    events: list[Envelope]
    records: list[OutRecord]
    faults: list[Fault]
    oracle: Oracle


def simulate(config: SimulationConfig) -> Simulation:
    # Millions of small acyclic objects: the cyclic GC's repeated full passes over them made
    # 10000 batches take twice as long as ten times 1000; nothing here builds cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _simulate(config)
    finally:
        if was_enabled:
            gc.enable()


def _simulate(config: SimulationConfig) -> Simulation:
    truth = build_plant(
        PlantConfig(
            batches=config.batches,
            seed=config.seed,
            base_time=config.base_time,
            plant_id=config.plant_id,
        )
    )
    reported, data_faults = inject_data_faults(truth, config.rates, config.seed)
    events = build_events(reported, config.seed)
    records, transport_faults = inject_transport_faults(events, config.rates, config.seed)
    faults = data_faults + transport_faults
    oracle = build_oracle(
        seed=config.seed,
        batches=config.batches,
        plant=reported,
        events=events,
        records=records,
        faults=faults,
        tolerance=config.tolerance,
    )
    return Simulation(config, truth, reported, events, records, faults, oracle)
