"""The simulated plant has multi-level genealogy and stock that never goes negative."""

from __future__ import annotations

from functools import cache

import pytest

from tracesync.devtools.simulator import Simulation, SimulationConfig, simulate


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(SimulationConfig(batches=400, seed=11))


def test_every_batch_consumes_something_made_or_received_before(sim: Simulation) -> None:
    parents = sim.truth.parents()
    ready = {lot.code: lot.received_at for lot in sim.truth.lots}
    ready.update({b.code: b.completed_at for b in sim.truth.batches})
    for batch in sim.truth.batches:
        assert parents[batch.code], batch.code
        for parent in parents[batch.code]:
            assert parent < batch.code or parent.startswith("L-R-")
            assert ready[parent] <= batch.started_at


def test_at_least_three_levels_and_intermediates_from_intermediates(sim: Simulation) -> None:
    parents = sim.truth.parents()

    @cache
    def depth(code: str) -> int:
        return 1 + max((depth(p) for p in parents[code]), default=0)

    kinds = {c: chain.kind for c, chain in sim.oracle.chains.items()}
    assert max(depth(c) for c in parents) >= 4
    assert any(
        kinds[code] == "finished" and any(kinds[p] == "intermediate" for p in parents[code])
        for code in parents
    )
    assert any(
        kinds[code] == "intermediate" and any(kinds[p] == "intermediate" for p in parents[code])
        for code in parents
    )
    assert {kinds[p] for p in parents if kinds[p] == "raw" and not parents[p]} == {"raw"}


def test_stock_never_negative_and_issues_match_consumption(sim: Simulation) -> None:
    for chain in sim.oracle.chains.values():
        assert all(q > 0 for _, q in chain.stock_by_location), chain.code
    issued_for_orders = sorted(
        (i.code, i.quantity) for i in sim.truth.issues if i.order_ref.startswith("PO-")
    )
    assert issued_for_orders == sorted((c.parent_code, c.quantity) for c in sim.truth.consumptions)
