"""What the compiled Avro reader and writer share: the generated-source bookkeeping.

:mod:`tracesync.contracts.avro_reader` and :mod:`tracesync.contracts.avro_writer` each turn a
schema into Python source once and ``exec`` it. Both keep the same books — fresh names, the
constants the source refers to, the functions emitted so far, named types seen — and resolve a
schema the same way; that part lives here, the encoding rules stay in their modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracesync.contracts.schemas import JsonSchema

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
KINDS = PRIMITIVES | {"record", "error", "enum", "fixed", "array", "map"}


class SourceCompiler:
    """Names, constants and emitted functions of one schema's generated source."""

    def __init__(self, runtime: Mapping[str, Any]) -> None:
        self._named: dict[str, JsonSchema] = {}
        self._records: dict[str, str] = {}  # record fullname -> function name
        self._functions: list[list[str]] = []
        self.constants: dict[str, Any] = dict(runtime)
        self._counter = 0

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def _constant(self, value: Any, prefix: str = "_c") -> str:
        name = self._name(prefix)
        self.constants[name] = value
        return name

    def source(self) -> str:
        return "\n\n".join("\n".join(lines) for lines in self._functions)

    def _resolve(self, schema: JsonSchema) -> JsonSchema:
        """The schema itself behind a named reference or a ``{"type": ...}`` wrapper; a named
        type is remembered for the references that follow it."""
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return self._named[schema]
        if isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
            return self._resolve(schema["type"])
        if isinstance(schema, dict) and schema.get("type") not in KINDS:
            return self._resolve(schema["type"])  # a reference to a named type, with a doc
        if isinstance(schema, dict) and "name" in schema:
            self._named[schema["name"]] = schema
        return schema


class Emitter:
    """Appends lines of source at one indentation depth."""

    def __init__(self, lines: list[str], depth: int) -> None:
        self.lines = lines
        self.depth = depth

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def more(self, extra: int, line: str) -> None:
        self.lines.append("    " * (self.depth + extra) + line)

    def nested(self, extra: int) -> Emitter:
        return Emitter(self.lines, self.depth + extra)
