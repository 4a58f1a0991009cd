"""Every simulated event matches the event contract (the Envelope schema of avro/) exactly."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from datetime import UTC
from decimal import Decimal

import pytest
from fastavro.validation import validate

from tracesync.contracts.schemas import ENVELOPE, EVENT_TYPES, current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator import Simulation, SimulationConfig, simulate
from tracesync.devtools.simulator.events import TOPIC_OF_SYSTEM


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(SimulationConfig(batches=150, seed=5))


def test_every_event_validates_against_the_envelope_schema(sim: Simulation) -> None:
    schema = current().parsed(ENVELOPE)
    types = {e["event_type"] for e in sim.events}
    assert types == set(EVENT_TYPES)  # the plant exercises all 16 payloads
    for envelope in sim.events:
        info = EVENT_TYPES[envelope["event_type"]]
        tagged = {**envelope, "payload": (info.payload_fullname, envelope["payload"])}
        assert validate(tagged, schema, raise_errors=True)
        assert envelope["source_system"] == info.source_system


def test_envelopes_round_trip_through_the_project_serde(sim: Simulation) -> None:
    serde = EnvelopeSerde.single_object()
    for envelope in sim.events[::7]:
        assert serde.decode(serde.encode(envelope)) == envelope


def test_envelope_values_are_avro_ready(sim: Simulation) -> None:
    ids = [e["event_id"] for e in sim.events]
    assert len(set(ids)) == len(ids)
    for envelope in sim.events:
        assert uuid.UUID(envelope["event_id"]).version == 4
        for name in ("occurred_at", "recorded_at"):
            moment = envelope[name]
            assert moment.tzinfo == UTC and moment.microsecond % 1000 == 0
        assert envelope["occurred_at"] <= envelope["recorded_at"]
        assert envelope["source_system"] in TOPIC_OF_SYSTEM
        payload = envelope["payload"]
        for value in payload.values():
            if isinstance(value, dict) and "uom" in value:
                assert isinstance(value["value"], Decimal)
                assert value["value"] == value["value"].quantize(Decimal("0.001"))


def test_source_seq_starts_at_one_and_counts_up_per_source_record(sim: Simulation) -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    codes: dict[str, set[str]] = defaultdict(set)
    for envelope in sim.events:
        seqs[envelope["source_ref"]].append(envelope["source_seq"])
        codes[envelope["source_ref"]].add(envelope["batch_code"])
    assert all(sorted(s) == list(range(1, len(s) + 1)) for s in seqs.values())
    assert any(len(s) == 2 for s in seqs.values())
    assert all(len(c) == 1 for c in codes.values())


def test_systems_interleave_in_recorded_order(sim: Simulation) -> None:
    recorded = [e["recorded_at"] for e in sim.events]
    assert recorded == sorted(recorded)
    systems = [e["source_system"] for e in sim.events[:400]]
    switches = sum(1 for a, b in itertools.pairwise(systems) if a != b)
    assert switches > 50


def test_a_delivery_with_several_lines_is_one_event_per_batch(sim: Simulation) -> None:
    lines: dict[str, list[str]] = defaultdict(list)
    for envelope in sim.events:
        if envelope["event_type"] == "SHIPMENT_DISPATCHED":
            lines[envelope["payload"]["delivery_id"]].append(envelope["batch_code"])
    multi = [codes for codes in lines.values() if len(codes) > 1]
    assert multi and all(len(set(codes)) == len(codes) for codes in multi)
