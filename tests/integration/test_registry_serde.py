"""confluent-kafka's AvroSerializer/AvroDeserializer against Apicurio's Confluent-compatible API.

This is what decides the project's wire format: magic byte 0, the 4-byte big-endian schema id the
registry assigned, then the Avro binary body.
"""

from __future__ import annotations

import io
import json
import uuid
from decimal import Decimal

import fastavro
import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.fixtures.registry import RunningRegistry
from tracesync.contracts.registry_client import SchemaRegistry

pytestmark = pytest.mark.integration

SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Receipt",
        "namespace": "tracesync.test",
        "fields": [
            {"name": "batch_code", "type": "string"},
            {
                "name": "quantity",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 3},
            },
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    }
)
RECORD = {"batch_code": "B-000123", "quantity": Decimal("12.500"), "note": None}


@pytest.fixture
def topic() -> str:
    return f"test.{uuid.uuid4().hex}"


def test_serializer_writes_confluent_wire_format_with_the_registered_id(
    schema_registry: RunningRegistry, topic: str
):
    with SchemaRegistry(schema_registry.url) as registry:
        context = SerializationContext(topic, MessageField.VALUE)
        data = registry.avro_serializer(SCHEMA)(RECORD, context)
        registered_id = registry.latest(f"{topic}-value").schema_id

    assert data[0] == 0
    assert int.from_bytes(data[1:5], "big") == registered_id
    writer_schema = fastavro.parse_schema(json.loads(SCHEMA))
    body = fastavro.schemaless_reader(io.BytesIO(data[5:]), writer_schema)
    assert body == RECORD


def test_deserializer_with_a_fresh_client_resolves_the_schema_by_id(
    schema_registry: RunningRegistry, topic: str
):
    context = SerializationContext(topic, MessageField.VALUE)
    with SchemaRegistry(schema_registry.url) as writer:
        data = writer.avro_serializer(SCHEMA)(RECORD, context)

    with SchemaRegistry(schema_registry.url) as reader:  # nothing cached: must ask the registry
        assert reader.avro_deserializer()(data, context) == RECORD
