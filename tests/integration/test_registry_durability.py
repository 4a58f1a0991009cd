"""Schemas survive a restart of the registry: ids still resolve, rules still hold."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.fixtures.registry import RunningRegistry
from tracesync.contracts.registry_client import (
    Compatibility,
    IncompatibleSchemaError,
    SchemaRegistry,
)

pytestmark = pytest.mark.integration


def _schema(*extra_fields: dict[str, object]) -> str:
    fields = [{"name": "hold_id", "type": "string"}, *extra_fields]
    return json.dumps(
        {"type": "record", "name": "Hold", "namespace": "tracesync.test", "fields": fields}
    )


def test_schema_id_resolves_after_a_clean_restart(schema_registry: RunningRegistry):
    subject = f"test.{uuid.uuid4().hex}-value"
    with SchemaRegistry(schema_registry.url) as before:
        schema_id = before.register_avro(subject, _schema())
        before.set_compatibility(Compatibility.BACKWARD, subject)

    schema_registry.restart()

    with SchemaRegistry(schema_registry.url) as after:
        assert json.loads(after.schema_str(schema_id)) == json.loads(_schema())
        assert after.latest(subject).schema_id == schema_id
        assert after.compatibility(subject) is Compatibility.BACKWARD
        with pytest.raises(IncompatibleSchemaError):
            after.register_avro(subject, _schema({"name": "reason", "type": "string"}))


def test_schema_id_resolves_after_the_registry_was_killed(schema_registry: RunningRegistry):
    subject = f"test.{uuid.uuid4().hex}-value"
    with SchemaRegistry(schema_registry.url) as before:
        schema_id = before.register_avro(subject, _schema())

    schema_registry.crash_and_start()

    with SchemaRegistry(schema_registry.url) as after:
        assert json.loads(after.schema_str(schema_id)) == json.loads(_schema())
        assert after.latest(subject).schema_id == schema_id
