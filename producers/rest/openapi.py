"""The request bodies of the REST ingest in its OpenAPI document, derived from ``avro/``.

The server reads bodies itself (size limit first, then the serde's own validation), so FastAPI
cannot infer them; this module turns the Avro Envelope into the JSON Schema of what travels over
REST (decimals as strings, timestamps as ISO-8601 or epoch millis, dates as ``YYYY-MM-DD``), with
the ``doc`` of every Avro field as its description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracesync.contracts.schemas import ENVELOPE, JsonSchema, current, fullname

SERVER_FILLED = ("event_id", "recorded_at", "plant", "source_system")
"""Envelope fields the server fills when a request omits them."""

ENVELOPE_DOC = (
    "One Envelope (`avro/Envelope.avsc`) as JSON. `payload` is the record named by `event_type` "
    '(e.g. `BatchStarted` for `BATCH_STARTED`); decimals are strings like `"120.500"`, '
    "timestamps ISO-8601 with an offset (or epoch millis), dates `YYYY-MM-DD`. The server fills "
    "what is omitted and it can know: `event_id` (a new UUID4), `recorded_at` (now, UTC), `plant` "
    "(the configured plant id) and `source_system` (the system named in the path)."
)

EXAMPLE_EVENT: dict[str, Any] = {
    "event_type": "BATCH_STARTED",
    "source_ref": "MES:BS:B-000123",
    "source_seq": 1,
    "batch_code": "B-000123",
    "occurred_at": "2025-01-15T06:02:00Z",
    "payload": {
        "order_id": "PO-77",
        "product_code": "P-100",
        "line_id": "L1",
        "shift": "A",
        "team": "T1",
        "operators": ["op-1"],
        "equipment": ["mixer-3"],
    },
}

_PRIMITIVES = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "long": {"type": "integer"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
}


class _Converter:
    """Avro (expanded, named types inlined once) -> JSON Schema of the REST representation."""

    def __init__(self) -> None:
        self._named: dict[str, JsonSchema] = {}

    def convert(self, schema: JsonSchema) -> dict[str, Any]:
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            return dict(self._named.get(fullname(schema)) or _PRIMITIVES.get(schema, {}))
        logical = _logical(schema)
        if logical is not None:
            return logical
        kind = schema["type"]
        if kind == "record":
            return self._record(schema)
        if kind == "enum":
            converted = {"type": "string", "enum": list(schema["symbols"])}
            self._named[fullname(schema["name"])] = converted
            return dict(converted)
        if kind == "array":
            return {"type": "array", "items": self.convert(schema["items"])}
        if kind == "map":
            return {"type": "object", "additionalProperties": self.convert(schema["values"])}
        return self.convert(kind)

    def _record(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in schema["fields"]:
            prop = self.convert(field["type"])
            if field.get("doc"):
                prop["description"] = field["doc"]
            properties[field["name"]] = prop
            if "default" not in field:
                required.append(field["name"])
        converted = {
            "type": "object",
            "title": schema["name"],
            "description": schema.get("doc", ""),
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        self._named[fullname(schema["name"])] = converted
        return dict(converted)

    def _union(self, branches: list[JsonSchema]) -> dict[str, Any]:
        return {"anyOf": [self.convert(branch) for branch in branches]}


def _logical(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    logical = schema.get("logicalType")
    if logical == "uuid":
        return {"type": "string", "format": "uuid"}
    if logical == "timestamp-millis":
        return {
            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}],
            "description": "ISO-8601 with an offset, or epoch milliseconds",
        }
    if logical == "date":
        return {"type": "string", "format": "date"}
    if logical == "decimal":
        scale = int(schema.get("scale", 0))
        return {
            "type": "string",
            "pattern": rf"^-?\d+(\.\d{{1,{scale}}})?$" if scale else r"^-?\d+$",
            "description": f"decimal({schema['precision']},{scale}) as a string",
        }
    return None


def envelope_json_schema() -> dict[str, Any]:
    """JSON Schema of one event as the REST ingest takes it (server-filled fields optional)."""
    schema = _Converter().convert(current().expanded(ENVELOPE))
    schema["required"] = [f for f in schema["required"] if f not in SERVER_FILLED]
    schema["description"] = ENVELOPE_DOC
    return schema


def request_body(*, batch: bool) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint taking one event, or a batch of them."""
    event = envelope_json_schema()
    if batch:
        events = {"type": "array", "items": event, "minItems": 1}
        schema: dict[str, Any] = {
            "anyOf": [
                events,
                {
                    "type": "object",
                    "properties": {"events": events},
                    "required": ["events"],
                    "additionalProperties": False,
                },
            ]
        }
        description = 'A JSON array of events, or `{"events": [...]}`. ' + ENVELOPE_DOC
        example: Any = [EXAMPLE_EVENT]
    else:
        schema, description, example = event, ENVELOPE_DOC, EXAMPLE_EVENT
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema, "example": example}},
        }
    }
