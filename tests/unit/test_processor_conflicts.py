"""The processor dead-letters a second version under one ``source_seq`` (issue 15, finding 8).

Before, two different events for one source record and one ``source_seq`` were both taken and
one silently dropped. Now the chain keeps the version it holds (the first to arrive), the other
goes to the dead letters with the reason, and the rest of the buffer goes on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from streams import state
from streams.domain.events import Event
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainLimits, ChainProcessor, Incoming
from tests.unit.domain_factory import completed, make, received
from tests.unit.test_domain_merge import reingested


def _incoming(event: Event, offset: int) -> Incoming:
    return Incoming(event.batch_code.encode(), state.encode_event(event), "mes.events", 0, offset)


DEFAULT_LIMITS = ChainLimits()


def _processor(stored: dict[str, bytes], limits: ChainLimits = DEFAULT_LIMITS) -> ChainProcessor:
    def load(code: str) -> object:
        data = stored.get(code)
        return state.decode_chain(data) if data is not None else None

    return ChainProcessor(
        decode=lambda r: state.decode_event(r.value or b""),
        load=load,  # type: ignore[arg-type]
        rules=ReconciliationRules(),
        limits=limits,
    )


def _kept(data: bytes, event: Event) -> Event:
    return state.decode_chain(data).records[event.record_key]


def test_the_second_version_is_dead_lettered_and_the_buffer_goes_on() -> None:
    first, second = completed("B1", "100"), completed("B1", "101")
    copy = reingested(first, 1)  # the same version posted again: not a conflict
    good = [completed("B2"), received("B2", "100")]
    records = [_incoming(e, i) for i, e in enumerate([good[0], first, second, copy, good[1]])]
    result = _processor({}).process(records)
    (letter,) = result.dead_letters
    assert letter.record.offset == 2
    assert letter.reason.startswith("conflicting source_seq: record 'MES|MES:BC:B1'")
    assert f"(event id {first.event_id})" in letter.reason
    assert f"this event (id {second.event_id})" in letter.reason
    assert "payload.produced_quantity.value" in letter.reason
    assert _kept(result.encoded["B1"], first).event_id == first.event_id
    assert sorted(result.chains) == ["B1", "B2"] and len(result.chains["B2"].records) == 2
    (b1,) = [v for v in result.views if v.batch_code == "B1"]
    assert b1.production is not None and b1.production.produced_quantity == Decimal("100")


def test_a_conflict_with_a_stored_chain_is_dead_lettered_and_publishes_nothing() -> None:
    first = completed("B1", "100")
    stored = _processor({}).process([_incoming(first, 0)]).encoded
    restarted = _processor(stored)  # a new worker: the chain comes from the state
    second = replace(first, event_id="e-2", payload={**first.payload, "order_id": "PO-X"})
    result = restarted.process([_incoming(second, 1)])
    (letter,) = result.dead_letters
    assert "differs in payload.order_id" in letter.reason
    assert result.chains == {} and result.encoded == {} and result.views == []


def test_an_event_read_again_after_a_restart_is_no_conflict_whatever_its_time() -> None:
    far = datetime(2203, 5, 17, 8, 30, 15, 123000, tzinfo=UTC)
    event = replace(completed("B1"), occurred_at=far, recorded_at=far)
    stored = _processor({}).process([_incoming(event, 0)]).encoded
    result = _processor(stored).process([_incoming(event, 0)])  # re-read after a crash
    assert result.dead_letters == []
    assert [v.batch_code for v in result.views] == ["B1"]  # its outputs are sent again


def test_over_the_chain_limit_conflicts_and_oversize_events_are_both_dead_lettered() -> None:
    limits = ChainLimits(max_field_bytes=1_000, max_event_bytes=20_000, max_chain_bytes=30_000)
    big = [_started(ref, "op" * 8, 700) for ref in ("MES:BS:1", "MES:BS:2")]
    other = _started("MES:BS:1", "x", 10)  # seq 1 of the first record again, other content
    records = [_incoming(e, i) for i, e in enumerate([big[0], other, big[1]])]
    result = _processor({}, limits).process(records)
    reasons = {d.record.offset: d.reason for d in result.dead_letters}
    assert sorted(reasons) == [1, 2]
    assert reasons[1].startswith("conflicting source_seq") and big[0].event_id in reasons[1]
    assert "worker.max_chain_bytes" in reasons[2]
    assert _kept(result.encoded["B1"], big[0]).event_id == big[0].event_id


def _started(ref: str, operator: str, count: int) -> Event:
    payload = {
        "order_id": "PO",
        "product_code": "FG-1",
        "line_id": "L1",
        "shift": "A",
        "team": "T1",
        "operators": [f"{operator}-{i:04d}" for i in range(count)],
        "equipment": [],
    }
    return make("BATCH_STARTED", "B1", payload, system="MES", ref=ref)
