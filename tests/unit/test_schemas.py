"""The .avsc files: every type documented, enums with defaults, the table of event types in sync."""

from __future__ import annotations

import json
from typing import Any

import avro.schema
import pytest
from fastavro.schema import parse_schema

from tracesync.contracts.schemas import (
    AVRO_DIR,
    ENVELOPE,
    EVENT_TYPES,
    RELEASE_ROOTS,
    current,
    envelope_schema,
    envelope_schema_json,
    load_schema,
    released_versions,
)

CONTRACT = current().closure(RELEASE_ROOTS)


def _raw(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((AVRO_DIR / f"{name}.avsc").read_text())
    return raw


def test_the_contract_has_the_envelope_its_payloads_and_shared_types() -> None:
    payloads = {info.payload_record for info in EVENT_TYPES.values()}
    expected = payloads | {"Envelope", "Quantity", "Characteristic"}
    assert expected <= set(CONTRACT)
    assert len(payloads) == 16


@pytest.mark.parametrize("name", CONTRACT)
def test_every_type_and_field_is_documented_in_the_namespace(name: str) -> None:
    schema = _raw(name)
    assert schema["namespace"] == "tracesync.events"
    assert schema.get("doc"), f"{name} has no doc"
    for field in schema.get("fields", []):
        assert field.get("doc"), f"{name}.{field['name']} has no doc"


@pytest.mark.parametrize("name", [n for n in CONTRACT if _raw(n)["type"] == "enum"])
def test_every_enum_has_a_default_among_its_symbols(name: str) -> None:
    schema = _raw(name)
    assert schema["default"] == "UNKNOWN"
    assert "UNKNOWN" in schema["symbols"]


def test_event_type_symbols_match_the_table_and_the_payload_union() -> None:
    assert _raw("EventType")["symbols"] == [*EVENT_TYPES, "UNKNOWN"]
    payload = next(f for f in _raw(ENVELOPE)["fields"] if f["name"] == "payload")
    assert payload["type"] == [info.payload_record for info in EVENT_TYPES.values()]
    systems = set(_raw("SourceSystem")["symbols"])
    assert {info.source_system for info in EVENT_TYPES.values()} <= systems


def test_logical_types_are_declared() -> None:
    fields = {f["name"]: f["type"] for f in _raw(ENVELOPE)["fields"]}
    assert fields["event_id"] == {"type": "string", "logicalType": "uuid"}
    assert fields["occurred_at"]["logicalType"] == "timestamp-millis"
    value = _raw("Quantity")["fields"][0]["type"]
    assert (value["logicalType"], value["precision"], value["scale"]) == ("decimal", 18, 3)
    cost = next(f for f in _raw("ProductionReceiptPosted")["fields"] if f["name"] == "cost")
    assert (cost["type"]["precision"], cost["type"]["scale"]) == (18, 2)
    ship = next(f for f in _raw("ShipmentDispatched")["fields"] if f["name"] == "ship_date")
    assert ship["type"] == {"type": "int", "logicalType": "date"}


def test_canonical_envelope_json_is_self_contained() -> None:
    text = envelope_schema_json()
    parse_schema(json.loads(text))  # no named_schemas needed: fully expanded
    parsed = avro.schema.parse(text)
    assert parsed.fullname == "tracesync.events.Envelope"
    assert text.count('"name":"Quantity"') == 1  # defined once, referred to by name after


def test_load_schema_resolves_named_references() -> None:
    completed = load_schema("BatchCompleted")
    assert completed["name"] == "tracesync.events.BatchCompleted"
    assert envelope_schema()["name"] == "tracesync.events.Envelope"


def test_a_released_version_exists_and_holds_the_contract() -> None:
    versions = released_versions()
    assert versions, "avro/released/v1 is missing: run `tracesync schemas release`"
    assert set(versions[-1].schemas.names()) == set(CONTRACT)
