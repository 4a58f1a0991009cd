"""Compile an Avro schema into a Python function that reads its binary encoding from bytes.

fastavro's reader walks the schema for every value and reads through a file object a byte at a
time; for a small record like the Envelope that walk costs more than the data.
:func:`compile_reader` turns a fastavro-parsed schema (named types by full name) into
straight-line Python source once: one function per named record, fields read by slicing and
integer operations, unions dispatched by index (with ``make``, the top record's field values go
to ``make`` positionally, in schema order, instead of into a dict: a caller builds its own
object without the dict in between). The schema is the project's own, never data. A
logical type is converted by the function ``logical`` gives for ``<type>-<logicalType>`` (the key
fastavro uses), called as ``fn(value, type_schema, None)``; a logical type without one reads as
its base type, as in fastavro.

The reader returns ``(value, end position)``. It is stricter than fastavro where the data is
broken: a length running past the end, a negative length or count, a varint longer than ten
bytes, an unknown union branch or enum symbol raise ``ValueError`` (``IndexError`` or
``struct.error`` when the data ends early), never a partial value.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tracesync.contracts.avro_codegen import Emitter, SourceCompiler
from tracesync.contracts.schemas import JsonSchema

Reader = Callable[[bytes, int], tuple[Any, int]]
LogicalReader = Callable[[Any, JsonSchema, JsonSchema], Any]

_MAX_VARINT_BYTES = 10
_INLINE_UNION_BRANCHES = 4


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint of several bytes (the generated code reads one-byte ones itself)."""
    n = shift = 0
    for _ in range(_MAX_VARINT_BYTES):
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            if n >> 64:
                raise ValueError(f"varint beyond 64 bits at {pos}")  # not an Avro long
            return (n >> 1) ^ -(n & 1), pos
        shift += 7
    raise ValueError(f"varint longer than {_MAX_VARINT_BYTES} bytes at {pos}")


def _broken(what: str, pos: int) -> ValueError:
    return ValueError(f"{what} at byte {pos}")


_RUNTIME: dict[str, Any] = {
    "_varint": _varint,
    "_broken": _broken,
    "_double": struct.Struct("<d").unpack_from,
    "_float": struct.Struct("<f").unpack_from,
    "_EPOCH": datetime(1970, 1, 1, tzinfo=UTC),
    "_timedelta": timedelta,
}


class _Compiler(SourceCompiler):
    """Emits the source of the reader functions of one schema."""

    def __init__(
        self, logical: Mapping[str, LogicalReader], make: Callable[..., Any] | None
    ) -> None:
        super().__init__(_RUNTIME)
        self._logical = logical
        self._make = make

    def function(self, schema: JsonSchema) -> str:
        """A function ``(data, pos) -> (value, pos)`` reading ``schema``; returns its name."""
        schema = self._resolve(schema)
        if isinstance(schema, dict) and schema.get("type") in ("record", "error"):
            return self._record_function(schema)
        name = self._name("_read")
        lines = [f"def {name}(data, pos):", "    size = len(data)"]
        self._functions.append(lines)
        self._read(schema, "value", lines, 1)
        lines.append("    return value, pos")
        return name

    def _record_function(self, schema: JsonSchema) -> str:
        fullname = schema["name"]
        if fullname in self._records:
            return self._records[fullname]
        top = not self._records  # the schema's own record: built by ``make`` when there is one
        name = self._records[fullname] = self._name("_record")
        lines = [f"def {name}(data, pos):", "    size = len(data)"]
        self._functions.append(lines)
        names, targets = [], []
        for field in schema["fields"]:
            target = self._name("v")
            self._read(field["type"], target, lines, 1)
            names.append(field["name"])
            targets.append(target)
        if top and self._make is not None:
            make = self._constant(self._make, "_make")
            lines.append(f"    return {make}({', '.join(targets)}), pos")
        else:
            values = ", ".join(f"{n!r}: {t}" for n, t in zip(names, targets, strict=True))
            lines.append(f"    return {{{values}}}, pos")
        return name

    def _read(self, schema: JsonSchema, target: str, lines: list[str], depth: int) -> None:
        schema = self._resolve(schema)
        if isinstance(schema, list):
            self._union(schema, target, lines, depth)
            return
        kind = schema if isinstance(schema, str) else schema["type"]
        emit = Emitter(lines, depth)
        if kind in ("record", "error"):
            emit(f"{target}, pos = {self._record_function(schema)}(data, pos)")
        elif kind == "enum":
            self._long("index", emit)
            symbols = self._constant(tuple(schema["symbols"]), "_symbols")
            emit(f"if not 0 <= index < {len(schema['symbols'])}:")
            emit.more(1, "raise _broken('unknown enum symbol', pos)")
            emit(f"{target} = {symbols}[index]")
        elif kind == "array":
            self._array(schema, target, emit, depth)
        elif kind == "map":
            self._map(schema, target, emit, depth)
        else:
            self._primitive(kind, schema, target, emit)
            self._convert(schema, kind, target, emit)

    def _primitive(self, kind: str, schema: JsonSchema, target: str, emit: Emitter) -> None:
        if kind == "null":
            emit(f"{target} = None")
        elif kind == "boolean":
            emit(f"{target} = data[pos] != 0")
            emit("pos += 1")
        elif kind in ("int", "long"):
            self._long(target, emit)
        elif kind in ("float", "double"):
            width = 8 if kind == "double" else 4
            emit(f"{target}, = _{kind}(data, pos)")
            emit(f"pos += {width}")
        elif kind in ("bytes", "string"):
            self._long("length", emit)
            emit("if not 0 <= length <= size - pos:")
            emit.more(1, f"raise _broken('{kind} length out of range', pos)")
            decode = ".decode()" if kind == "string" else ""
            emit(f"{target} = data[pos:pos + length]{decode}")
            emit("pos += length")
        elif kind == "fixed":
            width = int(schema["size"])
            emit(f"if pos + {width} > size:")
            emit.more(1, "raise _broken('fixed past the end', pos)")
            emit(f"{target} = data[pos:pos + {width}]")
            emit(f"pos += {width}")
        else:
            raise ValueError(f"cannot compile a reader for Avro type {kind!r}")

    def _convert(self, schema: JsonSchema, kind: str, target: str, emit: Emitter) -> None:
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if logical is None:
            return
        if f"{kind}-{logical}" == "long-timestamp-millis":  # fastavro's own conversion, inline
            emit(f"{target} = _EPOCH + _timedelta(microseconds={target} * 1000)")
            return
        fn = self._logical.get(f"{kind}-{logical}")
        if fn is not None:
            reader, type_schema = self._constant(fn, "_logical"), self._constant(schema, "_schema")
            emit(f"{target} = {reader}({target}, {type_schema}, None)")

    def _long(self, target: str, emit: Emitter) -> None:
        emit("b = data[pos]")
        emit("if b < 128:")
        emit.more(1, f"{target} = (b >> 1) ^ -(b & 1)")
        emit.more(1, "pos += 1")
        emit("else:")
        emit.more(1, f"{target}, pos = _varint(data, pos)")

    def _blocks(self, count: str, emit: Emitter) -> None:
        """Start of an array or map: the loop over blocks (a negative count carries a size)."""
        self._long(count, emit)
        emit(f"while {count}:")
        inner = emit.nested(1)
        inner(f"if {count} < 0:")
        inner.more(1, f"{count} = -{count}")
        self._long("_", inner.nested(1))

    def _array(self, schema: JsonSchema, target: str, emit: Emitter, depth: int) -> None:
        count, item = self._name("count"), self._name("item")
        emit(f"{target} = []")
        self._blocks(count, emit)
        emit.more(1, f"for _ in range({count}):")
        self._read(schema["items"], item, emit.lines, depth + 2)
        emit.more(2, f"{target}.append({item})")
        self._long(count, emit.nested(1))

    def _map(self, schema: JsonSchema, target: str, emit: Emitter, depth: int) -> None:
        count, key, item = self._name("count"), self._name("key"), self._name("item")
        emit(f"{target} = {{}}")
        self._blocks(count, emit)
        emit.more(1, f"for _ in range({count}):")
        self._read("string", key, emit.lines, depth + 2)
        self._read(schema["values"], item, emit.lines, depth + 2)
        emit.more(2, f"{target}[{key}] = {item}")
        self._long(count, emit.nested(1))

    def _union(self, branches: list[JsonSchema], target: str, lines: list[str], depth: int) -> None:
        emit = Emitter(lines, depth)
        index = self._name("branch")
        self._long(index, emit)
        if len(branches) <= _INLINE_UNION_BRANCHES:
            for i, branch in enumerate(branches):
                emit(f"{'if' if i == 0 else 'elif'} {index} == {i}:")
                self._read(branch, target, lines, depth + 1)
            emit("else:")
        else:
            readers = tuple(self.function(branch) for branch in branches)
            table = self._name("_branches")
            self.constants[table] = readers  # names for now; bound to functions after exec
            emit(f"if 0 <= {index} < {len(branches)}:")
            emit.more(1, f"{target}, pos = {table}[{index}](data, pos)")
            emit("else:")
        emit.more(1, "raise _broken('unknown union branch', pos)")


def compile_reader(
    schema: JsonSchema,
    logical: Mapping[str, LogicalReader] | None = None,
    make: Callable[..., Any] | None = None,
) -> Reader:
    """A reader ``(data, pos) -> (value, end)`` of ``schema``'s binary encoding.

    With ``make``, a record schema's value is ``make(*field_values)`` instead of a dict.
    """
    compiler = _Compiler(logical or {}, make)
    entry = compiler.function(schema)
    namespace = dict(compiler.constants)
    # the source is generated from the project's own Avro schemas, never from a record
    exec(compile(compiler.source(), f"<avro reader {entry}>", "exec"), namespace)  # noqa: S102
    for name, value in compiler.constants.items():
        if name.startswith("_branches"):
            namespace[name] = tuple(namespace[function] for function in value)
    reader: Reader = namespace[entry]
    return reader
