"""The lean REST validation path: the same envelope as ``from_json`` for good events, and never an
envelope where ``from_json`` refuses one (checked on every event type and on Hypothesis-mangled
events: changed values, removed fields, unknown fields, at any depth)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.rest.fast_convert import FastEnvelopeConverter
from tests.unit.test_serde_samples import PAYLOADS, envelope
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import InvalidFieldsError

SERDE = EnvelopeSerde.single_object()
FAST = FastEnvelopeConverter()
GOOD = {event_type: SERDE.to_json(envelope(event_type)) for event_type in PAYLOADS}


def full(obj: Any) -> dict[str, Any] | None:
    try:
        return SERDE.from_json(obj)
    except InvalidFieldsError:
        return None


@pytest.mark.parametrize("event_type", sorted(GOOD))
def test_a_good_event_of_every_type_gets_the_envelope_from_json_gives(event_type: str) -> None:
    obj = GOOD[event_type]
    converted = FAST.convert(obj)
    assert converted is not None
    assert converted == SERDE.from_json(obj)


def test_optional_fields_left_out_get_their_defaults() -> None:
    obj = {k: v for k, v in GOOD["BATCH_STARTED"].items() if k != "plant"}
    assert FAST.convert(obj) == full(obj)


@pytest.mark.parametrize(
    "change",
    [
        {"batch_code": ""},
        {"source_ref": ""},
        {"event_type": "UNKNOWN"},
        {"source_system": "ERP"},
        {"source_seq": True},
        {"source_seq": 2**63},
        {"occurred_at": "2025-03-01T06:00:00"},
        {"event_id": "not-a-uuid"},
        {"surprise": 1},
    ],
)
def test_what_from_json_refuses_the_lean_path_never_converts(change: dict[str, Any]) -> None:
    obj = {**GOOD["BATCH_STARTED"], **change}
    assert full(obj) is None
    assert FAST.convert(obj) is None


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "12.5", "2025-03-01T06:00:00Z", "2025-03-01", "KG", "PASS", "MES"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mangled(obj: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    parent: Any = out
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "remove" and isinstance(parent, dict):
        del parent[last]
    elif how == "add" and isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent[last] = value
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event_type=st.sampled_from(sorted(GOOD)),
    pick=st.integers(min_value=0),
    how=st.sampled_from(["replace", "remove", "add"]),
    value=JSON_VALUES,
)
def test_a_mangled_event_is_converted_as_from_json_does_or_left_to_it(
    event_type: str, pick: int, how: str, value: Any
) -> None:
    good = GOOD[event_type]
    where = paths(good)
    obj = mangled(good, where[pick % len(where)], how, value)
    converted = FAST.convert(obj)
    if converted is not None:  # the lean path may give up; it may never disagree
        assert converted == full(obj)
