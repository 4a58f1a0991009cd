"""Native decoding: payloads straight in the worker's JSON-native forms, equal to the plain path."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastavro.read import LOGICAL_READERS
from hypothesis import given
from hypothesis import strategies as st

from streams import state
from streams.domain.events import Event
from tests.unit.test_serde import ORIGIN, FakeRegistry
from tests.unit.test_serde_samples import PAYLOADS, envelope
from tracesync.contracts.native import (
    NativeEnvelope,
    date_text,
    decimal_text,
    json_native,
    to_millis,
    uuid_text,
)
from tracesync.contracts.schemas import current
from tracesync.contracts.serde import EnvelopeSerde, SingleObjectFormat
from tracesync.errors import SerializationError


@pytest.fixture(scope="module")
def serde() -> EnvelopeSerde:
    return EnvelopeSerde.single_object()


def _plain_native(decoded: dict[str, Any]) -> dict[str, Any]:
    """What the worker made of a plain decoding before: the payload through ``json_native``."""
    return decoded | {"payload": json_native(dict(decoded["payload"]))}


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_native_decoding_equals_json_native_of_the_plain_one(
    serde: EnvelopeSerde, event_type: str
) -> None:
    data = serde.encode(envelope(event_type))
    native = serde.decode(data, ORIGIN, native=True)
    assert type(native) is NativeEnvelope
    assert native == _plain_native(serde.decode(data, ORIGIN))
    assert isinstance(native["event_id"], str)
    assert isinstance(native["occurred_at"], datetime)


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_both_paths_give_the_same_domain_event(serde: EnvelopeSerde, event_type: str) -> None:
    data = serde.encode(envelope(event_type))
    plain = state.event_from_envelope(serde.decode(data, ORIGIN))
    native = state.event_from_envelope(serde.decode(data, ORIGIN, native=True))
    assert native == plain
    assert state.encode_event(native) == state.encode_event(plain)
    direct = serde.decode_as(data, Event, ORIGIN)
    assert direct == native
    assert state.encode_event(direct) == state.encode_event(plain)


def test_decode_as_refuses_what_decode_refuses(serde: EnvelopeSerde) -> None:
    data = serde.encode(envelope(sorted(PAYLOADS)[0]))
    with pytest.raises(SerializationError, match="bytes left after the Envelope"):
        serde.decode_as(data + b"\x00", Event, ORIGIN)
    with pytest.raises(SerializationError):
        serde.decode_as(data[:-3], Event, ORIGIN)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b[:5], "truncated"),
        (lambda b: b"", "empty"),
        (lambda b: b"\x01" + b[1:], "unknown wire format"),
        (lambda b: b[:2] + b"\x00" * 8 + b[10:], "unknown schema fingerprint"),
        (lambda b: b[:-4], "cannot decode"),
        (lambda b: b + b"\x00", "left after"),
        (lambda b: b[:10] + b"\x06abc" + b[10:], "cannot decode"),  # event_id not a UUID
    ],
)
def test_native_decode_errors_carry_the_origin(
    serde: EnvelopeSerde, mangle: Any, message: str
) -> None:
    data = mangle(serde.encode(envelope()))
    with pytest.raises(SerializationError, match=message) as caught:
        serde.decode(data, ORIGIN, native=True)
    assert caught.value.origin == ORIGIN


def test_every_prefix_of_a_record_is_refused(serde: EnvelopeSerde) -> None:
    data = serde.encode(envelope("INSPECTION_RECORDED"))
    for end in range(len(data)):
        with pytest.raises(SerializationError):
            serde.decode(data[:end], ORIGIN, native=True)


def test_data_of_an_older_schema_is_resolved_natively() -> None:
    newer = copy.deepcopy(current().raw("BatchCompleted"))
    newer["fields"].append({"name": "line_speed", "type": "double", "doc": "x", "default": 1.5})
    reader_schemas = current().with_changes({"BatchCompleted": newer})
    old_writer = EnvelopeSerde(SingleObjectFormat(current()), schemas=current())
    new_reader = EnvelopeSerde(
        SingleObjectFormat(reader_schemas, released=[current()]), schemas=reader_schemas
    )
    data = old_writer.encode(envelope())
    decoded = new_reader.decode(data, ORIGIN, native=True)
    assert decoded["payload"]["line_speed"] == 1.5
    assert decoded == _plain_native(new_reader.decode(data, ORIGIN))


def test_confluent_records_decode_natively_with_a_fetched_schema() -> None:
    registry = FakeRegistry()
    data = EnvelopeSerde.confluent(registry).encode(envelope("SHIPMENT_DISPATCHED"))
    other_process = EnvelopeSerde.confluent(registry)
    decoded = other_process.decode(data, ORIGIN, native=True)
    assert decoded == _plain_native(other_process.decode(data, ORIGIN))
    assert isinstance(decoded["payload"]["ship_date"], str)


def _decimal_bytes(unscaled: int) -> bytes:
    return unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)


@given(
    unscaled=st.integers(min_value=-(10**20), max_value=10**20),
    scale=st.integers(min_value=0, max_value=9),
    precision=st.integers(min_value=1, max_value=22),
)
def test_decimal_text_is_the_text_of_fastavros_decimal(
    unscaled: int, scale: int, precision: int
) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    data = _decimal_bytes(unscaled)
    assert decimal_text(data, schema) == str(LOGICAL_READERS["bytes-decimal"](data, schema, None))


@given(days=st.integers(min_value=-700_000, max_value=2_900_000))
def test_date_text_is_the_iso_date(days: int) -> None:
    assert date_text(days) == LOGICAL_READERS["int-date"](days, None, None).isoformat()


@given(st.uuids())
def test_uuid_text_is_the_canonical_form(value: uuid.UUID) -> None:
    assert uuid_text(str(value)) == str(value)
    assert uuid_text(str(value).upper()) == str(value)
    assert uuid_text(value.hex) == str(value)


def test_uuid_text_refuses_what_uuid_refuses() -> None:
    with pytest.raises(ValueError, match="badly formed"):
        uuid_text("not-a-uuid")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=-(10**12), max_value=10**14))
def test_to_millis_is_exact(millis: int) -> None:
    assert to_millis(EPOCH + timedelta(milliseconds=millis)) == millis
    assert to_millis((EPOCH + timedelta(milliseconds=millis)).replace(tzinfo=None)) == millis


@given(st.integers(min_value=1_577_836_800_000, max_value=1_893_456_000_000))  # 2020 .. 2030
def test_to_millis_agrees_with_the_float_formula_where_that_one_was_right(millis: int) -> None:
    moment = EPOCH + timedelta(milliseconds=millis)
    assert to_millis(moment) == int(moment.timestamp() * 1000)


def test_json_native_forms() -> None:
    moment = datetime(2026, 3, 1, 6, 0, 0, 123000, tzinfo=UTC)
    value = {"q": [Decimal("1.500"), moment.date()], "t": (moment,)}
    assert json_native(value) == {"q": ["1.500", "2026-03-01"], "t": [to_millis(moment)]}
