"""The chain merge: idempotent, order-insensitive for consistent input, deterministic.

The conflict rule (two versions under one ``source_seq``) has its own tests:
``test_domain_conflicts.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain.chain import TraceChain, merge, merge_all, merge_split
from streams.domain.events import Event
from tests.unit.domain_factory import completed, consumed, erp_receipt, hold, received


def facts(chain: TraceChain) -> dict[str, tuple[Any, ...]]:
    """What each record of ``chain`` says, without how its version travelled (id, recorded_at)."""
    return {
        key: (e.source_seq, e.event_type, e.occurred_at, e.plant, dict(e.payload))
        for key, e in chain.records.items()
    }


def reingested(event: Event, n: int) -> Event:
    """``event`` sent again through an edge that gives it a new id and the time it came in."""
    return replace(
        event,
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event.event_id}/{n}")),
        recorded_at=event.recorded_at + timedelta(hours=n),
    )


def test_an_event_already_seen_changes_nothing() -> None:
    event = completed("B1")
    once = merge(TraceChain("B1"), event)
    assert once.version == 1
    assert merge(once, event) is once
    assert merge_split(once, [event, event]).chain is once
    assert merge_split(once, [event]).conflicts == ()


def test_the_higher_source_seq_wins_whatever_the_arrival_order() -> None:
    first, correction = completed("B1", "100", seq=1), completed("B1", "98", seq=2)
    in_order = merge_all(TraceChain("B1"), [first, correction])
    reversed_ = merge_all(TraceChain("B1"), [correction, first])
    assert in_order.content_equals(reversed_)
    assert reversed_.version == 1  # the stale version was not an effective change
    (winner,) = in_order.records.values()
    assert winner is correction


def test_the_same_version_again_with_a_new_event_id_changes_nothing() -> None:
    first = completed("B1", "100")
    chain = merge(TraceChain("B1"), first)
    again = merge_split(chain, [reingested(first, 1), reingested(first, 2)])
    assert again.chain is chain and again.conflicts == ()
    assert chain.records[first.record_key] is first  # the first copy's id and recorded_at


def test_an_event_of_another_batch_is_a_routing_bug() -> None:
    try:
        merge(TraceChain("B1"), completed("B2"))
    except ValueError as exc:
        assert "B2" in str(exc)
    else:
        raise AssertionError("merging another batch's event must fail")


EVENTS = [
    completed("B1", "100", seq=1),
    completed("B1", "99", seq=2),
    consumed("B1", "L1"),
    consumed("B1", "L2"),
    received("B1", "60", n=1),
    received("B1", "39", n=2),
    erp_receipt("B1", "99"),
    hold("B1", "H1", target="BATCH"),
    hold("B1", "H1", released=True, target="BATCH"),
]
COPIES = [reingested(e, n) for e in EVENTS for n in (1, 2)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_permutation_with_duplicates_yields_the_same_chain(data: st.DataObject) -> None:
    expected = merge_all(TraceChain("B1"), EVENTS)
    duplicates = data.draw(st.lists(st.sampled_from(EVENTS), max_size=2 * len(EVENTS)))
    events = data.draw(st.permutations(EVENTS + duplicates))
    merged = merge_split(TraceChain("B1"), events)
    assert merged.chain.content_equals(expected)
    assert merged.conflicts == ()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_re_ingested_copies_in_any_order_say_the_same_and_conflict_with_nothing(
    data: st.DataObject,
) -> None:
    expected = facts(merge_all(TraceChain("B1"), EVENTS))
    copies = data.draw(st.lists(st.sampled_from(COPIES), max_size=2 * len(EVENTS)))
    events = data.draw(st.permutations(EVENTS + copies))
    merged = merge_split(TraceChain("B1"), events)
    assert facts(merged.chain) == expected
    assert merged.conflicts == ()
    assert merge_split(merged.chain, events).chain is merged.chain  # idempotent as a whole
