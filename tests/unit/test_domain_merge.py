"""The chain merge: idempotent by event id, order-insensitive, deterministic."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain.chain import TraceChain, merge, merge_all
from tests.unit.domain_factory import completed, consumed, erp_receipt, hold, received


def test_an_event_already_seen_changes_nothing() -> None:
    event = completed("B1")
    once = merge(TraceChain("B1"), event)
    assert once.version == 1
    assert merge(once, event) is once


def test_the_higher_source_seq_wins_whatever_the_arrival_order() -> None:
    first, correction = completed("B1", "100", seq=1), completed("B1", "98", seq=2)
    in_order = merge_all(TraceChain("B1"), [first, correction])
    reversed_ = merge_all(TraceChain("B1"), [correction, first])
    assert in_order.content_equals(reversed_)
    assert reversed_.version == 1  # the stale version was not an effective change
    (winner,) = in_order.records.values()
    assert winner is correction


def test_equal_seq_conflict_is_decided_by_event_id_not_arrival() -> None:
    a = completed("B1", "100")
    b = completed("B1", "101")
    assert merge_all(TraceChain("B1"), [a, b]).content_equals(merge_all(TraceChain("B1"), [b, a]))


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


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_permutation_with_duplicates_yields_the_same_chain(data: st.DataObject) -> None:
    expected = merge_all(TraceChain("B1"), EVENTS)
    duplicates = data.draw(st.lists(st.sampled_from(EVENTS), max_size=2 * len(EVENTS)))
    events = data.draw(st.permutations(EVENTS + duplicates))
    assert merge_all(TraceChain("B1"), events).content_equals(expected)
