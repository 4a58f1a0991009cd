"""Coalesced publishing: one view per batch per interval, always the latest; nothing else lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams import state
from streams.coalesce import ChainCoalescer
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainProcessor, Incoming
from tests.unit.domain_factory import completed, received


def _processor() -> ChainProcessor:
    return ChainProcessor(
        decode=lambda r: state.decode_event(r.value or b""),
        load=lambda code: None,
        rules=ReconciliationRules(),
    )


def _record(code: str, quantity: str | None, offset: int) -> Incoming:
    event = completed(code) if quantity is None else received(code, quantity)
    return Incoming(code.encode(), state.encode_event(event), "trace.derived", 0, offset)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 5)), min_size=1, max_size=30))
def test_the_latest_view_of_each_batch_is_published_once(plan: list[tuple[str, int]]) -> None:
    processor, coalescer = _processor(), ChainCoalescer[int]()
    latest: dict[str, int] = {}
    offset = 0
    for code, buffers in plan:
        for _ in range(buffers):  # several buffers of one batch within the interval
            rest = coalescer.add(processor.process([_record(code, str(offset), offset)]), [offset])
            assert not rest.views
            offset += 1
        cached = processor.cache.get(code)
        assert cached is not None
        latest[code] = cached.view.version
    pending = coalescer.take()
    assert {code: view.version for code, view in pending.views.items()} == latest
    assert pending.tokens == list(range(offset))  # every record, in order, to ack after
    assert not len(coalescer) and not coalescer.take().views


def test_alerts_genealogy_and_dead_letters_are_not_held() -> None:
    coalescer = ChainCoalescer[str]()
    bad = Incoming(b"X", b"not json", "trace.derived", 0, 9)
    result = _processor().process([_record("A", None, 0), bad])
    rest = coalescer.add(result, ["a", "bad"])
    assert rest.dead_letters == result.dead_letters and len(rest.dead_letters) == 1
    assert rest.alerts == result.alerts and rest.genealogy == result.genealogy
    assert list(coalescer.take().views) == ["A"]
