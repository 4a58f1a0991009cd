"""The registry holds the output subjects (chain, alerts) to FULL_TRANSITIVE, set per subject.

The global rule stays BACKWARD (the Envelope); a TraceChain that drops a field without default is
readable by new readers (so BACKWARD would take it) but not by consumers on the registered one,
and the registry refuses it under the chain topic's subject.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.registry import RunningRegistry
from tracesync import bootstrap
from tracesync.contracts.registry_client import (
    Compatibility,
    IncompatibleSchemaError,
    SchemaRegistry,
)
from tracesync.contracts.schemas import current
from tracesync.contracts.wire_formats import topic_subject
from tracesync.settings import Settings

pytestmark = pytest.mark.integration


def _chain_schema(edit: Any) -> str:
    schema = copy.deepcopy(current().expanded("TraceChain"))
    edit(schema)
    return json.dumps(schema)


def test_output_subjects_are_held_full_transitive(
    schema_registry: RunningRegistry, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path,
        topic_prefix=f"out{uuid.uuid4().hex[:8]}.",
        registry=schema_registry.settings.registry,
    )
    chain_topic = bootstrap.catalog(settings).topic("trace.chain").name
    alerts_topic = bootstrap.catalog(settings).topic("trace.alerts").name
    bootstrap.record_serde(settings, "TraceChain", chain_topic)
    bootstrap.record_serde(settings, "Alert", alerts_topic)
    chain_subject = topic_subject(chain_topic)

    with SchemaRegistry(schema_registry.url) as registry:
        assert registry.compatibility(chain_subject) is Compatibility.FULL_TRANSITIVE
        assert registry.compatibility(topic_subject(alerts_topic)) is Compatibility.FULL_TRANSITIVE
        assert registry.compatibility() is Compatibility.BACKWARD

        def drop_plant(schema: dict[str, Any]) -> None:
            schema["fields"] = [f for f in schema["fields"] if f["name"] != "plant"]

        with pytest.raises(IncompatibleSchemaError, match="plant"):
            registry.register_avro(chain_subject, _chain_schema(drop_plant))

        def add_note(schema: dict[str, Any]) -> None:
            note = {"name": "note", "type": ["null", "string"], "default": None, "doc": "new"}
            schema["fields"].append(note)

        assert registry.is_compatible(chain_subject, _chain_schema(add_note))
