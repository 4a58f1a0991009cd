"""Faults are injected at the requested rates, recorded, and really applied to what is sent."""

from __future__ import annotations

from collections import Counter

import pytest

from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator import FaultRates, Simulation, SimulationConfig, simulate
from tracesync.devtools.simulator.publish import wire_value
from tracesync.errors import SerializationError

RATES = FaultRates(
    duplicates=0.03, reorder=0.05, late=0.02, malformed=0.01, mismatch=0.05, missing=0.02
)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(SimulationConfig(batches=300, seed=9, rates=RATES))


def _kinds(sim: Simulation) -> Counter[str]:
    return Counter(f.kind for f in sim.faults)


def test_counts_follow_the_rates(sim: Simulation) -> None:
    n, batches = len(sim.events), len(sim.truth.batches)
    kinds = _kinds(sim)
    assert kinds["duplicate"] == round(RATES.duplicates * n)
    assert kinds["reorder"] == round(RATES.reorder * n)
    assert kinds["late"] == round(RATES.late * n)
    assert kinds["malformed"] == round(RATES.malformed * n)
    assert kinds["mismatch_wms"] + kinds["mismatch_erp"] == round(RATES.mismatch * batches)
    assert kinds["missing_erp"] == round(
        RATES.missing * (batches - round(RATES.mismatch * batches))
    )
    assert kinds["reorder_seq"] >= 1


def test_duplicates_resend_the_same_event_id(sim: Simulation) -> None:
    sent = Counter(r.envelope["event_id"] for r in sim.records if r.envelope is not None)
    duplicated = {f.event_id for f in sim.faults if f.kind == "duplicate"}
    assert {eid for eid, times in sent.items() if times > 1} == duplicated
    assert set(sent) == sim.oracle.expected_event_ids
    assert sum(sent.values()) == len(sim.events) + len(duplicated)


def test_some_seq_two_is_sent_before_its_seq_one(sim: Simulation) -> None:
    first_seen: dict[str, int] = {}
    for record in sim.records:
        if record.envelope is not None:
            first_seen.setdefault(record.envelope["source_ref"], record.envelope["source_seq"])
    assert 2 in first_seen.values()


def test_late_events_arrive_far_behind_their_neighbours(sim: Simulation) -> None:
    order = {r.envelope["event_id"]: i for i, r in enumerate(sim.records) if r.envelope is not None}
    original = {e["event_id"]: i for i, e in enumerate(sim.events)}
    late = [f.event_id for f in sim.faults if f.kind == "late"]
    assert late
    shifts = [order[eid] - original[eid] for eid in late if eid is not None]
    assert sum(1 for s in shifts if s >= len(sim.events) // 20) >= len(shifts) // 2


def test_every_malformed_record_fails_to_decode(sim: Simulation) -> None:
    serde = EnvelopeSerde.single_object()
    bad = [r for r in sim.records if r.malformed is not None]
    assert len(bad) == sim.oracle.expected_malformed > 0
    assert {r.malformed.reason for r in bad if r.malformed} >= {"garbage", "truncated", "bad_enum"}
    for record in bad:
        with pytest.raises(SerializationError):
            serde.decode(wire_value(record, serde))


def test_mismatch_and_missing_batches_are_exactly_the_injected_ones(sim: Simulation) -> None:
    injected_mismatch = {f.code for f in sim.faults if f.kind.startswith("mismatch")}
    injected_missing = {f.code for f in sim.faults if f.kind == "missing_erp"}
    statuses = {code: chain.reconciliation for code, chain in sim.oracle.chains.items()}
    assert {c for c, r in statuses.items() if r.status == "MISMATCH"} == injected_mismatch
    assert {c for c, r in statuses.items() if r.status == "MISSING_SIDE"} == injected_missing
    assert all(statuses[c].missing == ("ERP",) for c in injected_missing)


def test_zero_rates_send_exactly_the_events() -> None:
    clean = simulate(SimulationConfig(batches=40, seed=3, rates=FaultRates(0, 0, 0, 0, 0, 0)))
    assert clean.faults == []
    assert [r.envelope for r in clean.records] == clean.events
    assert not clean.oracle.discrepancies()
