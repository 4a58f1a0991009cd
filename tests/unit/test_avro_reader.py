"""The compiled Avro reader reads what fastavro writes, as fastavro reads it, and refuses damage."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import LOGICAL_READERS
from fastavro.schema import parse_schema
from hypothesis import given, settings
from hypothesis import strategies as st

from tracesync.contracts.avro_reader import compile_reader

DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 3}
COLOUR = {"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN", "BLUE"]}
LEAF = {
    "type": "record",
    "name": "Leaf",
    "fields": [{"name": "label", "type": "string"}, {"name": "weight", "type": DECIMAL}],
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
            {"name": "leaves", "type": {"type": "array", "items": "Leaf"}},
            {"name": "counts", "type": {"type": "map", "values": "long"}},
            {"name": "maybe", "type": ["null", "string"]},
            {"name": "maybe_leaf", "type": ["null", "Leaf"]},
            {"name": "many", "type": ["null", "int", "string", "Colour", "Leaf", "double"]},
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

texts = st.text(max_size=12)
decimals = st.integers(min_value=-(10**15), max_value=10**15).map(lambda n: Decimal(n).scaleb(-3))
leaves = st.fixed_dictionaries({"label": texts, "weight": decimals})
moments = st.integers(min_value=0, max_value=4 * 10**12).map(
    lambda ms: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
)
RECORDS = st.fixed_dictionaries(
    {
        "nothing": st.none(),
        "flag": st.booleans(),
        "small": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "big": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "ratio": st.floats(width=32, allow_nan=False),
        "precise": st.floats(allow_nan=False),
        "blob": st.binary(max_size=20),
        "text": texts,
        "colour": st.sampled_from(["RED", "GREEN", "BLUE"]),
        "tag": st.binary(min_size=3, max_size=3),
        "leaf": leaves,
        "leaves": st.lists(leaves, max_size=3),
        "counts": st.dictionaries(texts, st.integers(min_value=-(2**40), max_value=2**40)),
        "maybe": st.none() | texts,
        "maybe_leaf": st.none() | leaves,
        "many": st.none()
        | st.tuples(st.just("int"), st.integers(min_value=-5, max_value=5))
        | st.tuples(st.just("string"), texts)
        | st.tuples(st.just("test.Colour"), st.sampled_from(["RED", "BLUE"]))
        | st.tuples(st.just("test.Leaf"), leaves)
        | st.tuples(st.just("double"), st.floats(allow_nan=False)),
        "when": moments,
        "day": st.dates(min_value=date(1900, 1, 1)),
        "id": st.uuids().map(str),
        "amount": st.none() | decimals,
        "nested": st.lists(st.lists(st.integers(min_value=-100, max_value=100), max_size=3)),
    }
)

READ = compile_reader(SCHEMA, LOGICAL_READERS)


def _written(record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, SCHEMA, record)
    return out.getvalue()


def _fastavro(data: bytes) -> Any:
    return schemaless_reader(io.BytesIO(data), SCHEMA, None)


@settings(max_examples=150, deadline=None)
@given(RECORDS)
def test_reads_what_fastavro_writes_as_fastavro_reads_it(record: dict[str, Any]) -> None:
    data = b"head" + _written(record)
    value, end = READ(data, 4)
    assert end == len(data)
    assert value == _fastavro(data[4:])
    assert isinstance(value["id"], uuid.UUID)  # logical types converted by the given readers


@settings(max_examples=100, deadline=None)
@given(RECORDS, st.data())
def test_a_damaged_record_is_refused_or_read_as_fastavro_reads_it(
    record: dict[str, Any], data: st.DataObject
) -> None:
    good = bytearray(_written(record))
    at = data.draw(st.integers(min_value=0, max_value=len(good) - 1))
    good[at] = data.draw(st.integers(min_value=0, max_value=255))
    damaged = bytes(good)
    try:
        value, end = READ(damaged, 0)
    except (ValueError, IndexError, UnicodeDecodeError, OverflowError, ArithmeticError):
        return  # refused (the reader may be stricter than fastavro)
    except Exception as exc:  # struct.error for a float cut short
        assert type(exc).__name__ == "error"
        return
    if end == len(damaged):
        # repr: a damaged float can read as NaN, which never equals itself
        assert repr(value) == repr(_fastavro(damaged))


@settings(max_examples=25, deadline=None)
@given(RECORDS)
def test_every_prefix_is_refused(record: dict[str, Any]) -> None:
    data = _written(record)
    for end in range(len(data)):
        with pytest.raises(Exception):  # noqa: B017 - whichever error, never a value
            READ(data[:end], 0)


def test_negative_lengths_and_long_varints_are_refused() -> None:
    string_schema = parse_schema(
        {"type": "record", "name": "S", "fields": [{"name": "s", "type": "string"}]}
    )
    read = compile_reader(string_schema)
    assert read(b"\x06abc", 0) == ({"s": "abc"}, 4)
    with pytest.raises(ValueError, match="length out of range"):
        read(b"\x05abc", 0)  # zig-zag 5 is -3
    with pytest.raises(ValueError, match="length out of range"):
        read(b"\x08abc", 0)  # 4 bytes announced, 3 there
    with pytest.raises(ValueError, match="varint longer"):
        read(b"\xff" * 11 + b"\x00", 0)


def test_a_logical_type_without_a_reader_reads_as_its_base_type() -> None:
    schema = parse_schema(
        {
            "type": "record",
            "name": "T",
            "fields": [
                {"name": "t", "type": {"type": "long", "logicalType": "local-timestamp-micros"}}
            ],
        }
    )
    assert compile_reader(schema)(b"\x04", 0) == ({"t": 2}, 1)
