"""The simulated plant, pushed through the processor and genealogy in memory, equals the oracle.

The oracle is computed from the simulator's ground truth, not from the merge, so this checks the
whole domain (merge, view, holds over the genealogy, reconciliation) against an independent truth,
with duplicates, reordering, late and malformed records injected. No I/O.
"""

from __future__ import annotations

import pytest

from tests.unit.simulated_chains import run_in_memory
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches


@pytest.mark.parametrize("native", [True, False], ids=["native-decode", "plain-decode"])
def test_the_domain_reproduces_the_oracle_under_faults(native: bool) -> None:
    """Both decode paths: the worker's native one, and the plain envelope plus ``json_native``."""
    sim = simulate(
        SimulationConfig(
            batches=120,
            seed=11,
            rates=FaultRates(
                duplicates=0.05, reorder=0.1, late=0.03, malformed=0.01, mismatch=0.05, missing=0.03
            ),
        )
    )
    run = run_in_memory(sim, native)

    assert run.dead == sim.oracle.expected_malformed
    wrong = mismatches(sim.oracle, run.chains)
    assert not wrong, "\n".join(d for diffs in list(wrong.values())[:5] for d in diffs)
