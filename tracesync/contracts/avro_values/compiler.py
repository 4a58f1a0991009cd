"""Compiles an expanded Avro schema (``SchemaSet.expanded``) into a tree of nodes, once.

One rule Avro cannot say is added here: the ``value`` of a ``Quantity`` (an amount of material
received, issued, moved, counted, consumed, produced, scrapped or shipped) is never negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tracesync.contracts.avro_values.base import MISSING, Node
from tracesync.contracts.avro_values.containers import (
    ArrayNode,
    MapNode,
    OptionalNode,
    RecordNode,
    UnionNode,
)
from tracesync.contracts.avro_values.scalars import (
    DateNode,
    DecimalNode,
    EnumNode,
    Primitive,
    TimestampMillis,
    UuidNode,
)
from tracesync.contracts.schemas import JsonSchema, fullname


def compile_schema(schema: JsonSchema) -> Node:
    """Compile an expanded Avro schema (as produced by ``SchemaSet.expanded``) into nodes."""
    return _Compiler().compile(schema)


class _Compiler:
    def __init__(self) -> None:
        self._named: dict[str, Node] = {}

    def compile(self, schema: JsonSchema) -> Node:
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            return self._named.get(fullname(schema)) or Primitive(schema)
        logical = _logical_node(schema)
        return logical if logical is not None else self._complex(schema)

    def _complex(self, schema: Mapping[str, Any]) -> Node:
        kind = schema["type"]
        if kind == "record":
            return self._record(schema)
        if kind == "enum":
            node = EnumNode(schema["name"], schema["symbols"])
            self._named[fullname(schema["name"])] = node
            return node
        if kind == "array":
            return ArrayNode(self.compile(schema["items"]))
        if kind == "map":
            return MapNode(self.compile(schema["values"]))
        return self.compile(kind)

    def _record(self, schema: Mapping[str, Any]) -> Node:
        node = RecordNode(schema["name"])
        self._named[fullname(schema["name"])] = node
        for field in schema["fields"]:
            node.fields[field["name"]] = (
                self.compile(field["type"]),
                field.get("default", MISSING),
            )
        amount = node.fields.get("value", (None,))[0] if schema["name"] == "Quantity" else None
        if isinstance(amount, DecimalNode):
            amount.minimum = Decimal(0)
        return node

    def _union(self, branches: list[JsonSchema]) -> Node:
        nodes = [self.compile(b) for b in branches]
        others = [n for n, b in zip(nodes, branches, strict=True) if b != "null"]
        if len(others) == 1 and len(nodes) == 2:
            return OptionalNode(others[0])
        return UnionNode(nodes)


_LOGICAL_NODES: dict[tuple[str, str], type[Node]] = {
    ("timestamp-millis", "long"): TimestampMillis,
    ("date", "int"): DateNode,
    ("uuid", "string"): UuidNode,
}


def _logical_node(schema: Mapping[str, Any]) -> Node | None:
    """The node of a logical type on its base type; None for a plain (or unknown) one."""
    logical, kind = schema.get("logicalType"), schema["type"]
    if logical == "decimal" and kind == "bytes":
        return DecimalNode(int(schema["precision"]), int(schema.get("scale", 0)))
    node_type = _LOGICAL_NODES.get((str(logical), str(kind)))
    return node_type() if node_type is not None else None
