"""The buffer processor: stages timed, a failing chain parked, every other chain processed."""

from __future__ import annotations

import pytest

from streams import state
from streams.domain.chain import TraceChain
from streams.domain.events import Event
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainProcessor, Incoming
from streams.stages import DECODE, LOAD, MERGE, VIEW, StageClock
from tests.unit.domain_factory import completed, received
from tracesync.contracts.registry_client import RegistryError


def _incoming(event_bytes: bytes, code: str, offset: int) -> Incoming:
    return Incoming(code.encode(), event_bytes, "trace.derived", 0, offset)


def _records() -> list[Incoming]:
    events = [completed("B1"), received("B1", "100"), completed("B2"), completed("B3")]
    return [_incoming(state.encode_event(e), e.batch_code, i) for i, e in enumerate(events)]


def _processor(load: object, clock: StageClock | None = None) -> ChainProcessor:
    return ChainProcessor(
        decode=lambda r: state.decode_event(r.value or b""),
        load=load,  # type: ignore[arg-type]
        rules=ReconciliationRules(),
        clock=clock or StageClock(),
    )


def test_every_stage_is_timed_and_every_changed_chain_viewed_once() -> None:
    clock = StageClock()
    result = _processor(lambda code: None, clock).process(_records())
    assert set(clock.seconds) == {DECODE, LOAD, MERGE, VIEW}
    assert sorted(result.chains) == ["B1", "B2", "B3"]
    assert [v.batch_code for v in result.views] == ["B1", "B2", "B3"]
    assert result.chains["B1"].version == 2
    assert not result.dead_letters


def test_a_chain_that_cannot_be_loaded_is_parked_and_the_others_go_on() -> None:
    def load(code: str) -> TraceChain | None:
        if code == "B2":
            raise RuntimeError("state store unreadable")
        return None

    result = _processor(load).process(_records())
    assert sorted(result.chains) == ["B1", "B3"]
    (letter,) = result.dead_letters
    assert letter.record.key == b"B2"
    assert letter.reason == "merge failed: RuntimeError: state store unreadable"


def test_the_next_buffer_goes_on_from_the_cached_view() -> None:
    processor = _processor(lambda code: None)
    processor.process(_records()[:1])
    cached = processor.cache.get("B1")
    assert cached is not None and cached.view.warehouse.received_quantity is None
    result = processor.process(_records()[1:2])
    (view,) = result.views
    assert view.version == 2
    assert view.production is cached.view.production  # derived incrementally
    assert view.warehouse.received_quantity is not None


def test_a_registry_outage_while_decoding_escapes_instead_of_dead_lettering_good_records() -> None:
    """Issue 15 fault run: a worker started while the registry was down parked good events."""

    def decode(record: Incoming) -> Event:
        if record.offset == 2:
            raise RegistryError("registry at http://127.0.0.1:1 unreachable (get schema id 3)")
        return state.decode_event(record.value or b"")

    processor = ChainProcessor(decode=decode, load=lambda code: None, rules=ReconciliationRules())
    with pytest.raises(RegistryError):
        processor.process(_records())


def test_a_record_that_cannot_be_decoded_is_still_dead_lettered() -> None:
    def decode(record: Incoming) -> Event:
        if record.offset == 2:
            raise ValueError("not an event")
        return state.decode_event(record.value or b"")

    processor = ChainProcessor(decode=decode, load=lambda code: None, rules=ReconciliationRules())
    result = processor.process(_records())
    (letter,) = result.dead_letters
    assert letter.record.offset == 2
    assert letter.reason == "undecodable: ValueError: not an event"
    assert sorted(result.chains) == ["B1", "B3"]
