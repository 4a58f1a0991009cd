"""Compile an Avro schema into a Python function that writes its binary encoding.

The counterpart of :mod:`tracesync.contracts.avro_reader`. fastavro's ``schemaless_writer``
walks the schema for every value and converts every logical type through a generic hook; for
the worker's ``TraceChain`` (dozens of decimals and timestamps per record) that walk cost more
than the rest of the publish. :func:`compile_writer` turns a fastavro-parsed schema into
straight-line Python source once: one function per named record, appending to a ``bytearray``,
with decimals, timestamps and dates converted inline and every other logical type through
fastavro's own ``LOGICAL_WRITERS``. The schema is the project's own, never data.

A record is read from a dict (fastavro's form; a missing field takes its default) or from any
other object by attribute, so that a frozen dataclass whose fields are the schema's is written
as it is, without a copy into a dict. Such an object is taken to be immutable: its bytes are
kept (a bounded cache per record type, keyed by identity and holding the object, so an identity
is never reused while cached) and written again when the same object comes again, as the
unchanged parts of a chain's successive views do. Decimal bytes are cached by value likewise.

What it writes is byte for byte what fastavro writes, with two documented differences: a
decimal with more fractional digits than the schema's scale is accepted when it is the same
number (``Decimal("1.500")`` at scale 2), and one whose unscaled value has more digits than the
precision is refused (fastavro counts the coefficient's digits instead). Unions are compiled when
they are a type and ``null`` (every union of the project's schemas); any other union raises
:class:`UnsupportedSchemaError` at compile time, and the caller keeps fastavro for that schema.
A value of the wrong type raises ``TypeError``, ``ValueError``, ``AttributeError`` or
``KeyError`` (an unknown enum symbol), never a partial record.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastavro.write import LOGICAL_WRITERS

from tracesync.contracts.avro_codegen import Emitter, SourceCompiler
from tracesync.contracts.schemas import JsonSchema

Writer = Callable[[bytearray, Any], None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_DAYS_SHIFT = date(1970, 1, 1).toordinal()
_MAX_ZIGZAG = 2**64
_DECIMAL_CACHE = 4096
_OBJECT_CACHE = 4096


class UnsupportedSchemaError(ValueError):
    """The schema uses a construct the compiler does not write (a union of several types)."""


def _varint(out: bytearray, n: int) -> None:
    """A zig-zagged value of several bytes (the generated code writes one-byte ones itself)."""
    if not 0 <= n < _MAX_ZIGZAG:
        raise ValueError("integer out of the range of an Avro long")
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _length(out: bytearray, n: int) -> None:
    if n < 64:
        out.append(n << 1)
    else:
        _varint(out, n << 1)


def _decimal(value: Any, scale: int, limit: int, cache: dict[Decimal, bytes]) -> bytes:
    """The two's-complement bytes of a decimal's unscaled value, as fastavro writes them.

    ``cache`` keeps the bytes of the decimals seen at this scale and precision (quantities
    repeat across a chain's fields and its versions); it is emptied when it grows large.
    """
    if type(value) is not Decimal:
        if isinstance(value, bytes | bytearray):  # already encoded, as fastavro lets through
            return bytes(value)
        if not isinstance(value, Decimal):
            raise TypeError(f"{type(value).__name__} is not a Decimal")
    scaled = value.scaleb(scale)
    unscaled = int(scaled)
    if scaled != unscaled:
        raise ValueError(f"{value} has more fractional digits than the scale {scale}")
    if not -limit < unscaled < limit:
        raise ValueError(f"{value} has more digits than the precision allows")
    encoded = unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True)
    if type(value) is Decimal:
        if len(cache) >= _DECIMAL_CACHE:
            cache.clear()
        cache[value] = encoded
    return encoded


def _millis(value: Any, schema: JsonSchema) -> int:
    """What fastavro makes of anything but an aware datetime (inlined by the compiled code)."""
    millis: int = LOGICAL_WRITERS["long-timestamp-millis"](value, schema)
    return millis


def _days(value: Any, schema: JsonSchema) -> int:
    if type(value) is date:
        return value.toordinal() - _DAYS_SHIFT
    days: int = LOGICAL_WRITERS["int-date"](value, schema)
    return days


_RUNTIME: dict[str, Any] = {
    "_varint": _varint,
    "_length": _length,
    "_decimal": _decimal,
    "_millis": _millis,
    "_days": _days,
    "_Decimal": Decimal,
    "_datetime": datetime,
    "_EPOCH": _EPOCH,
    "_MILLISECOND": _MILLISECOND,
    "_double": struct.Struct("<d").pack,
    "_float": struct.Struct("<f").pack,
}


class _Compiler(SourceCompiler):
    """Emits the source of the writer functions of one schema."""

    def __init__(self) -> None:
        super().__init__(_RUNTIME)

    def function(self, schema: JsonSchema) -> str:
        """A function ``(out, value) -> None`` writing ``schema``; returns its name."""
        schema = self._resolve(schema)
        if isinstance(schema, dict) and schema.get("type") in ("record", "error"):
            return self._record_function(schema)
        name = self._name("_write")
        lines = [f"def {name}(out, value):"]
        self._functions.append(lines)
        self._write(schema, "value", Emitter(lines, 1))
        lines.append("    return None")
        return name

    def _record_function(self, schema: JsonSchema) -> str:
        """A record from a dict (fastavro's form), or from an immutable object (see the module)."""
        fullname = schema["name"]
        if fullname in self._records:
            return self._records[fullname]
        name = self._records[fullname] = self._name("_record")
        cache = self._constant({}, "_objects")
        lines = [f"def {name}(out, rec):", "    if isinstance(rec, dict):", "        get = rec.get"]
        self._functions.append(lines)
        values = [(field, self._name("v")) for field in schema["fields"]]
        from_attributes = []
        for field, value in values:
            if "default" in field:
                default = self._constant(field["default"], "_default")
                lines.append(f"        {value} = get({field['name']!r}, {default})")
                from_attributes.append(f"{value} = getattr(rec, {field['name']!r}, {default})")
            else:
                lines.append(f"        {value} = get({field['name']!r})")
                from_attributes.append(f"{value} = rec.{field['name']}")
        self._fields(values, Emitter(lines, 2))
        lines.append("        return None")
        emit = Emitter(lines, 1)
        emit(f"hit = {cache}.get(id(rec))")
        emit("if hit is not None and hit[0] is rec:")
        emit.more(1, "out += hit[1]")
        emit.more(1, "return None")
        emit("start = len(out)")
        for line in from_attributes:
            emit(line)
        self._fields(values, emit)
        emit(f"if len({cache}) >= {_OBJECT_CACHE}:")
        emit.more(1, f"{cache}.clear()")
        emit(f"{cache}[id(rec)] = (rec, bytes(out[start:]))")
        emit("return None")
        return name

    def _fields(self, values: list[tuple[JsonSchema, str]], emit: Emitter) -> None:
        for field, value in values:
            self._write(field["type"], value, emit)

    def _write(self, schema: JsonSchema, value: str, emit: Emitter) -> None:
        schema = self._resolve(schema)
        if isinstance(schema, list):
            self._union(schema, value, emit)
            return
        kind = schema if isinstance(schema, str) else schema["type"]
        if kind in ("record", "error"):
            emit(f"{self._record_function(schema)}(out, {value})")
        elif kind == "enum":
            indexes = {symbol: bytes([i << 1]) for i, symbol in enumerate(schema["symbols"])}
            if len(indexes) >= 64:
                raise UnsupportedSchemaError("enums of more than 63 symbols are not compiled")
            emit(f"out += {self._constant(indexes, '_symbols')}[{value}]")
        elif kind == "array":
            self._array(schema, value, emit)
        elif kind == "map":
            self._map(schema, value, emit)
        else:
            logical = schema.get("logicalType") if isinstance(schema, dict) else None
            self._scalar(kind, logical, schema, value, emit)

    def _scalar(
        self, kind: str, logical: str | None, schema: JsonSchema, value: str, emit: Emitter
    ) -> None:
        key = f"{kind}-{logical}"
        if key == "bytes-decimal":
            limit = 10 ** int(schema["precision"])
            cache = self._constant({}, "_decimals")
            emit(f"b = {cache}.get({value})")
            emit(f"if b is None or type({value}) is not _Decimal:")
            scale = int(schema.get("scale", 0))
            emit.more(1, f"b = _decimal({value}, {scale}, {limit}, {cache})")
            self._bytes("b", emit)
            return
        if key == "long-timestamp-millis":
            emit(f"if type({value}) is _datetime and {value}.tzinfo is not None:")
            emit.more(1, f"{value} = ({value} - _EPOCH) // _MILLISECOND")
            emit("else:")
            emit.more(1, f"{value} = _millis({value}, {self._constant(schema, '_schema')})")
        elif key == "int-date":
            emit(f"{value} = _days({value}, {self._constant(schema, '_schema')})")
        elif logical is not None and key in LOGICAL_WRITERS:
            prepare = self._constant(LOGICAL_WRITERS[key], "_logical")
            emit(f"{value} = {prepare}({value}, {self._constant(schema, '_schema')})")
        self._primitive(kind, schema, value, emit)

    def _primitive(self, kind: str, schema: JsonSchema, value: str, emit: Emitter) -> None:
        if kind == "null":
            emit(f"if {value} is not None:")
            emit.more(1, f"raise TypeError('null field holds ' + repr({value}))")
        elif kind == "boolean":
            emit(f"out.append(1 if {value} else 0)")
        elif kind in ("int", "long"):
            emit(f"n = ({value} << 1) ^ ({value} >> 63)")
            emit("if 0 <= n < 128:")
            emit.more(1, "out.append(n)")
            emit("else:")
            emit.more(1, "_varint(out, n)")
        elif kind in ("float", "double"):
            emit(f"out += _{kind}({value})")
        elif kind in ("bytes", "string"):
            encoded = f"{value}.encode()" if kind == "string" else value
            emit(f"b = {encoded}")
            self._bytes("b", emit)
        elif kind == "fixed":
            emit(f"if len({value}) != {int(schema['size'])}:")
            emit.more(1, "raise ValueError('fixed value of the wrong size')")
            emit(f"out += {value}")
        else:
            raise UnsupportedSchemaError(f"cannot compile a writer for Avro type {kind!r}")

    @staticmethod
    def _bytes(value: str, emit: Emitter) -> None:
        emit(f"n = len({value})")
        emit("if n < 64:")
        emit.more(1, "out.append(n << 1)")
        emit("else:")
        emit.more(1, "_varint(out, n << 1)")
        emit(f"out += {value}")

    def _array(self, schema: JsonSchema, value: str, emit: Emitter) -> None:
        item = self._name("item")
        emit(f"if {value}:")
        emit.more(1, f"_length(out, len({value}))")
        emit.more(1, f"for {item} in {value}:")
        self._write(schema["items"], item, emit.nested(2))
        emit("out.append(0)")

    def _map(self, schema: JsonSchema, value: str, emit: Emitter) -> None:
        key, item = self._name("key"), self._name("item")
        emit(f"if {value}:")
        emit.more(1, f"_length(out, len({value}))")
        emit.more(1, f"for {key}, {item} in {value}.items():")
        self._write("string", key, emit.nested(2))
        self._write(schema["values"], item, emit.nested(2))
        emit("out.append(0)")

    def _union(self, branches: list[JsonSchema], value: str, emit: Emitter) -> None:
        kinds = [b if isinstance(b, str) else b.get("type") for b in branches]
        if "null" not in kinds or len(branches) > 2:
            raise UnsupportedSchemaError(f"union {kinds} is not null and one type")
        null = kinds.index("null")
        emit(f"if {value} is None:")
        emit.more(1, f"out.append({null << 1})")
        if len(branches) == 1:
            emit("else:")
            emit.more(1, f"raise TypeError('null union holds ' + repr({value}))")
            return
        emit("else:")
        emit.more(1, f"out.append({(1 - null) << 1})")
        self._write(branches[1 - null], value, emit.nested(1))


def compile_writer(schema: JsonSchema) -> Writer:
    """A writer ``(out, value)`` appending ``schema``'s binary encoding of ``value`` to ``out``.

    Raises :class:`UnsupportedSchemaError` for a schema it does not compile.
    """
    compiler = _Compiler()
    entry = compiler.function(schema)
    namespace = dict(compiler.constants)
    # the source is generated from the project's own Avro schemas, never from a record
    exec(compile(compiler.source(), f"<avro writer {entry}>", "exec"), namespace)  # noqa: S102
    writer: Writer = namespace[entry]
    return writer
