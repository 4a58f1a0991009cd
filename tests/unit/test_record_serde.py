"""Own records: compiled reads equal fastavro's; a head read gives the first fields only."""

from __future__ import annotations

import io

import pytest
from fastavro import schemaless_reader

from tests.unit.store_plant import plant
from tracesync.contracts.record_serde import RecordSerde
from tracesync.errors import SerializationError

CHAINS = RecordSerde.single_object("TraceChain")


def test_the_compiled_read_gives_what_fastavro_gives() -> None:
    header = len(CHAINS.encode(plant()[0])) - len(_body(plant()[0]))
    for record in plant():
        data = CHAINS.encode(record)
        body = io.BytesIO(data)
        body.seek(header)
        assert CHAINS.decode(data) == schemaless_reader(body, CHAINS.schema, None)


def _body(record: dict[str, object]) -> bytes:
    out = io.BytesIO()
    from fastavro import schemaless_writer  # noqa: PLC0415 - only to find the header's length

    schemaless_writer(out, CHAINS.schema, record)
    return out.getvalue()


def test_a_head_read_gives_the_first_fields_only() -> None:
    head = CHAINS.head_reader(2)
    for record in plant():
        decoded = head(CHAINS.encode(record | {"version": 123_456_789}))
        assert decoded == {"batch_code": record["batch_code"], "version": 123_456_789}


def test_a_head_read_refuses_a_foreign_record() -> None:
    head = CHAINS.head_reader(2)
    with pytest.raises(SerializationError, match="not a TraceChain"):
        head(b"not avro")
    with pytest.raises(SerializationError, match="cannot decode"):
        head(CHAINS.encode(plant()[0])[:11])
