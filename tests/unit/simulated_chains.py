"""A simulated plant pushed through the processor and genealogy in memory (no I/O): the chains
the worker would publish, latest per code, ready for the store or for the oracle.

Shared by the domain-versus-oracle unit test and the integration tests that fill a trace store
from a simulated run.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streams import state
from streams.domain import genealogy as gen
from streams.domain.chain import TraceChain
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainProcessor, Incoming
from streams.records import chain_record
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.oracle import Oracle
from tracesync.devtools.simulator.publish import wire_value
from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig, simulate

DERIVED = "trace.derived"
SETTLED_AT = datetime(2027, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Published:
    """The latest published chain record per code and the count of dead-lettered records."""

    chains: dict[str, dict[str, object]]
    dead: int


def _processor(sim: Simulation, native: bool, store: dict[str, TraceChain]) -> ChainProcessor:
    serde = EnvelopeSerde.single_object()
    return ChainProcessor(
        decode=lambda r: (
            state.decode_event(r.value or b"")
            if r.topic == DERIVED
            else state.event_from_envelope(serde.decode(r.value or b"", r.origin, native=native))
        ),
        load=store.get,
        rules=ReconciliationRules(tolerance=sim.config.tolerance),
        cache_size=0,
    )


def run_in_memory(sim: Simulation, native: bool = True) -> Published:
    """Every record of ``sim`` through the domain, then the reconciliation deadline of every
    batch still waiting for a side (as the worker's timer would)."""
    serde = EnvelopeSerde.single_object()
    store: dict[str, TraceChain] = {}
    processor = _processor(sim, native, store)
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
    queue.extend(
        Incoming(
            code.encode(),
            state.encode_event(gen.reconciliation_due_event(code, "P", SETTLED_AT)),
            DERIVED,
            0,
            0,
        )
        for code in sorted(pending)
    )
    drain()
    return Published(published, dead)


@functools.cache
def simulated_run(batches: int = 40, seed: int = 23) -> tuple[Simulation, Published]:
    """A clean-ish simulated plant (some mismatches and missing sides) and its published chains;
    computed once per process."""
    rates = FaultRates(
        duplicates=0.02, reorder=0.05, late=0.0, malformed=0.0, mismatch=0.1, missing=0.05
    )
    sim = simulate(SimulationConfig(batches=batches, seed=seed, rates=rates))
    return sim, run_in_memory(sim)


def ancestors(oracle: Oracle, code: str) -> set[str]:
    """Every code ``code`` was made from, at any depth, by the oracle's ``parents``."""
    found: set[str] = set()
    todo = list(oracle.chains[code].parents)
    while todo:
        parent = todo.pop()
        if parent not in found:
            found.add(parent)
            todo.extend(oracle.chains[parent].parents if parent in oracle.chains else ())
    return found


def failed_characteristics(sim: Simulation) -> dict[str, str]:
    """inspection id -> the names of its failed characteristics, comma-joined (the truth)."""
    return {
        i.inspection_id: ",".join(c.name for c in i.characteristics if not c.passed)
        for i in sim.truth.inspections
    }


def as_stored(chains: dict[str, dict[str, object]]) -> list[dict[str, Any]]:
    """The published chains as the store sink reads them: Avro-encoded, then decoded."""
    serde = RecordSerde.single_object("TraceChain")
    return [serde.decode(serde.encode(dict(record))) for record in chains.values()]
