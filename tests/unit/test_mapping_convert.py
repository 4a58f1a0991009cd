"""Rows to envelopes: coercion towards the Avro types, and every bad field named."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from producers.mapping import Converted, RowConverter, RowRejected, derived_event_id, parse_mapping
from tracesync.contracts.serde import EnvelopeSerde

MAPPING = """
[source]
name = "erp"
system = "ERP"
timezone = "Europe/Berlin"
[db]
table = "outbox"
mode = "outbox"
key_columns = ["id"]
[envelope]
event_type = "SHIPMENT_DISPATCHED"
batch_code = "batch"
source_ref = { template = "ERP:DLV:{delivery}:L{line}" }
source_seq = "version"
occurred_at = "shipped_at"
[payload]
delivery_id = "delivery"
customer_id = { column = "customer", default = "C-UNKNOWN" }
ship_to = "ship_to"
quantity = { value = "qty", uom = "uom" }
ship_date = "ship_date"
"""

SERDE = EnvelopeSerde.single_object()


def converter(text: str = MAPPING) -> RowConverter:
    mapping = parse_mapping(tomllib.loads(text), Path("m.toml"))
    return RowConverter(mapping.events, SERDE, "PLANT-9")


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "id": 7,
        "batch": "B-1",
        "delivery": "D-1",
        "line": 2,
        "version": "3",
        "shipped_at": "2025-03-01 09:30:00",
        "customer": "C-1",
        "ship_to": "Berlin",
        "qty": "12.5",
        "uom": "PC",
        "ship_date": dt.date(2025, 3, 1),
    }
    return {**base, **changes}


def test_a_good_row_becomes_a_valid_envelope_with_coerced_values() -> None:
    event_id = derived_event_id("db", "ERP", "outbox", 7, 3)
    outcome = converter().convert(row(), event_id)
    assert isinstance(outcome, Converted), outcome
    env = outcome.envelope
    assert env["event_id"] == event_id
    assert (env["source_system"], env["plant"], env["source_seq"]) == ("ERP", "PLANT-9", 3)
    assert env["source_ref"] == "ERP:DLV:D-1:L2"
    # naive source time read in the mapping's zone (CET, UTC+1 in March)
    assert env["occurred_at"] == dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)
    assert env["recorded_at"] == env["occurred_at"]
    assert env["payload"]["quantity"] == {"value": Decimal("12.500"), "uom": "PC"}
    assert env["payload"]["ship_date"] == dt.date(2025, 3, 1)
    SERDE.encode(env)  # valid for the wire


def test_database_types_are_accepted_as_they_come() -> None:
    shipped = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    outcome = converter().convert(
        row(version=3, qty=Decimal("1.250"), shipped_at=shipped, ship_date="2025-03-01"), "x"
    )
    fixed = converter().convert(
        row(version=3, qty=Decimal("1.250"), shipped_at=shipped), derived_event_id("a")
    )
    assert isinstance(fixed, Converted), fixed
    assert fixed.envelope["occurred_at"] == shipped
    assert not isinstance(outcome, Converted)  # "x" is not a UUID
    assert outcome.errors == (("event_id", "expected a UUID string, got str 'x'"),)


def test_empty_column_takes_the_default() -> None:
    outcome = converter().convert(row(customer=""), derived_event_id("a"))
    assert isinstance(outcome, Converted)
    assert outcome.envelope["payload"]["customer_id"] == "C-UNKNOWN"


def test_every_bad_field_of_a_row_is_named() -> None:
    bad = row(version="three", qty="12.3456", shipped_at="soon", batch="", ship_to=None)
    del bad["uom"]
    outcome = converter().convert(bad, derived_event_id("a"))
    assert isinstance(outcome, RowRejected)
    fields = {field for field, _ in outcome.errors}
    assert fields == {
        "source_seq",
        "occurred_at",
        "batch_code",
        "payload.quantity.value",
        "payload.quantity.uom",
        "payload.ship_to",
    }
    assert dict(outcome.errors)["payload.quantity.uom"] == "column 'uom' is missing from the row"
    assert outcome.batch_code is None


@pytest.mark.parametrize(
    ("text", "expected"), [("yes", True), ("0", False), ("TRUE", True), ("n", False)]
)
def test_booleans_and_optional_doubles_from_text(text: str, expected: bool) -> None:
    mapping = """
[source]
name = "q"
system = "QMS"
[file]
format = "csv"
patterns = ["*.csv"]
[envelope]
event_type = "INSPECTION_RECORDED"
batch_code = "b"
source_ref = { template = "QMS:{id}" }
source_seq = 1
occurred_at = "at"
[payload]
inspection_id = "id"
plan = { const = "P" }
verdict = { column = "v", map = { OK = "PASS" } }
inspector = "who"
[payload.characteristics]
column = "c"
json = true
[payload.characteristics.items]
name = "n"
value = "v"
unit = "u"
lower_limit = "lo"
upper_limit = "hi"
passed = "ok"
"""
    chars = f'[{{"n": "ph", "v": "7.1", "u": "-", "lo": "", "ok": "{text}"}}]'
    outcome = converter(mapping).convert(
        {"b": "B-1", "id": "I-1", "at": "2025-03-01T00:00:00Z", "v": "OK", "who": "x", "c": chars},
        derived_event_id("q"),
    )
    assert isinstance(outcome, Converted), outcome
    (char,) = outcome.envelope["payload"]["characteristics"]
    assert char == {
        "name": "ph",
        "value": 7.1,
        "unit": "-",
        "lower_limit": None,
        "upper_limit": None,
        "passed": expected,
    }
    assert outcome.envelope["payload"]["verdict"] == "PASS"


def test_derived_event_ids_are_deterministic_and_distinct() -> None:
    assert derived_event_id("file", "abc", 1) == derived_event_id("file", "abc", 1)
    assert derived_event_id("file", "abc", 1) != derived_event_id("file", "abc", 2)
