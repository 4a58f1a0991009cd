"""The simulator is deterministic: the same seed gives the same events, sending order and oracle."""

from __future__ import annotations

from pathlib import Path

from tracesync.devtools.simulator import SimulationConfig, simulate
from tracesync.devtools.simulator.faults import describe


def test_same_seed_same_events_records_and_oracle(tmp_path: Path) -> None:
    first = simulate(SimulationConfig(batches=120, seed=42))
    second = simulate(SimulationConfig(batches=120, seed=42))
    assert first.events == second.events
    assert [describe(r) for r in first.records] == [describe(r) for r in second.records]
    assert [r.malformed for r in first.records] == [r.malformed for r in second.records]
    assert first.oracle == second.oracle
    first.oracle.save(tmp_path / "a.json")
    second.oracle.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_other_seed_other_plant() -> None:
    one = simulate(SimulationConfig(batches=60, seed=1))
    two = simulate(SimulationConfig(batches=60, seed=2))
    assert {e["event_id"] for e in one.events}.isdisjoint({e["event_id"] for e in two.events})
    assert one.oracle.chains != two.oracle.chains
