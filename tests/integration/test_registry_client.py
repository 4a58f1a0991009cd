"""The registry client against the real Apicurio registry: register, read back, compatibility."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from tests.fixtures.registry import RunningRegistry
from tracesync.contracts.registry_client import (
    Compatibility,
    IncompatibleSchemaError,
    RegistryError,
    SchemaRegistry,
)

pytestmark = pytest.mark.integration


def _record(name: str, *fields: dict[str, object]) -> str:
    return json.dumps(
        {"type": "record", "name": name, "namespace": "tracesync.test", "fields": list(fields)}
    )


V1 = _record("Lot", {"name": "lot_code", "type": "string"})
V2_WITH_DEFAULT = _record(
    "Lot",
    {"name": "lot_code", "type": "string"},
    {"name": "plant", "type": "string", "default": "PLANT-01"},
)
V2_WITHOUT_DEFAULT = _record(
    "Lot", {"name": "lot_code", "type": "string"}, {"name": "plant", "type": "string"}
)


@pytest.fixture
def registry(schema_registry: RunningRegistry) -> Iterator[SchemaRegistry]:
    with SchemaRegistry(schema_registry.url) as client:
        yield client


@pytest.fixture
def subject() -> str:
    return f"test.{uuid.uuid4().hex}-value"


def test_registered_schema_is_found_by_id_and_subject(registry: SchemaRegistry, subject: str):
    schema_id = registry.register_avro(subject, V1)

    assert json.loads(registry.schema_str(schema_id)) == json.loads(V1)
    latest = registry.latest(subject)
    assert (latest.schema_id, latest.version) == (schema_id, 1)
    assert subject in registry.subjects()


def test_registering_the_same_schema_again_keeps_its_id(registry: SchemaRegistry, subject: str):
    first = registry.register_avro(subject, V1)

    assert registry.register_avro(subject, V1) == first
    assert registry.latest(subject).version == 1


def test_backward_rule_rejects_a_new_field_without_default(registry: SchemaRegistry, subject: str):
    registry.register_avro(subject, V1)
    assert registry.set_compatibility(Compatibility.BACKWARD, subject) is Compatibility.BACKWARD
    assert registry.compatibility(subject) is Compatibility.BACKWARD

    assert registry.is_compatible(subject, V2_WITHOUT_DEFAULT) is False
    with pytest.raises(IncompatibleSchemaError) as refused:
        registry.register_avro(subject, V2_WITHOUT_DEFAULT)
    assert refused.value.status == 409
    assert registry.latest(subject).version == 1


def test_backward_rule_accepts_a_new_field_with_default(registry: SchemaRegistry, subject: str):
    first = registry.register_avro(subject, V1)
    registry.set_compatibility(Compatibility.BACKWARD, subject)

    assert registry.is_compatible(subject, V2_WITH_DEFAULT) is True
    second = registry.register_avro(subject, V2_WITH_DEFAULT)
    assert second != first
    assert registry.latest(subject).version == 2


def test_unknown_schema_id_is_a_registry_error(registry: SchemaRegistry):
    with pytest.raises(RegistryError) as missing:
        registry.schema_str(987_654_321)
    assert missing.value.status == 404


def test_unreachable_registry_is_a_registry_error():
    nowhere = SchemaRegistry("http://127.0.0.1:9/apis/ccompat/v7", timeout_s=2, max_retries=0)
    with nowhere, pytest.raises(RegistryError, match="unreachable"):
        nowhere.subjects()
