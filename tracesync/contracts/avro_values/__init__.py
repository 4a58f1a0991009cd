"""Field-by-field handling of Avro values, with the path of every problem.

An Avro schema (expanded JSON) is compiled once into a tree of :class:`Node` objects. Each node can

* ``check`` a Python value ready for fastavro (``Decimal``, aware ``datetime``, ``date`` …) and
  report every problem with its field path (``payload.produced_quantity.value``), including the
  rules Avro itself does not enforce: decimal precision and scale, time zones, UUID syntax,
  unknown fields;
* ``from_json`` a JSON-friendly value (decimal and timestamp strings as they come over REST);
* ``to_json`` a Python value back to JSON-friendly form.

The nodes live in :mod:`.scalars` and :mod:`.containers`, the compiler in :mod:`.compiler`;
the names below are the package's public surface.
"""

from tracesync.contracts.avro_values.base import FieldErrors, Node, join
from tracesync.contracts.avro_values.compiler import compile_schema
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

__all__ = [
    "ArrayNode",
    "DateNode",
    "DecimalNode",
    "EnumNode",
    "FieldErrors",
    "MapNode",
    "Node",
    "OptionalNode",
    "Primitive",
    "RecordNode",
    "TimestampMillis",
    "UnionNode",
    "UuidNode",
    "compile_schema",
    "join",
]
