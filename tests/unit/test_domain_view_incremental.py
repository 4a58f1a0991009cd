"""Incremental views: re-deriving from the last view gives exactly the view of the whole chain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from streams import state
from streams.domain import events as ev
from streams.domain.chain import TraceChain, merge, merge_all
from streams.domain.events import Event
from streams.domain.genealogy import HoldStatus, inherited_hold_event, reconciliation_due_event
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import Derivation, derive, rederive, view_of
from tests.unit.domain_factory import (
    T0,
    completed,
    consumed,
    erp_receipt,
    hold,
    make,
    qty,
    received,
)
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate

RULES = ReconciliationRules(tolerance=Decimal("0.005"))


def _reading(value: str, minute: int, seq: int = 1) -> Event:
    payload = {
        "equipment_id": "MIX-1",
        "parameter": "temperature",
        "value": value,
        "unit": "C",
        "lower_limit": 60.0,
        "upper_limit": 80.0,
    }
    ref = f"MES:PP:{minute}"
    return make(ev.PROCESS_PARAMETER_RECORDED, "B1", payload, system=ev.MES, ref=ref, seq=seq)


def _issued(amount: str, n: int) -> Event:
    payload = {"issue_id": f"I{n}", "order_ref": "DLV", "quantity": qty(amount), "location": "WH-A"}
    return make(ev.GOODS_ISSUED, "B1", payload, system=ev.WMS, ref=f"WMS:GI:{n}", minute=100 + n)


INHERITED = HoldStatus("H9", "L-PARENT", "supplier alert", True, T0 + timedelta(hours=3), "P2")
RELEASED = HoldStatus("H9", "L-PARENT", "supplier alert", False, T0 + timedelta(hours=4), "P2")
POOL = [
    completed("B1", "100", seq=1),
    completed("B1", "99", seq=2),  # a correction of the same record
    consumed("B1", "L1"),
    consumed("B1", "L2", "5"),
    received("B1", "60", n=1),
    received("B1", "39", n=2, location="WH-B"),
    _issued("10", 1),
    erp_receipt("B1", "99"),
    hold("B1", "H1"),
    hold("B1", "H1", released=True),  # the same record, another event type
    _reading("70.5", 1),
    _reading("85.0", 2),
    _reading("79.0", 2, seq=2),
    inherited_hold_event("B1", INHERITED),
    inherited_hold_event("B1", RELEASED),  # the same derived record, version 2
    reconciliation_due_event("B1", "P1", T0 + timedelta(days=1)),
]


class Follower:
    """Applies buffers the way the processor does and checks every step against ``view_of``."""

    def __init__(self, code: str) -> None:
        self.chain = TraceChain(code)
        self.derivation: Derivation | None = None

    def apply(self, events: list[Event]) -> None:
        after = merge_all(self.chain, events)
        if after is self.chain:
            return
        if self.derivation is None:
            self.derivation = derive(after, RULES)
        else:
            keys = [e.record_key for e in events]
            self.derivation = rederive(self.derivation, after, RULES, keys)
        self.chain = after
        assert self.derivation.chain is after
        assert repr(self.derivation.view) == repr(view_of(after, RULES))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_sequence_of_buffers_gives_the_view_of_the_whole_chain(data: st.DataObject) -> None:
    events = data.draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=3 * len(POOL)))
    follower = Follower("B1")
    while events:
        size = data.draw(st.integers(min_value=1, max_value=len(events)))
        follower.apply(events[:size])
        events = events[size:]


def test_a_chain_loaded_from_state_goes_on_incrementally() -> None:
    first = merge_all(TraceChain("B1"), POOL[:6])
    loaded = state.decode_chain(state.encode_chain(first))  # records in key order now
    derivation = derive(loaded, RULES)
    after = merge_all(loaded, POOL[6:9])
    again = rederive(derivation, after, RULES, [e.record_key for e in POOL[6:9]])
    assert repr(again.view) == repr(view_of(after, RULES))


def test_records_not_named_in_touched_are_not_missed() -> None:
    before = merge_all(TraceChain("B1"), POOL[:3])
    after = merge_all(before, POOL[3:8])
    again = rederive(derive(before, RULES), after, RULES, [POOL[3].record_key])
    assert repr(again.view) == repr(view_of(after, RULES))


def test_unchanged_sections_are_kept_as_they_are() -> None:
    before = derive(merge_all(TraceChain("B1"), POOL[:8]), RULES)
    after = merge_all(before.chain, [_reading("71.0", 5)])
    again = rederive(before, after, RULES, [e.record_key for e in after.records.values()][-1:])
    assert again.view.warehouse is before.view.warehouse
    assert again.view.production is before.view.production
    assert again.view.parameters != before.view.parameters
    assert again.view.event_count == before.view.event_count + 1


def test_other_rules_derive_the_whole_view_again() -> None:
    chain = merge_all(TraceChain("B1"), [completed("B1", "100"), received("B1", "103")])
    before = derive(chain, RULES)
    erp = erp_receipt("B1", "100")
    after = merge_all(chain, [erp])
    strict = ReconciliationRules(tolerance=Decimal("0.001"))
    assert rederive(before, after, strict, [erp.record_key]).view == view_of(after, strict)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(POOL), max_size=3 * len(POOL)))
def test_merge_all_is_merge_event_by_event(events: list[Event]) -> None:
    one_by_one = TraceChain("B1")
    for event in events:
        one_by_one = merge(one_by_one, event)
    together = merge_all(TraceChain("B1"), events)
    assert together.version == one_by_one.version
    assert list(together.records.items()) == list(one_by_one.records.items())


def test_simulated_batches_in_buffers_of_every_size() -> None:
    rates = FaultRates(duplicates=0.1, reorder=0.2, late=0.05, malformed=0, mismatch=0.1, missing=0)
    sim = simulate(SimulationConfig(batches=25, seed=5, rates=rates))
    serde = EnvelopeSerde.single_object()
    events = [
        state.event_from_envelope(serde.decode(serde.encode(r.envelope), native=True))
        for r in sim.records
        if r.envelope is not None
    ]
    for size in (1, 3, 17, 200):
        followers: dict[str, Follower] = {}
        for start in range(0, len(events), size):
            by_code: dict[str, list[Event]] = {}
            for event in events[start : start + size]:
                by_code.setdefault(event.batch_code, []).append(event)
            for code, group in by_code.items():
                followers.setdefault(code, Follower(code)).apply(group)
