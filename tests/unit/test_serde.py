"""EnvelopeSerde: both wire formats, field-path validation, decode errors with their origin."""

from __future__ import annotations

import copy
import datetime as dt
import struct
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.test_serde_samples import PAYLOADS, envelope
from tracesync.contracts.schemas import ENVELOPE, current
from tracesync.contracts.serde import EnvelopeSerde, envelope_from_json, envelope_to_json
from tracesync.contracts.wire_formats import ENVELOPE_SUBJECT, SingleObjectFormat
from tracesync.errors import InvalidFieldsError, RecordOrigin, SerializationError, ValidationError

ORIGIN = RecordOrigin("mes.events", 2, 41)


@pytest.fixture(scope="module")
def serde() -> EnvelopeSerde:
    return EnvelopeSerde.single_object()


class FakeRegistry:
    """In-process stand-in for the registry client (unit tests only)."""

    def __init__(self) -> None:
        self.schemas: dict[int, str] = {}
        self.subjects: dict[str, int] = {}

    def register_avro(self, subject: str, schema_str: str) -> int:
        for schema_id, text in self.schemas.items():
            if text == schema_str:
                self.subjects[subject] = schema_id
                return schema_id
        schema_id = 100 + len(self.schemas)
        self.schemas[schema_id] = schema_str
        self.subjects[subject] = schema_id
        return schema_id

    def schema_str(self, schema_id: int) -> str:
        return self.schemas[schema_id]  # KeyError (a LookupError) for unknown ids


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_every_event_type_round_trips(serde: EnvelopeSerde, event_type: str) -> None:
    original = envelope(event_type)
    data = serde.encode(original)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == current().fingerprint(ENVELOPE)
    assert serde.decode(data, ORIGIN) == original


def test_decoded_values_have_python_types(serde: EnvelopeSerde) -> None:
    decoded = serde.decode(serde.encode(envelope("SHIPMENT_DISPATCHED")))
    assert isinstance(decoded["event_id"], str)
    assert decoded["occurred_at"].tzinfo is not None
    assert decoded["payload"]["quantity"]["value"] == Decimal("48.000")
    assert decoded["payload"]["ship_date"] == dt.date(2026, 3, 4)


def test_encode_names_every_bad_field(serde: EnvelopeSerde) -> None:
    bad = envelope()
    bad["payload"] = copy.deepcopy(bad["payload"])
    bad["payload"]["produced_quantity"]["value"] = "12.5"
    bad["payload"]["operators"][1] = 7
    del bad["payload"]["team"]
    bad["source_system"] = "ERP"
    bad["occurred_at"] = dt.datetime(2026, 3, 1, 8, 30)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(InvalidFieldsError) as caught:
        serde.encode(bad)
    fields = {field for field, _ in caught.value.errors}
    assert fields == {
        "payload.produced_quantity.value",
        "payload.operators[1]",
        "payload.team",
        "source_system",
        "occurred_at",
    }
    assert isinstance(caught.value, ValidationError)
    assert caught.value.batch_code == "B-000123"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Decimal("1.2345"), "decimal places"),
        (Decimal("1234567890123456"), "too large"),
        (Decimal("NaN"), "finite"),
    ],
)
def test_encode_checks_decimal_precision_and_scale(
    serde: EnvelopeSerde, value: Decimal, reason: str
) -> None:
    bad = envelope()
    bad["payload"] = {**bad["payload"], "produced_quantity": {"value": value, "uom": "KG"}}
    with pytest.raises(InvalidFieldsError, match=reason) as caught:
        serde.encode(bad)
    assert caught.value.field == "payload.produced_quantity.value"


def test_encode_rejects_unknown_fields_unknown_event_type_and_bad_uuid(
    serde: EnvelopeSerde,
) -> None:
    with pytest.raises(InvalidFieldsError) as caught:
        serde.encode(envelope(event_type="UNKNOWN_X", event_id="not-a-uuid", extra=1))
    fields = {field for field, _ in caught.value.errors}
    assert {"event_type", "event_id", "extra"} <= fields
    with pytest.raises(InvalidFieldsError, match="UNKNOWN cannot be published"):
        serde.encode(envelope() | {"event_type": "UNKNOWN"})


def test_envelope_from_json_converts_rest_input() -> None:
    obj = envelope_to_json(envelope("PRODUCTION_RECEIPT_POSTED"))
    assert obj["occurred_at"] == "2026-03-01T08:30:00.000Z"
    assert obj["payload"]["cost"] == "15321.45"
    obj["recorded_at"] = "2026-03-01T10:30:05.123+02:00"
    obj["payload"]["quantity"]["value"] = 1200.5  # JSON number accepted, made exact
    back = envelope_from_json(obj)
    assert back == envelope("PRODUCTION_RECEIPT_POSTED")


def test_envelope_from_json_collects_all_field_errors() -> None:
    obj = envelope_to_json(envelope())
    obj["occurred_at"] = "2026-03-01T08:30:00"  # no offset
    obj["recorded_at"] = "yesterday"
    obj["source_seq"] = "3"
    obj["payload"]["produced_quantity"] = {"value": "1.2345"}
    obj["payload"]["trace_codes"] = ["ok", None]
    obj["payload"]["produced_qty"] = 1
    with pytest.raises(InvalidFieldsError) as caught:
        envelope_from_json(obj)
    assert dict(caught.value.errors).keys() == {
        "occurred_at",
        "recorded_at",
        "source_seq",
        "payload.produced_quantity.value",
        "payload.produced_quantity.uom",
        "payload.trace_codes[1]",
        "payload.produced_qty",
    }
    assert "UTC offset" in dict(caught.value.errors)["occurred_at"]


def test_envelope_from_json_fills_defaults_of_optional_fields() -> None:
    obj = envelope_to_json(envelope("COMPLAINT_RECEIVED"))
    del obj["payload"]["trace_code"]
    assert envelope_from_json(obj)["payload"]["trace_code"] is None


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
def test_decode_errors_carry_the_origin(serde: EnvelopeSerde, mangle: Any, message: str) -> None:
    data = mangle(serde.encode(envelope()))
    with pytest.raises(SerializationError, match=message) as caught:
        serde.decode(data, ORIGIN)
    assert caught.value.origin == ORIGIN
    assert "mes.events[2]@41" in str(caught.value)


def test_data_of_a_released_older_schema_is_resolved_to_the_current_one() -> None:
    newer = copy.deepcopy(current().raw("BatchCompleted"))
    newer["fields"].append({"name": "line_speed", "type": "double", "doc": "x", "default": 1.5})
    reader_schemas = current().with_changes({"BatchCompleted": newer})
    old_writer = EnvelopeSerde(SingleObjectFormat(current()), schemas=current())
    new_reader = EnvelopeSerde(
        SingleObjectFormat(reader_schemas, released=[current()]), schemas=reader_schemas
    )
    decoded = new_reader.decode(old_writer.encode(envelope()), ORIGIN)
    assert decoded["payload"]["line_speed"] == 1.5


def test_confluent_format_registers_once_and_round_trips() -> None:
    registry = FakeRegistry()
    serde = EnvelopeSerde.confluent(registry)
    first = serde.encode(envelope())
    serde.encode(envelope("HOLD_PLACED"))
    assert first[0] == 0
    (schema_id,) = struct.unpack(">I", first[1:5])
    assert registry.subjects == {ENVELOPE_SUBJECT: schema_id}
    assert EnvelopeSerde.confluent(registry).decode(first, ORIGIN) == envelope()


def test_confluent_reader_fetches_unknown_ids_and_reports_missing_ones() -> None:
    registry = FakeRegistry()
    data = EnvelopeSerde.confluent(registry).encode(envelope())
    other_process = EnvelopeSerde.confluent(registry)  # has not registered: must fetch the id
    assert other_process.decode(data, ORIGIN) == envelope()
    missing = b"\x00" + struct.pack(">I", 999) + data[5:]
    with pytest.raises(SerializationError, match="schema id 999") as caught:
        other_process.decode(missing, ORIGIN)
    assert caught.value.origin == ORIGIN


def test_confluent_serde_still_reads_single_object_records(serde: EnvelopeSerde) -> None:
    data = serde.encode(envelope())
    assert EnvelopeSerde.confluent(FakeRegistry()).decode(data, ORIGIN) == envelope()
