"""A simulated plant's chains as the trace store holds them, and the way back from envelopes.

Used by the EPCIS tests: :func:`stored_plant` pushes the simulator's events (no faults) through
the domain merge and view into stored chains; :func:`chains_from_envelopes` does the same for the
JSON envelopes an EPCIS capture produced, through the Avro serde like the REST ingest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sinks.exports.store_reads import StoredChain
from sinks.store.rows import jsonable
from streams import state
from streams.domain.chain import TraceChain, merge_all
from streams.domain.events import Event
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import view_of
from streams.records import chain_record
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate

STORED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SERDE = EnvelopeSerde.single_object()


def _chains(events: Iterable[Event]) -> dict[str, dict[str, Any]]:
    by_batch: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_batch[event.batch_code].append(event)
    rules = ReconciliationRules()
    return {
        code: chain_record(view_of(merge_all(TraceChain(code), found), rules))
        for code, found in by_batch.items()
    }


def stored_plant(batches: int = 40, seed: int = 5) -> list[StoredChain]:
    """The simulated plant's chains in their stored (JSON) form."""
    sim = simulate(SimulationConfig(batches=batches, seed=seed))
    events = [
        state.event_from_envelope(SERDE.decode(SERDE.encode(r.envelope)))
        for r in sim.records
        if r.envelope is not None
    ]
    return [
        StoredChain(code, jsonable(record), STORED_AT)
        for code, record in sorted(_chains(events).items())
    ]


def chains_from_envelopes(envelopes: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Captured JSON envelopes -> validated, encoded, decoded -> merged chains (JSON form)."""
    events = [
        state.event_from_envelope(SERDE.decode(SERDE.encode(SERDE.from_json(e)))) for e in envelopes
    ]
    return {code: jsonable(record) for code, record in _chains(events).items()}


EXPORTED_FACTS = (
    "plant",
    "production",
    "parameters",
    "consumptions",
    "inspections",
    "material_receipt",
    "shipments",
)
"""The chain facts an EPCIS export carries (see sinks/exports/epcis.py)."""


def facts(chain: Mapping[str, Any]) -> dict[str, Any]:
    """What an EPCIS round trip must keep: the exported facts and the batch's own holds."""
    kept = {name: chain[name] for name in EXPORTED_FACTS}
    kept["own_holds"] = [h for h in chain["holds"] if not h["inherited"]]
    return _normal(kept)


def _normal(value: Any) -> Any:
    """Decimals compared by value (``"12.500"`` and ``"12.5"`` are the same quantity)."""
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if value.replace(".", "", 1).lstrip("-").isdigit() else value
    return value
