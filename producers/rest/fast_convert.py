"""The lean path of REST validation: JSON envelope -> Avro-ready dict in one pass, no error list.

:meth:`~tracesync.contracts.serde.EnvelopeSerde.from_json` walks the Avro nodes with a field
path and an error list at every step, so that a bad event is answered with every bad field
named. Most events are good: :class:`FastEnvelopeConverter` compiles the same nodes once into
plain closures that build no paths and stop at the first doubt, returning ``None``; the caller
then runs the full ``from_json``, which either names every problem or (when the lean path was
merely cautious) converts the event itself. The lean path accepts nothing ``from_json`` refuses
and gives the same dict for what it accepts (the unit tests check both, with Hypothesis).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from tracesync.contracts.avro_values import (
    ArrayNode,
    EnumNode,
    FieldErrors,
    Node,
    OptionalNode,
    Primitive,
    RecordNode,
)
from tracesync.contracts.envelope_shape import CODE_FIELDS, EnvelopeShape, code_problem
from tracesync.contracts.schemas import EVENT_TYPES, SchemaSet, current

Convert = Callable[[Any], Any]

_MISSING = object()
_REQUIRED = object()
_PAYLOAD = "payload"
_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_IMMUTABLE = (type(None), bool, int, float, str, bytes)


class _UnsureError(Exception):
    """The lean path gives up on this value; the full ``from_json`` decides."""


class FastEnvelopeConverter:
    """The Envelope's nodes compiled into closures; :meth:`convert` or ``None``."""

    def __init__(self, schemas: SchemaSet | None = None) -> None:
        shape = EnvelopeShape.of(schemas or current())
        compiled: dict[int, Convert] = {}
        self._head = _record(shape.envelope, compiled, exclude=_PAYLOAD)
        self._payloads = {
            event_type: _compile(node, compiled) for event_type, node in shape.payloads.items()
        }

    def convert(self, obj: Any) -> dict[str, Any] | None:
        """The Avro-ready envelope ``from_json`` would give, or ``None`` when unsure."""
        try:
            return self._convert(obj)
        except (_UnsureError, ArithmeticError, TypeError, ValueError, OverflowError):
            return None

    def _convert(self, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, Mapping) or _PAYLOAD not in obj:
            raise _UnsureError
        event_type = obj.get("event_type")
        info = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
        if info is None or obj.get("source_system") != info.source_system:
            raise _UnsureError
        if any(code_problem(obj.get(key)) for key in CODE_FIELDS):
            raise _UnsureError
        out: dict[str, Any] = self._head(obj)
        out[_PAYLOAD] = self._payloads[str(event_type)](obj[_PAYLOAD])
        return out


def _compile(node: Node, compiled: dict[int, Convert]) -> Convert:
    known = compiled.get(id(node))
    if known is not None:
        return known
    if isinstance(node, RecordNode):
        return _record(node, compiled)
    if isinstance(node, OptionalNode):
        inner = _compile(node.inner, compiled)
        return lambda value: None if value is None else inner(value)
    if isinstance(node, ArrayNode):
        item = _compile(node.items, compiled)
        return lambda value: _array(value, item)
    if isinstance(node, Primitive):
        return _primitive(node.kind) or _checked(node)
    if isinstance(node, EnumNode):
        return _enum(frozenset(node.symbols))
    return _checked(node)  # decimals, timestamps, dates, UUIDs, maps, unions: the node itself


def _record(node: RecordNode, compiled: dict[int, Convert], exclude: str | None = None) -> Convert:
    fields: list[tuple[str, Convert, Any]] = []  # filled below: a record may contain itself

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _UnsureError
        out: dict[str, Any] = {}
        present = 0
        get = value.get
        for name, field_convert, default in fields:
            item = get(name, _MISSING)
            if item is _MISSING:
                if default is _REQUIRED:
                    raise _UnsureError
                out[name] = default()
            else:
                out[name] = field_convert(item)
                present += 1
        known = present + (1 if exclude is not None and exclude in value else 0)
        if len(value) != known:  # a key that is no field of the record
            raise _UnsureError
        return out

    compiled[id(node)] = convert
    required = _required_fields(node)
    for name, (field_node, default) in node.fields.items():
        if name != exclude:
            factory = _REQUIRED if name in required else _default(field_node, default)
            fields.append((name, _compile(field_node, compiled), factory))
    return convert


def _required_fields(node: RecordNode) -> set[str]:
    """The fields without a default: those ``from_json`` of an empty object calls missing."""
    errors: FieldErrors = []
    node.from_json({}, "", errors)
    return {path for path, reason in errors if reason == "missing" and "." not in path}


def _default(node: Node, default: Any) -> Any:
    """A factory of the converted default of a field (_REQUIRED when from_json refuses it)."""
    errors: FieldErrors = []
    value = node.from_json(default, "", errors)
    if errors:
        return _REQUIRED  # let from_json say what is wrong
    if isinstance(value, _IMMUTABLE):
        return lambda: value
    return lambda: node.from_json(default, "", [])  # a fresh list or dict each time


def _array(value: Any, item: Convert) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _UnsureError
    return [item(v) for v in value]


def _primitive(kind: str) -> Convert | None:
    if kind == "string":
        return _string
    if kind in _INT_RANGE:
        low, high = _INT_RANGE[kind]
        return lambda value: _integer(value, low, high)
    if kind in ("float", "double"):
        return _float
    if kind == "boolean":
        return _boolean
    return None


def _string(value: Any) -> str:
    if isinstance(value, str) and "\x00" not in value:
        return value
    raise _UnsureError


def _integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    raise _UnsureError


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise _UnsureError


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _UnsureError


def _enum(symbols: frozenset[str]) -> Convert:
    def convert(value: Any) -> str:
        if isinstance(value, str) and value in symbols:
            return value
        raise _UnsureError

    return convert


def _checked(node: Node) -> Convert:
    """The node's own conversion, without a path; any problem is a doubt."""

    def convert(value: Any) -> Any:
        errors: FieldErrors = []
        out = node.from_json(value, "", errors)
        if errors:
            raise _UnsureError
        return out

    return convert
