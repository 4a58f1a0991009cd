"""The processor's size limits: a field, event or chain too large is a dead letter, not a crash.

Finding 1 of issue 15: two valid ~600 KB events for one batch made a chain larger than the
broker takes, and the worker died on ``MessageSizeTooLarge``. Here the chain limit keeps the
first, dead-letters the second with the reason, and leaves the other chains of the buffer alone.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from streams import state
from streams.domain.limits import field_problem, oversized_field
from streams.domain.reconcile import ReconciliationRules
from streams.processor import ChainLimits, ChainProcessor, Incoming
from streams.processor import _field_problem as processor_field_problem
from tests.unit.domain_factory import completed, make, received

LIMITS = ChainLimits(max_field_bytes=1_000, max_event_bytes=20_000, max_chain_bytes=30_000)


def _incoming(data: bytes, code: str, offset: int) -> Incoming:
    return Incoming(code.encode(), data, "trace.derived", 0, offset)


def _processor(stored: dict[str, bytes]) -> ChainProcessor:
    def load(code: str) -> object:
        data = stored.get(code)
        return state.decode_chain(data) if data is not None else None

    return ChainProcessor(
        decode=lambda r: state.decode_event(r.value or b""),
        load=load,  # type: ignore[arg-type]
        rules=ReconciliationRules(),
        limits=LIMITS,
    )


def _big_started(batch: str, ref: str, kilobytes: int) -> bytes:
    operators = [f"op-{i:06d}-" + "x" * 90 for i in range(kilobytes * 10)]  # ~100 bytes each
    event = make(
        "BATCH_STARTED",
        batch,
        {
            "order_id": "PO",
            "product_code": "FG-1",
            "line_id": "L1",
            "shift": "A",
            "team": "T1",
            "operators": operators,
            "equipment": [],
        },
        system="MES",
        ref=ref,
    )
    return state.encode_event(event)


def test_an_event_that_would_overgrow_its_chain_is_dead_lettered_and_the_rest_goes_on() -> None:
    first, second = _big_started("B1", "MES:BS:1", 18), _big_started("B1", "MES:BS:2", 18)
    assert len(first) <= LIMITS.max_event_bytes < len(first) + len(second)
    good = [state.encode_event(e) for e in (completed("B2"), received("B2", "100"))]
    records = [
        _incoming(good[0], "B2", 0),
        _incoming(first, "B1", 1),
        _incoming(second, "B1", 2),
        _incoming(good[1], "B2", 3),
    ]
    result = _processor({}).process(records)
    (letter,) = result.dead_letters
    assert letter.record.offset == 2
    assert "worker.max_chain_bytes" in letter.reason and "'B1'" in letter.reason
    assert sorted(result.chains) == ["B1", "B2"]
    assert len(result.chains["B1"].records) == 1
    assert all(len(data) <= LIMITS.max_chain_bytes for data in result.encoded.values())
    assert state.decode_chain(result.encoded["B1"]).records == result.chains["B1"].records
    assert {v.batch_code for v in result.views} == {"B1", "B2"}


def test_a_full_chain_takes_no_more_events_in_later_buffers() -> None:
    stored: dict[str, bytes] = {}
    processor = _processor(stored)
    result = processor.process([_incoming(_big_started("B1", "MES:BS:1", 18), "B1", 0)])
    stored |= result.encoded
    processor.cache.clear()
    later = processor.process([_incoming(_big_started("B1", "MES:BS:2", 18), "B1", 1)])
    assert [d.record.offset for d in later.dead_letters] == [1]
    assert later.chains == {} and later.encoded == {} and later.views == []


def test_a_record_over_the_event_limit_is_dead_lettered_undecoded() -> None:
    huge = _big_started("B1", "MES:BS:1", 25)
    result = _processor({}).process([_incoming(huge, "B1", 7)])
    (letter,) = result.dead_letters
    assert f"event of {len(huge)} bytes" in letter.reason
    assert "worker.max_event_bytes" in letter.reason
    assert result.chains == {}


def test_a_field_over_the_field_limit_is_named_in_the_dead_letter() -> None:
    event = completed("B1")
    long_code = replace(event, payload={**event.payload, "order_id": "é" * 600})
    result = _processor({}).process([_incoming(state.encode_event(long_code), "B1", 0)])
    (letter,) = result.dead_letters
    assert "field payload.order_id of 1200 bytes" in letter.reason


def test_oversized_field_walks_lists_and_identifiers() -> None:
    event = completed("B1")
    assert oversized_field(event, 100) is None
    listed = replace(event, payload={**event.payload, "trace_codes": ["a", "b" * 101]})
    assert oversized_field(listed, 100) == (
        "field payload.trace_codes[1] of 101 bytes exceeds the limit of 100 bytes"
    )
    assert oversized_field(replace(event, source_ref="r" * 101), 100) is not None


def test_nul_and_unreadable_codes_are_dead_lettered_by_the_worker_too() -> None:
    event = completed("B1")
    cases = {
        "field payload.order_id contains a NUL character": replace(
            event, payload={**event.payload, "order_id": "P\x00"}
        ),
        "field batch_code is blank": replace(event, batch_code="  "),
        "field batch_code contains the control or format character U+202E": replace(
            event, batch_code="B\u202e1"
        ),
        "field source_ref contains the control or format character U+000A": replace(
            event, source_ref="MES:1\nforged"
        ),
    }
    records = [
        _incoming(state.encode_event(e), e.batch_code, i) for i, e in enumerate(cases.values())
    ]
    result = _processor({}).process(records)
    reasons = [d.reason for d in result.dead_letters]
    assert [any(r.startswith(want) for r in reasons) for want in cases] == [True] * 4
    assert result.chains == {}


_TEXT = st.text(alphabet=st.sampled_from(["a", "é", "€", "𝄞", "\x00"]), max_size=40)
_PAYLOAD = st.recursive(
    st.none() | st.integers() | st.booleans() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _first_problem(value: object, path: str, limit: int) -> str | None:
    """The reference: every text value in walk order, with its path."""
    if isinstance(value, str):
        size = len(value.encode("utf-8"))
        if "\x00" in value:
            return f"field {path} contains a NUL character (U+0000)"
        return f"field {path} of {size} bytes exceeds the limit of {limit} bytes" * (size > limit)
    children: list[tuple[str, object]] = []
    if isinstance(value, dict):
        children = [(f"{path}.{k}", v) for k, v in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return next((p for p in (_first_problem(v, q, limit) for q, v in children) if p), None)


@given(payload=st.dictionaries(_TEXT, _PAYLOAD, max_size=4), plant=_TEXT, limit=st.integers(1, 120))
def test_oversized_field_names_the_first_text_in_walk_order(
    payload: dict[str, object], plant: str, limit: int
) -> None:
    # short head values, so the lean first pass decides too (a 36-character id exceeds it)
    event = replace(completed("B1"), event_id="E1", source_ref="R1", payload=payload, plant=plant)
    head = {"event_id": event.event_id, "source_ref": event.source_ref, "batch_code": "B1"}
    expected = (
        next((p for p in (_first_problem(v, k, limit) for k, v in head.items()) if p), None)
        or _first_problem(plant, "plant", limit)
        or _first_problem(payload, "payload", limit)
    )
    assert oversized_field(event, limit) == expected


@given(payload=st.dictionaries(_TEXT, _PAYLOAD, max_size=4), limit=st.integers(1, 400))
def test_the_processors_quick_pass_gives_the_domains_reason(
    payload: dict[str, object], limit: int
) -> None:
    event = replace(completed("B1"), event_id="E1", source_ref="R1", payload=payload)
    assert processor_field_problem(event, limit) == field_problem(event, limit)
