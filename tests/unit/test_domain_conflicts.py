"""Two versions under one ``source_seq``: the first is kept, the other reported, never merged.

Issue 15, finding 8: two different events for one source record and one ``source_seq`` were
both acknowledged and one was dropped without a word (the higher event id won). The properties
run over generated sequences of a few records, each event one of a few sequence numbers, two
contents and three copies (event id and ``recorded_at``) per content, derived records included.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain import events as ev
from streams.domain.chain import TraceChain, merge_split
from streams.domain.conflicts import REASON, content_difference
from streams.domain.events import Event
from streams.domain.genealogy import reconciliation_due_event
from tests.unit.domain_factory import T0, completed, hold
from tests.unit.test_domain_merge import facts, reingested

RECORDS = ((ev.MES, "MES:BC:B1"), (ev.WMS, "WMS:GR:B1"), (ev.TRACESYNC, "INHERIT:RAW:H1"))


def _version(record: int, seq: int, content: int, copy: int) -> Event:
    system, ref = RECORDS[record]
    return Event(
        event_id=str(uuid.uuid5(uuid.NAMESPACE_OID, f"{record}/{seq}/{content}/{copy}")),
        event_type=ev.HOLD_INHERITED if system == ev.TRACESYNC else ev.GOODS_RECEIVED,
        source_system=system,
        source_ref=ref,
        source_seq=seq,
        batch_code="B1",
        occurred_at=T0,
        recorded_at=T0 + timedelta(minutes=copy),
        plant="P1",
        payload={"quantity": {"value": str(100 + content), "uom": "KG"}, "lines": [content]},
    )


POOL = [
    _version(record, seq, content, copy)
    for record in range(len(RECORDS))
    for seq in (1, 2, 3)
    for content in (0, 1)
    for copy in (0, 1, 2)
]
SEQUENCES = st.lists(st.sampled_from(POOL), max_size=24)
CONSISTENT = st.lists(st.sampled_from([e for e in POOL if e.payload["lines"] == [0]]), max_size=24)


def _says(event: Event) -> tuple[Any, ...]:
    return (event.event_type, event.occurred_at, event.plant, dict(event.payload))


def _expected_conflicts(events: list[Event]) -> list[tuple[Event, Event]]:
    """(held, refused) for each event that, when it came, met its seq held with other content."""
    out = []
    for i, event in enumerate(events):
        earlier = [e for e in events[:i] if e.record_key == event.record_key]
        if event.source_system == ev.TRACESYNC:
            continue
        if any(e.source_seq > event.source_seq for e in earlier):
            continue  # stale: the record holds a newer version
        same_seq = [e for e in earlier if e.source_seq == event.source_seq]
        if same_seq and _says(same_seq[0]) != _says(event):
            out.append((same_seq[0], event))
    return out


def _first_of_the_highest(events: list[Event]) -> dict[str, Event]:
    """Each record's version in the chain: the first to arrive of its highest source_seq."""
    top: dict[str, int] = {}
    for e in events:
        top[e.record_key] = max(top.get(e.record_key, 0), e.source_seq)
    kept: dict[str, Event] = {}
    for e in events:
        if e.source_seq == top[e.record_key]:
            kept.setdefault(e.record_key, e)
    return kept


@settings(max_examples=500, deadline=None)
@given(SEQUENCES)
def test_every_conflict_is_reported_with_the_version_kept(events: list[Event]) -> None:
    merged = merge_split(TraceChain("B1"), events)
    got = [(c.held, c.refused) for c in merged.conflicts]
    want = _expected_conflicts(events)
    assert [(id(h), id(r)) for h, r in got] == [(id(h), id(r)) for h, r in want]
    for conflict in merged.conflicts:
        assert conflict.reason.startswith(f"{REASON}: record {conflict.held.record_key!r}")
        assert conflict.held.event_id in conflict.reason
        assert content_difference(conflict.held, conflict.refused) == conflict.difference


@settings(max_examples=500, deadline=None)
@given(SEQUENCES)
def test_the_first_version_of_the_highest_source_seq_is_kept(events: list[Event]) -> None:
    chain = merge_split(TraceChain("B1"), events).chain
    kept = _first_of_the_highest(events)
    assert set(chain.records) == set(kept)
    assert all(chain.records[key] is event for key, event in kept.items())


@settings(max_examples=500, deadline=None)
@given(SEQUENCES)
def test_a_conflict_never_changes_the_chain(events: list[Event]) -> None:
    chain, kept = TraceChain("B1"), []
    for event in events:
        step = merge_split(chain, [event])
        if step.conflicts:
            assert step.chain is chain
        else:
            kept.append(event)
        chain = step.chain
    together = merge_split(TraceChain("B1"), events).chain
    assert together.content_equals(chain) and together.version == chain.version
    without = merge_split(TraceChain("B1"), kept)
    assert without.conflicts == ()
    assert without.chain.content_equals(chain) and without.chain.version == chain.version


@settings(max_examples=500, deadline=None)
@given(SEQUENCES)
def test_merging_again_changes_nothing(events: list[Event]) -> None:
    merged = merge_split(TraceChain("B1"), events)
    again = merge_split(merged.chain, events)  # a replay over the stored chain
    assert again.chain is merged.chain
    for conflict in again.conflicts:  # refused again: what contradicts the versions kept
        assert conflict.held is merged.chain.records[conflict.refused.record_key]


@settings(max_examples=500, deadline=None)
@given(CONSISTENT, st.randoms(use_true_random=False))
def test_without_conflicting_versions_the_order_does_not_matter(
    events: list[Event], rng: random.Random
) -> None:
    shuffled = list(events)
    rng.shuffle(shuffled)
    merged, other = merge_split(TraceChain("B1"), events), merge_split(TraceChain("B1"), shuffled)
    assert merged.conflicts == () and other.conflicts == ()
    assert facts(merged.chain) == facts(other.chain)


def test_a_second_version_under_one_source_seq_is_refused_naming_what_differs() -> None:
    first, second = completed("B1", "100"), completed("B1", "101")
    merged = merge_split(TraceChain("B1"), [first, second])
    assert merged.chain.records[first.record_key] is first
    (conflict,) = merged.conflicts
    assert conflict.held is first and conflict.refused is second
    assert conflict.difference == "payload.produced_quantity.value"
    assert conflict.reason == (
        f"conflicting source_seq: record 'MES|MES:BC:B1' of batch 'B1' already holds source_seq 1 "
        f"with other content (event id {first.event_id}); this event (id {second.event_id}) "
        "differs in payload.produced_quantity.value. The held version is kept; a correction "
        "needs a higher source_seq"
    )
    later = merge_split(merged.chain, [second])  # in a later buffer, from the stored chain
    assert later.chain is merged.chain and len(later.conflicts) == 1


def test_the_head_fields_are_content_the_travel_fields_are_not() -> None:
    placed = hold("B1", "H1")
    assert content_difference(placed, reingested(placed, 1)) is None
    assert content_difference(placed, replace(placed, event_type=ev.HOLD_RELEASED)) == "event_type"
    later = replace(placed, occurred_at=placed.occurred_at + timedelta(milliseconds=1))
    assert content_difference(placed, later) == "occurred_at"
    assert content_difference(placed, replace(placed, plant="P2")) == "plant"
    one, two = ({**placed.payload, "ids": ids} for ids in (["a"], ["a", "b"]))
    assert content_difference(replace(placed, payload=one), replace(placed, payload=two)) == (
        "payload.ids"
    )
    other = {**placed.payload, "ids": ["b"]}
    assert content_difference(replace(placed, payload=one), replace(placed, payload=other)) == (
        "payload.ids[0]"
    )


def test_a_field_only_one_schema_version_has_is_no_other_content() -> None:
    placed = hold("B1", "H1")
    newer_schema = replace(placed, payload={**placed.payload, "note": None})
    assert content_difference(placed, newer_schema) is None
    merged = merge_split(TraceChain("B1"), [placed, newer_schema])
    assert merged.conflicts == ()


def test_a_derived_record_sent_again_with_a_later_time_is_no_conflict() -> None:
    due = reconciliation_due_event("B1", "P1", T0)
    resent = reconciliation_due_event("B1", "P1", T0 + timedelta(seconds=30))
    assert due.event_id == resent.event_id and content_difference(due, resent) == "occurred_at"
    merged = merge_split(TraceChain("B1"), [due, resent])
    assert merged.conflicts == ()
    assert merged.chain.records[due.record_key] is due
