"""The simulated plant, pushed through the processor and genealogy in memory, equals the oracle.

The oracle is computed from the simulator's ground truth, not from the merge, so this checks the
whole domain (merge, view, holds over the genealogy, reconciliation) against an independent truth,
with duplicates, reordering, late and malformed records injected. No I/O.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import pytest

from streams import state
from streams.domain import genealogy as gen
from streams.domain.chain import TraceChain
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainProcessor, Incoming
from streams.records import chain_record
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.publish import wire_value
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches

DERIVED = "trace.derived"


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
    serde = EnvelopeSerde.single_object()
    store: dict[str, TraceChain] = {}
    processor = ChainProcessor(
        decode=lambda r: (
            state.decode_event(r.value or b"")
            if r.topic == DERIVED
            else state.event_from_envelope(serde.decode(r.value or b"", r.origin, native=native))
        ),
        load=store.get,
        rules=ReconciliationRules(tolerance=sim.config.tolerance),
        cache_size=0,
    )
    nodes: dict[str, gen.LotNode] = {}
    published: dict[str, dict[str, object]] = {}
    pending: set[str] = set()
    queue: deque[Incoming] = deque(
        Incoming(r.key.encode(), wire_value(r, serde), r.topic, 0, i)
        for i, r in enumerate(sim.records)
    )
    dead = 0

    def drain() -> None:
        nonlocal dead
        while queue:
            batch = [queue.popleft() for _ in range(min(50, len(queue)))]
            result = processor.process(batch)
            store.update(result.chains)
            dead += len(result.dead_letters)
            for view in result.views:
                published[view.batch_code] = chain_record(view)
            for code, awaiting in result.pending.items():
                (pending.add if awaiting else pending.discard)(code)
            for message in result.genealogy:
                node = nodes.get(message.lot_code, gen.LotNode(message.lot_code))
                nodes[message.lot_code], derived = gen.apply(node, message)
                queue.extend(
                    Incoming(e.batch_code.encode(), state.encode_event(e), DERIVED, 0, 0)
                    for e in derived
                )

    drain()
    now = datetime(2027, 1, 1, tzinfo=UTC)
    queue.extend(
        Incoming(
            code.encode(),
            state.encode_event(gen.reconciliation_due_event(code, "P", now)),
            DERIVED,
            0,
            0,
        )
        for code in sorted(pending)
    )
    drain()

    assert dead == sim.oracle.expected_malformed
    wrong = mismatches(sim.oracle, published)
    assert not wrong, "\n".join(d for diffs in list(wrong.values())[:5] for d in diffs)
