"""The compiled Avro writer writes what fastavro writes, refuses what it cannot, caches safely."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import parse_schema
from hypothesis import given, settings
from hypothesis import strategies as st

from tracesync.contracts.avro_writer import UnsupportedSchemaError, compile_writer
from tracesync.contracts.record_serde import RecordSerde

DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 3}
COLOUR = {"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN", "BLUE"]}
LEAF = {
    "type": "record",
    "name": "Leaf",
    "fields": [
        {"name": "label", "type": "string"},
        {"name": "weight", "type": DECIMAL},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
SCHEMA = parse_schema(
    {
        "type": "record",
        "name": "test.Everything",
        "fields": [
            {"name": "nothing", "type": "null"},
            {"name": "flag", "type": "boolean"},
            {"name": "small", "type": "int"},
            {"name": "big", "type": "long"},
            {"name": "ratio", "type": "float"},
            {"name": "precise", "type": "double"},
            {"name": "blob", "type": "bytes"},
            {"name": "text", "type": "string"},
            {"name": "colour", "type": COLOUR},
            {"name": "tag", "type": {"type": "fixed", "name": "Tag", "size": 3}},
            {"name": "leaf", "type": LEAF},
            {"name": "leaves", "type": {"type": "array", "items": "Leaf"}, "default": []},
            {"name": "counts", "type": {"type": "map", "values": "long"}},
            {"name": "maybe", "type": ["null", "string"]},
            {"name": "maybe_leaf", "type": ["null", "Leaf"]},
            {"name": "reversed", "type": ["long", "null"]},
            {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "amount", "type": ["null", DECIMAL]},
            {
                "name": "nested",
                "type": {"type": "array", "items": {"type": "array", "items": "int"}},
            },
        ],
    }
)

texts = st.text(max_size=80)
decimals = st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1).map(
    lambda n: Decimal(n).scaleb(-3)
)
leaves = st.fixed_dictionaries(
    {"label": texts, "weight": decimals}, optional={"note": st.none() | texts}
)
moments = st.integers(min_value=-(10**12), max_value=4 * 10**12).map(
    lambda ms: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms, microseconds=ms % 997)
)
RECORDS = st.fixed_dictionaries(
    {
        "nothing": st.none(),
        "flag": st.booleans(),
        "small": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "big": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "ratio": st.floats(width=32, allow_nan=False),
        "precise": st.floats(allow_nan=False),
        "blob": st.binary(max_size=100),
        "text": texts,
        "colour": st.sampled_from(["RED", "GREEN", "BLUE"]),
        "tag": st.binary(min_size=3, max_size=3),
        "leaf": leaves,
        "counts": st.dictionaries(texts, st.integers(min_value=-(2**40), max_value=2**40)),
        "maybe": st.none() | texts,
        "maybe_leaf": st.none() | leaves,
        "reversed": st.none() | st.integers(min_value=-(2**40), max_value=2**40),
        "when": moments | st.integers(min_value=0, max_value=2**42),
        "day": st.dates(min_value=date(1900, 1, 1)) | st.dates().map(date.isoformat),
        "id": st.uuids() | st.uuids().map(str),
        "amount": st.none() | decimals,
        "nested": st.lists(st.lists(st.integers(min_value=-100, max_value=100), max_size=3)),
    },
    optional={"leaves": st.lists(leaves, max_size=70)},
)

WRITE = compile_writer(SCHEMA)


def _fastavro(record: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, SCHEMA, record)
    return out.getvalue()


def _compiled(record: Any) -> bytes:
    out = bytearray(b"head")
    WRITE(out, record)
    return bytes(out[4:])


@settings(max_examples=200, deadline=None)
@given(RECORDS)
def test_writes_what_fastavro_writes(record: dict[str, Any]) -> None:
    data = _compiled(record)
    assert data == _fastavro(record)
    assert schemaless_reader(io.BytesIO(data), SCHEMA, None) is not None


@dataclass(frozen=True)
class Leaf:
    label: str
    weight: Decimal
    note: str | None = None


@settings(max_examples=50, deadline=None)
@given(st.lists(leaves, min_size=1, max_size=5), RECORDS)
def test_records_from_objects_write_as_their_dicts(
    dicts: list[dict[str, Any]], record: dict[str, Any]
) -> None:
    objects = [Leaf(**d) for d in dicts]
    plain = {**record, "leaves": dicts, "leaf": dicts[0]}
    assert _compiled({**record, "leaves": objects, "leaf": objects[0]}) == _fastavro(plain)
    # again, from the identity cache
    assert _compiled({**record, "leaves": objects, "leaf": objects[0]}) == _fastavro(plain)


def test_a_new_object_is_never_taken_for_a_cached_one() -> None:
    base = _record()
    first = Leaf("a", Decimal("1.000"))
    _compiled({**base, "leaf": first})
    changed = replace(first, label="b")
    assert _compiled({**base, "leaf": changed}) == _fastavro(
        {**base, "leaf": {"label": "b", "weight": Decimal("1.000")}}
    )


def _record() -> dict[str, Any]:
    return {
        "nothing": None,
        "flag": True,
        "small": 1,
        "big": 2**40,
        "ratio": 0.5,
        "precise": 1.25,
        "blob": b"x",
        "text": "t",
        "colour": "RED",
        "tag": b"abc",
        "leaf": {"label": "l", "weight": Decimal("1.500")},
        "counts": {"a": 1},
        "maybe": None,
        "maybe_leaf": None,
        "reversed": 3,
        "when": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "day": date(2026, 1, 2),
        "id": "8c1f1d4e-8d1b-4e0c-9a43-0f7f1e2b3c4d",
        "amount": Decimal("-0.001"),
        "nested": [[1, 2], []],
    }


def test_the_fixed_record_matches_fastavro() -> None:
    assert _compiled(_record()) == _fastavro(_record())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("small", "1"),
        ("big", 2**63),
        ("big", -(2**63) - 1),
        ("big", 1.5),
        ("text", 3),
        ("text", None),
        ("colour", "PURPLE"),
        ("tag", b"ab"),
        ("nothing", 0),
        ("maybe", 5),
        ("amount", Decimal("1.0001")),  # more fractional digits than the scale
        ("amount", Decimal("1E+15")),  # more digits than the precision
        ("amount", Decimal("NaN")),
        ("amount", 1.5),
    ],
)
def test_a_wrong_value_raises(field: str, value: Any) -> None:
    with pytest.raises((TypeError, ValueError, AttributeError, KeyError, OverflowError)):
        _compiled({**_record(), field: value})


def test_an_equal_decimal_with_more_zeros_is_written_at_the_schema_scale() -> None:
    assert _compiled({**_record(), "amount": Decimal("1.50000")}) == _fastavro(
        {**_record(), "amount": Decimal("1.500")}
    )


def test_a_union_of_several_types_is_not_compiled() -> None:
    schema = parse_schema(
        {
            "type": "record",
            "name": "U",
            "fields": [{"name": "u", "type": ["null", "int", "string"]}],
        }
    )
    with pytest.raises(UnsupportedSchemaError):
        compile_writer(schema)


def test_every_record_the_worker_publishes_compiles() -> None:
    for name in ("TraceChain", "Alert", "FileReceipt"):
        assert RecordSerde.single_object(name).compiled
