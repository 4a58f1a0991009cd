"""The oracle's facts agree with independent computations over the generated events and truth."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tracesync.devtools.simulator import Oracle, Simulation, SimulationConfig, simulate


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(SimulationConfig(batches=400, seed=21))


def _latest(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    """Per source record the highest seq of one event type."""
    best: dict[str, dict[str, Any]] = {}
    for e in events:
        if e["event_type"] == event_type:
            ref = e["source_ref"]
            if ref not in best or e["source_seq"] > best[ref]["source_seq"]:
                best[ref] = e
    return list(best.values())


def _walk_up(graph: dict[str, set[str]], start: str) -> set[str]:
    """Breadth-first over the consumption graph, separate from the oracle's own walk."""
    frontier, seen = [start], set()
    while frontier:
        nxt = []
        for code in frontier:
            for parent in graph.get(code, ()):
                if parent not in seen:
                    seen.add(parent)
                    nxt.append(parent)
        frontier = nxt
    return seen


def test_inherited_holds_equal_a_walk_over_the_events(sim: Simulation) -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for e in _latest(sim.events, "MATERIAL_CONSUMED"):
        graph[e["batch_code"]].add(e["payload"]["parent_lot"])
    released = {e["payload"]["hold_id"] for e in sim.events if e["event_type"] == "HOLD_RELEASED"}
    active: dict[str, set[str]] = defaultdict(set)
    for e in sim.events:
        if e["event_type"] == "HOLD_PLACED" and e["payload"]["hold_id"] not in released:
            active[e["batch_code"]].add(e["payload"]["hold_id"])
    inheriting = 0
    for code, chain in sim.oracle.chains.items():
        expected = sorted((h, origin) for origin in _walk_up(graph, code) for h in active[origin])
        assert list(chain.inherited_active_holds) == expected, code
        assert list(chain.own_active_holds) == sorted(active[code])
        inheriting += bool(expected)
    lot_holds = [h for h in sim.truth.holds if h.target_type == "LOT" and h.release is None]
    assert lot_holds and inheriting > len(lot_holds)


def test_quantities_equal_the_highest_seq_of_each_source_record(sim: Simulation) -> None:
    produced = {
        e["batch_code"]: e["payload"]["produced_quantity"]["value"]
        for e in _latest(sim.events, "BATCH_COMPLETED")
    }
    wms: dict[str, Decimal] = defaultdict(Decimal)
    for e in _latest(sim.events, "GOODS_RECEIVED"):
        wms[e["batch_code"]] += e["payload"]["quantity"]["value"]
    corrected = [b for b in sim.truth.batches if b.first_reported_quantity is not None]
    assert corrected
    for code, chain in sim.oracle.chains.items():
        assert chain.produced_quantity == produced.get(code)
        assert chain.wms_received_quantity == wms.get(code)


def test_stock_by_location_replays_the_wms_movements(sim: Simulation) -> None:
    stock: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for e in sim.events:
        p, code = e["payload"], e["batch_code"]
        if e["event_type"] == "GOODS_RECEIVED":
            stock[code][p["location"]] += p["quantity"]["value"]
        elif e["event_type"] == "GOODS_ISSUED":
            stock[code][p["location"]] -= p["quantity"]["value"]
        elif e["event_type"] == "STOCK_TRANSFERRED":
            stock[code][p["from_location"]] -= p["quantity"]["value"]
            stock[code][p["to_location"]] += p["quantity"]["value"]
    for code, chain in sim.oracle.chains.items():
        expected = sorted((loc, q) for loc, q in stock[code].items() if q != 0)
        assert list(chain.stock_by_location) == expected, code


def test_out_of_limit_parameters_and_shipments(sim: Simulation) -> None:
    drifted = sum(len(c.out_of_limit) for c in sim.oracle.chains.values())
    assert drifted > 0
    for chain in sim.oracle.chains.values():
        for _, _, value in chain.out_of_limit:
            assert isinstance(value, float)
    shipped = [c for c in sim.oracle.chains.values() if c.shipments]
    assert shipped and all(c.kind == "finished" for c in shipped)
    assert any(c.complaints for c in shipped)


def test_save_and_load_round_trip_with_decimals_as_strings(sim: Simulation, tmp_path: Path) -> None:
    path = tmp_path / "oracle.json"
    sim.oracle.save(path)
    assert Oracle.load(path) == sim.oracle
    raw = json.loads(path.read_text())
    some = next(c for c in raw["chains"].values() if c["produced_quantity"] is not None)
    assert isinstance(some["produced_quantity"], str)
    assert raw["expected_malformed"] == sim.oracle.expected_malformed
